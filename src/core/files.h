// Small files written whole or not at all.
#pragma once
#include <filesystem>
#include <string>

namespace lrtune {

// Writes `text` to a temporary file beside `path`, then renames it over `path`:
// readers (and a process killed mid-write) see the old file or the new one,
// never half of one. Throws StoreError naming the file when it cannot.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace lrtune
