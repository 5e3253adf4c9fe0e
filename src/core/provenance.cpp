// Version strings baked in at build time (git_commit() is generated on every
// build by cmake/git_commit.cmake).
#include "core/provenance.h"

#include <torch/version.h>

#include "core/process.h"

namespace lrtune {

std::string lrtune_version() { return LRTUNE_VERSION; }
std::string torch_version() { return TORCH_VERSION; }
std::string version_line() {
  return "lrtune " + lrtune_version() + " (commit " + git_commit() + ", LibTorch " +
         torch_version() + ")";
}

nlohmann::json run_provenance(const std::string& device, int threads, std::int64_t seed) {
  return {{"lrtune", lrtune_version()}, {"git_commit", git_commit()},
          {"libtorch", torch_version()}, {"device", device},
          {"threads", threads},          {"seed", seed},
          {"host", host_name()}};
}

}  // namespace lrtune
