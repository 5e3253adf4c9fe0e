// What produced a result: lrtune version, git commit, LibTorch version.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lrtune {

std::string lrtune_version();  // "0.1.0"
std::string git_commit();      // short hash at build time (+"-dirty"), or "unknown"
std::string torch_version();   // e.g. "1.13.1"
std::string version_line();    // one line with all three

// What a run records about itself: the three versions, device, thread count,
// seed and host.
nlohmann::json run_provenance(const std::string& device, int threads, std::int64_t seed);

}  // namespace lrtune
