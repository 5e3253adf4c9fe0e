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

namespace {
std::string text_of(const nlohmann::json& p, const char* key, const std::string& otherwise) {
  return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : otherwise;
}
}  // namespace

std::string mixed_data_warning(const std::vector<nlohmann::json>& provenances) {
  std::map<std::string, std::map<std::string, int>> trials_per_print;  // per kind
  for (const auto& p : provenances)
    if (p.is_object() && p.contains(kDataFingerprintKey) && p[kDataFingerprintKey].is_string())
      ++trials_per_print[text_of(p, kDataSetKey, "cifar10")][p[kDataFingerprintKey].get<std::string>()];
  for (const auto& [kind, prints] : trials_per_print) {
    if (prints.size() < 2) continue;
    std::string counts;
    for (const auto& [print, n] : prints)
      counts += (counts.empty() ? "" : "; ") + print + ": " + std::to_string(n) +
                (n == 1 ? " trial" : " trials");
    return "warning: these trials were trained on " + std::to_string(prints.size()) +
           " different copies of the data" + (kind == "cifar10" ? "" : " (" + kind + ")") +
           " (data fingerprint " + counts + "); results from different copies may not compare";
  }
  return "";
}

std::string data_sets_line(const std::vector<nlohmann::json>& provenances) {
  std::map<std::string, int> trials_per_set;
  for (const auto& p : provenances) {
    if (!p.is_object() || !p.contains(kDataFingerprintKey)) continue;
    const std::string kind = text_of(p, kDataSetKey, "cifar10");
    const std::string shape = text_of(p, kDataShapeKey, kind == "cifar10" ? "3x32x32, 10 classes" : "");
    ++trials_per_set[kind + (shape.empty() ? "" : " (" + shape + ")")];
  }
  if (trials_per_set.size() == 1) return trials_per_set.begin()->first;
  std::string line;
  for (const auto& [set, n] : trials_per_set)
    line += (line.empty() ? "" : "; ") + set + ": " + std::to_string(n) + (n == 1 ? " trial" : " trials");
  return line;
}

}  // namespace lrtune
