// Reads TensorBoard event files the way an outside tool does, not with
// lrtune's own reader: tests/tools/tfrecord_split.py splits the records and
// checks both CRC-32Cs with crcmod; `protoc --decode_raw` decodes each.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace lrtune::test {

// Why event files cannot be decoded here ("" when they can).
inline std::string event_decoder_missing() {
  if (run_command("command -v protoc >/dev/null") != 0)
    return "protoc not installed (scripts/setup.sh installs protobuf-compiler)";
  if (run_command("/usr/bin/python3 -c 'import crcmod.predefined' 2>/dev/null") != 0)
    return "Debian's python3-crcmod not installed (scripts/setup.sh installs it)";
  return "";
}

// Every record of `file` as protoc --decode_raw prints it; fails the test
// (and returns what it read) on a bad CRC or a record protoc cannot decode.
inline std::vector<std::string> decode_event_file(const std::filesystem::path& file,
                                                  const std::filesystem::path& work) {
  const std::string script = std::string(LRTUNE_SOURCE_DIR) + "/tests/tools/tfrecord_split.py";
  std::filesystem::remove_all(work);
  std::string out;
  const int rc = run_command("/usr/bin/python3 '" + script + "' '" + file.string() + "' '" +
                                 work.string() + "'", &out);
  EXPECT_EQ(rc, 0) << file << ": " << out;
  std::vector<std::string> records;
  for (int n = 0; rc == 0 && n < std::stoi(out); ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "record-%04d.bin", n);
    std::string text;
    EXPECT_EQ(run_command("protoc --decode_raw < '" + (work / name).string() + "'", &text), 0) << text;
    records.push_back(text);
  }
  return records;
}

// The event files directly in `folder`.
inline std::vector<std::filesystem::path> event_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.path().filename().string().find("tfevents") != std::string::npos) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The top-level step of a decoded event ("2: 5"), if it has one.
inline std::optional<std::int64_t> decoded_step(const std::string& record) {
  const auto at = record.find("\n2: ");
  if (at == std::string::npos) return std::nullopt;
  return std::stoll(record.substr(at + 4));
}

// A scalar's value: the fixed32 after `1: "tag"` read as a float.
inline std::optional<float> decoded_scalar(const std::string& record, const std::string& tag) {
  const auto at = record.find("1: \"" + tag + "\"\n");
  if (at == std::string::npos) return std::nullopt;
  const auto value = record.find("2: 0x", at);
  if (value == std::string::npos) return std::nullopt;
  const auto bits = static_cast<std::uint32_t>(std::stoul(record.substr(value + 5, 8), nullptr, 16));
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace lrtune::test
