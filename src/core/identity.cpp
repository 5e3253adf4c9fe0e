// Identity hashing and the frozen key table of lrtune 0.1.
#include "core/identity.h"

#include <cinttypes>
#include <cstdio>
#include <utility>
#include <vector>

namespace lrtune {
namespace {

using json = nlohmann::json;

// lrtune 0.1's identity keys and their defaults. Never edit: stored 0.1
// databases are migrated with exactly this table.
const std::vector<std::pair<const char*, json>>& v01_keys() {
  static const std::vector<std::pair<const char*, json>> keys = {
      {"augment", "flipcrop"},      {"batch_size", 128},
      {"dampening", 0.0},           {"epochs", 15},
      {"gamma", 0.2},               {"lr", 0.01},
      {"milestones", json::array({50, 100, 150})},
      {"min_lr", 0.0},              {"model", "reference_cnn"},
      {"momentum", 0.0},            {"nesterov", false},
      {"schedule", "constant"},     {"seed", 1},
      {"step_size", 30},            {"train_subset", 0},
      {"val_size", 5000},           {"warmup_epochs", 0.0},
      {"weight_decay", 0.0},
  };
  return keys;
}

}  // namespace

std::string identity_hash(const json& canonical) {
  const std::string text = canonical.dump();
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

std::string v01_trial_id(const json& v01_config) {
  json full = json::object();
  for (const auto& [key, def] : v01_keys()) full[key] = v01_config.value(key, def);
  return identity_hash(full);
}

json v01_identity(const json& v01_config) {
  json out = json::object();
  for (const auto& [key, def] : v01_keys()) {
    json v = v01_config.value(key, def);
    if (v != def) out[key] = std::move(v);
  }
  return out;
}

}  // namespace lrtune
