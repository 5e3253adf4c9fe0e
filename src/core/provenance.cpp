// Version strings baked in at build time (git_commit() is generated on every
// build by cmake/git_commit.cmake).
#include "core/provenance.h"

#include <map>

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

std::string mixed_data_warning(const std::vector<nlohmann::json>& provenances) {
  std::map<std::string, int> trials_per_print;
  for (const auto& p : provenances)
    if (p.is_object() && p.contains(kDataFingerprintKey) && p[kDataFingerprintKey].is_string())
      ++trials_per_print[p[kDataFingerprintKey].get<std::string>()];
  if (trials_per_print.size() < 2) return "";
  std::string counts;
  for (const auto& [print, n] : trials_per_print)
    counts += (counts.empty() ? "" : "; ") + print + ": " + std::to_string(n) +
              (n == 1 ? " trial" : " trials");
  return "warning: these trials were trained on " + std::to_string(trials_per_print.size()) +
         " different copies of the data (data fingerprint " + counts +
         "); results from different copies may not compare";
}

}  // namespace lrtune
