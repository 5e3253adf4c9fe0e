// Small files written whole or not at all.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>

namespace lrtune {

// Writes `size` bytes to a temporary file beside `path` (POSIX write, fsync,
// close, each checked), then renames it over `path`: readers (and a process
// killed mid-write) see the old file or the new one, never half of one. On
// any failure the temporary file is removed, so a full disk is not left full,
// and StoreError names the file and says why in errno's words (NoSpaceError
// for a full disk: "...: No space left on device").
void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t size);

inline void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

// A whole file's bytes; StoreError naming the file when it cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);
// write_file_atomically, making the file's folder first.
void write_file_in_folder(const std::filesystem::path& path, const std::string& bytes);

// A name made from a label, fit for one file or folder name: `name` itself
// when it has at most `max_bytes` bytes, else its start (cut at a character
// boundary) and "-" and 8 hex digits of its CRC-32C, so that long labels stay
// distinct and within the 255 bytes a file system allows. Files keep the
// full label inside them.
std::string bounded_file_name(const std::string& name, std::size_t max_bytes = 120);

}  // namespace lrtune
