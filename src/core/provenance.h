// What produced a result: lrtune version, git commit, LibTorch version.
#pragma once
#include <string>

namespace lrtune {

std::string lrtune_version();  // "0.1.0"
std::string git_commit();      // short hash at build time (+"-dirty"), or "unknown"
std::string torch_version();   // e.g. "1.13.1"
std::string version_line();    // one line with all three

}  // namespace lrtune
