#include "core/files.h"

#include <fstream>
#include <system_error>

#include "core/errors.h"

namespace lrtune {
namespace fs = std::filesystem;

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw StoreError(tmp.string() + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw StoreError(path.string() + ": cannot replace: " + ec.message());
  }
}

}  // namespace lrtune
