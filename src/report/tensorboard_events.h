// TensorBoard event files: the TFRecord framing (length, data, masked
// CRC-32C of each), lrtune's file names, and reading back what a folder
// holds. Internal to the exporter (it includes the generated messages).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tb_event.pb.h"

namespace lrtune::report::tb {

using Event = ::lrtune::tb::Event;  // generated from proto/tb_event.proto

// The first record of every event file.
constexpr const char* kFileVersion = "brain.Event:2";

// "events.out.tfevents.<secs>.<host>.<pid>.lrtune" in `folder`, a name no
// file there has yet (a counter follows the pid when needed).
std::filesystem::path new_event_file(const std::filesystem::path& folder);

// Whether `file` is an event file TensorBoard reads, and one lrtune wrote.
bool is_event_file(const std::filesystem::path& file);
bool is_lrtune_event_file(const std::filesystem::path& file);

// Creates `folder` (and its parents); StoreError naming it when it cannot.
void make_folder(const std::filesystem::path& folder);

// Appends `events` to `file`, creating it with the file-version record when
// it does not exist. StoreError naming the file when it cannot be written.
void append_events(const std::filesystem::path& file, const std::vector<Event>& events);

// The events of every event file directly in `folder`, files in name order.
// A file's reading stops at a torn or corrupt record (a writer killed
// mid-record), keeping what came before it.
std::vector<Event> read_events(const std::filesystem::path& folder);

// Deletes the event files lrtune wrote directly in `folder` (never others).
void remove_lrtune_event_files(const std::filesystem::path& folder);

// The TFRecord framing of one record.
std::string frame_record(const std::string& data);

}  // namespace lrtune::report::tb
