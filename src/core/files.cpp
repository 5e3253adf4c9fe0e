// Files written whole or not at all, every write, fsync, close and rename checked.
#include "core/files.h"

#include <cstdio>

#include "core/checksum.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <cstring>
#include <system_error>

#include "core/errors.h"

namespace lrtune {
namespace fs = std::filesystem;
namespace {

// errno's words, and for a refusal what to look at.
std::string reason(int err) {
  std::string text = std::strerror(err);
  if (err == EPERM || err == EACCES || err == EROFS)
    text += " (the file or its folder is read-only, on a read-only disk, or immutable: "
            "`lsattr` shows an 'i'; make it writable and run the command again)";
  return text;
}

// The error for a failed write (`what`: "cannot write", "cannot replace") of
// `file`; the temporary file `tmp` is removed first.
[[noreturn]] void fail(const fs::path& file, const fs::path& tmp, int err,
                       const char* what = "cannot write") {
  std::error_code ec;
  fs::remove(tmp, ec);
  const std::string msg = file.string() + ": " + what + ": " + reason(err);
  if (err == ENOSPC || err == EDQUOT) throw NoSpaceError(msg);
  throw StoreError(msg);
}

// Writes every byte (write() may write fewer than asked); 0 or errno.
int write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

}  // namespace

std::string read_file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StoreError(path.string() + ": cannot open: " + std::strerror(errno));
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  if (in.bad()) throw StoreError(path.string() + ": cannot read");
  return bytes;
}

void write_file_in_folder(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) throw StoreError(path.parent_path().string() + ": cannot create: " + ec.message());
  write_file_atomically(path, bytes.data(), bytes.size());
}

void write_file_atomically(const fs::path& path, const void* data, std::size_t size) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, tmp, errno);
  int err = write_all(fd, static_cast<const char*>(data), size);
  // A full disk may only show at fsync or close (delayed allocation, NFS).
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (err) fail(path, tmp, err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(path, tmp, errno, "cannot replace");
}

std::string bounded_file_name(const std::string& name, std::size_t max_bytes) {
  if (name.size() <= max_bytes) return name;
  char tag[10];
  std::snprintf(tag, sizeof tag, "-%08x", static_cast<unsigned>(crc32c(name.data(), name.size())));
  std::size_t keep = max_bytes > 9 ? max_bytes - 9 : 0;
  // Not inside a UTF-8 sequence: back up over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
  return name.substr(0, keep) + tag;
}

}  // namespace lrtune
