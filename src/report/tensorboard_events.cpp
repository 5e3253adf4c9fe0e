// TFRecord framing for TensorBoard: uint64 length (little-endian), masked
// CRC-32C of those 8 bytes, the data, masked CRC-32C of the data.
#include "report/tensorboard_events.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>

#include "core/checksum.h"
#include "core/errors.h"
#include "core/process.h"

namespace lrtune::report::tb {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "events.out.tfevents.";
constexpr const char* kSuffix = ".lrtune";

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const std::string& in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::uint32_t masked(const std::string& s, std::size_t at, std::size_t n) {
  return masked_crc32c(s.data() + at, n);
}

// The events of one file, up to its first torn or corrupt record.
void read_file_events(const fs::path& file, std::vector<Event>& out) {
  std::ifstream in(file, std::ios::binary);
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t at = 0; at + 12 <= s.size();) {
    const std::uint64_t n = get_le(s, at, 8);
    if (get_le(s, at + 8, 4) != masked(s, at, 8) || n > s.size() - at - 12 ||
        s.size() - at - 12 - n < 4)
      return;
    if (get_le(s, at + 12 + n, 4) != masked(s, at + 12, n)) return;
    Event e;
    if (!e.ParseFromArray(s.data() + at + 12, static_cast<int>(n))) return;
    out.push_back(std::move(e));
    at += 12 + n + 4;
  }
}

}  // namespace

std::string frame_record(const std::string& data) {
  std::string out;
  put_le(out, data.size(), 8);
  put_le(out, masked(out, 0, 8), 4);
  out += data;
  put_le(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

fs::path new_event_file(const fs::path& folder) {
  const std::string stem = kPrefix + std::to_string(static_cast<long long>(std::time(nullptr))) +
                           "." + host_name() + "." + std::to_string(getpid());
  fs::path file = folder / (stem + kSuffix);
  for (int i = 1; fs::exists(file); ++i) file = folder / (stem + "-" + std::to_string(i) + kSuffix);
  return file;
}

bool is_event_file(const fs::path& file) {
  return file.filename().string().find("tfevents") != std::string::npos;
}

bool is_lrtune_event_file(const fs::path& file) {
  const std::string name = file.filename().string();
  return name.rfind(kPrefix, 0) == 0 && name.size() > std::string(kSuffix).size() &&
         name.compare(name.size() - std::string(kSuffix).size(), std::string::npos, kSuffix) == 0;
}

void make_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder))
    throw StoreError(folder.string() + ": cannot create the TensorBoard folder: " +
                     (ec ? ec.message() : "not a folder"));
}

void append_events(const fs::path& file, const std::vector<Event>& events) {
  std::string bytes;
  if (!fs::exists(file)) {
    Event version;
    version.set_wall_time(static_cast<double>(std::time(nullptr)));
    version.set_file_version(kFileVersion);
    bytes += frame_record(version.SerializeAsString());
  }
  for (const auto& e : events) bytes += frame_record(e.SerializeAsString());
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw StoreError(file.string() + ": cannot write the TensorBoard event file");
}

std::vector<Event> read_events(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && is_event_file(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Event> out;
  for (const auto& f : files) read_file_events(f, out);
  return out;
}

void remove_lrtune_event_files(const fs::path& folder) {
  std::error_code ec;
  std::vector<fs::path> ours;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && is_lrtune_event_file(entry.path())) ours.push_back(entry.path());
  for (const auto& f : ours)
    if (!fs::remove(f, ec) && ec)
      throw StoreError(f.string() + ": cannot remove the old event file: " + ec.message());
}

}  // namespace lrtune::report::tb
