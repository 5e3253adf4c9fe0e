// Trial identity: what a trial's id is hashed from, and the ids of lrtune 0.1
// that schema migrations translate.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace lrtune {

// 16 hex digits: FNV-1a 64 of the canonical JSON (sorted keys, compact).
std::string identity_hash(const nlohmann::json& canonical);

// Identities of lrtune 0.1 hashed every result-changing key of that release,
// defaults included. Given a configuration as 0.1 stored it (a full flat
// object), these give its 0.1 id and the canonical form of today's scheme
// (only values that differ from 0.1's defaults; keys added since are at their
// defaults, so they do not appear). Both use 0.1's key table, frozen here.
std::string v01_trial_id(const nlohmann::json& v01_config);
nlohmann::json v01_identity(const nlohmann::json& v01_config);

}  // namespace lrtune
