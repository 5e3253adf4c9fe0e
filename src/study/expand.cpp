// Grid expansion, labels and trial identity.
#include "study/expand.h"

#include <algorithm>
#include <set>

#include "core/errors.h"
#include "core/format.h"
#include "core/identity.h"
#include "core/provenance.h"

namespace lrtune {
namespace {

using json = nlohmann::json;

// One axis of the cross product: its i-th entry sets one or more keys.
struct Axis {
  std::vector<std::string> keys;
  std::vector<json> entries;  // each an object {key: value, ...}
};

std::vector<Axis> axes_of(const Sweep& s) {
  std::vector<Axis> axes;
  for (const auto& [key, values] : s.grid) {
    Axis a{{key}, {}};
    for (const auto& v : values) a.entries.push_back(json{{key, v}});
    axes.push_back(std::move(a));
  }
  for (const auto& group : s.zips) {
    Axis a;
    for (const auto& c : group) a.keys.push_back(c.first);
    for (std::size_t i = 0; i < group.front().second.size(); ++i) {
      json entry = json::object();
      for (const auto& [key, values] : group) entry[key] = values[i];
      a.entries.push_back(std::move(entry));
    }
    axes.push_back(std::move(a));
  }
  return axes;
}

void apply_overrides(TrainConfig& cfg, const Overrides& o) {
  for (const auto& [key, text] : o.set) {
    const ConfigField* f = find_config_field(key);
    if (f && !f->identity())
      throw ConfigError("--set " + key + ": does not change results; use the study run flags "
                        "(--device, --threads-per-job, --data) for where a study runs");
    apply_text(cfg, key, text, "--set");
  }
  if (o.epochs) cfg.epochs = *o.epochs;
  if (o.train_subset) cfg.train_subset = *o.train_subset;
}

// The values a check of `p` tries: the ends of its range, or its choices.
std::vector<json> ends_of(const search::Param& p) {
  if (p.dist == search::Dist::choice) return {p.choices.begin(), p.choices.end()};
  return {p.value(p.low), p.value(p.high)};
}

// A pruner that could never stop a trial (its first rung, or the epochs it
// never prunes, at or past the last epoch) searches nothing a plain search
// would not: refused, naming the key.
void check_pruner_acts(const Study& study, const TrainConfig& base) {
  const search::SearchSpec& spec = *study.search;
  const std::int64_t epochs = spec.most_epochs(base.epochs);
  const auto refuse = [&](const std::string& key, std::int64_t value, const std::string& what) {
    throw ConfigError(study.file + ": search." + key + ": " + std::to_string(value) +
                      " is not below the trials' " + std::to_string(epochs) + " epochs, so " +
                      what + " never stops a trial; lower it, or use pruner = \"none\"");
  };
  if (spec.pruner == "asha" && spec.min_epochs >= epochs)
    refuse("asha_min_epochs", spec.min_epochs, "ASHA");
  if (spec.pruner == "hyperband" && spec.hyperband_min_epochs >= epochs)
    refuse("hyperband_min_epochs", spec.hyperband_min_epochs, "Hyperband");
  if (spec.pruner == "median" && spec.prune_warmup_epochs >= epochs)
    refuse("median_warmup_epochs", spec.prune_warmup_epochs, "the median pruner");
}

// Each end of each searched range (each choice) set alone on the base must be
// a valid configuration: a range no trial could train is refused up front. A
// conditional key is tried with its condition's key at an end that meets it.
Expansion search_expansion(const Study& study, const Overrides& overrides) {
  const TrainConfig base = study_base(study, overrides);
  base.validate(study.file + " (base)");
  check_pruner_acts(study, base);
  Expansion out;
  for (const auto& p : study.search->space) {
    out.swept_keys.push_back(p.key);
    json with = json::object();
    if (p.when)
      for (const auto& v : ends_of(*study.search->find(p.when->key)))
        if (v.is_number() && p.when->holds(v.get<double>())) with[p.when->key] = v;
    for (const auto& v : ends_of(p)) {
      TrainConfig cfg = base;
      const std::string where = study.file + ": search.space." + p.key + " = " + v.dump();
      with[p.key] = v;
      apply_json(cfg, with, where);
      cfg.validate(where + " with [base]");
    }
  }
  return out;
}

std::string make_label(const std::string& sweep, const std::vector<std::string>& keys,
                       const TrainConfig& cfg, std::int64_t repeats, std::int64_t rep) {
  std::string label = sweep;
  for (const auto& key : keys)
    label += (label.empty() ? "" : " ") + key + "=" + label_value(cfg, key);
  if (repeats > 1) label += (label.empty() ? "" : " ") + std::string("rep=") + std::to_string(rep + 1);
  return label.empty() ? "base" : label;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

std::uint64_t sweep_points(const Sweep& s) {
  std::uint64_t n = 1;
  for (const auto& [key, values] : s.grid) n = saturating_mul(n, values.size());
  for (const auto& group : s.zips) n = saturating_mul(n, group.front().second.size());
  return n;
}

// "sweep 'lr': 10 x 10 x 100" for each sweep, so the user sees where the size comes from.
std::string size_breakdown(const Study& study) {
  std::string out;
  for (std::size_t i = 0; i < study.sweeps.size(); ++i) {
    const Sweep& s = study.sweeps[i];
    std::string factors;
    for (const auto& [key, values] : s.grid)
      factors += (factors.empty() ? "" : " x ") + std::to_string(values.size()) + " " + key;
    for (const auto& group : s.zips)
      factors += (factors.empty() ? "" : " x ") + std::to_string(group.front().second.size()) +
                 " " + group.front().first + "+...";
    out += (out.empty() ? "" : "; ") + std::string("sweep[") + std::to_string(i + 1) + "]" +
           (s.name.empty() ? "" : " '" + s.name + "'") + ": " +
           (factors.empty() ? "1" : factors);
  }
  if (study.repeats > 1) out += (out.empty() ? "" : "; ") + std::string("times ") +
                                std::to_string(study.repeats) + " repeats";
  return out;
}

void check_size(const Study& study) {
  const std::uint64_t n = count_points(study);
  if (n <= kMaxStudyPoints) return;
  throw ConfigError(study.file + ": the study has " +
                    (n == UINT64_MAX ? std::string("more than 10^19") : format_count(double(n))) +
                    " points (" + size_breakdown(study) + "); lrtune runs at most " +
                    format_count(double(kMaxStudyPoints)) +
                    " per study. Use fewer values per key, or split the grid into several "
                    "study files (docs/studies.md)");
}

}  // namespace

std::uint64_t count_points(const Study& study) {
  std::uint64_t n = study.sweeps.empty() ? 1 : 0;
  for (const auto& s : study.sweeps) {
    const std::uint64_t k = sweep_points(s);
    n = k > UINT64_MAX - n ? UINT64_MAX : n + k;
  }
  return saturating_mul(n, static_cast<std::uint64_t>(std::max<std::int64_t>(1, study.repeats)));
}

json Overrides::to_json() const {
  json j = json::object();
  if (epochs) j["epochs"] = *epochs;
  if (train_subset) j["train_subset"] = *train_subset;
  for (const auto& [k, v] : set) j["set"][k] = v;
  return j;
}

std::vector<std::string> Expansion::ids() const {
  std::vector<std::string> out;
  for (const auto& t : trials) out.push_back(t.id);
  return out;
}

std::string trial_id(const TrainConfig& cfg) { return identity_hash(identity_json(cfg)); }

std::string label_value(const TrainConfig& cfg, const std::string& key) {
  const ConfigField* f = find_config_field(key);
  if (!f) return "?";
  if (f->spec.type == KeyType::boolean) return field_value(cfg, *f).get<bool>() ? "on" : "off";
  return field_text(cfg, *f);
}

TrainConfig study_base(const Study& study, const Overrides& overrides) {
  TrainConfig base;
  apply_json(base, study.base, study.file + ": base");
  apply_overrides(base, overrides);
  return base;
}

Expansion expand_study(const Study& study, const Overrides& overrides) {
  if (study.search) return search_expansion(study, overrides);
  check_size(study);
  TrainConfig base;
  apply_json(base, study.base, study.file + ": base");
  std::vector<Sweep> sweeps = study.sweeps;
  if (sweeps.empty()) sweeps.emplace_back();  // the base configuration alone

  Expansion out;
  std::set<std::string> seen_ids, seen_keys;
  for (const auto& sweep : sweeps) {
    const std::vector<Axis> axes = axes_of(sweep);
    std::vector<std::string> keys;
    for (const auto& a : axes) keys.insert(keys.end(), a.keys.begin(), a.keys.end());
    for (const auto& k : keys)
      if (seen_keys.insert(k).second) out.swept_keys.push_back(k);

    std::vector<std::size_t> pos(axes.size(), 0);  // odometer, last axis fastest
    for (bool more = true; more;) {
      TrainConfig point = base;
      apply_json(point, sweep.set, study.file + ": sweep set");
      json values = json::object();
      for (std::size_t a = 0; a < axes.size(); ++a) {
        apply_json(point, axes[a].entries[pos[a]], study.file + ": sweep");
        values.update(axes[a].entries[pos[a]]);
      }
      apply_overrides(point, overrides);
      for (std::int64_t rep = 0; rep < study.repeats; ++rep) {
        TrainConfig cfg = point;
        cfg.seed += rep;
        const std::string label = make_label(sweep.name, keys, cfg, study.repeats, rep);
        cfg.validate(study.file + " (trial '" + label + "')");
        const std::string id = trial_id(cfg);
        json v = values;
        if (study.repeats > 1) v["seed"] = cfg.seed;
        out.points.push_back({sweep.name, label, id, v});
        if (seen_ids.insert(id).second)
          out.trials.push_back({id, label, to_json(cfg), rep, cfg.epochs});
      }
      more = false;
      for (std::size_t a = axes.size(); a-- > 0;) {
        if (++pos[a] < axes[a].entries.size()) {
          more = true;
          break;
        }
        pos[a] = 0;
      }
    }
  }
  if (study.repeats > 1 && seen_keys.insert("seed").second) out.swept_keys.push_back("seed");
  return out;
}

StudyInfo study_info(const Study& study, const Overrides& overrides, const Expansion& e) {
  json points = json::array();
  for (const auto& p : e.points)
    points.push_back({{"sweep", p.sweep}, {"label", p.label}, {"id", p.id}, {"values", p.values}});
  json spec = {{"file", study.file},
               {"study", study.source},
               {"overrides", overrides.to_json()},
               {"swept_keys", e.swept_keys},
               {"points", points},
               {"lrtune", version_line()}};
  if (study.search) {
    const TrainConfig base = study_base(study, overrides);
    spec["search"] = {{"table", study.source.at("search")},
                      {"file", study.file},
                      {"base", to_json(base)},
                      {"identity", {{"search", study.search->identity()},
                                    {"base", identity_json(base)}}}};
  }
  return {study.name, study.description, spec, e.ids()};
}

}  // namespace lrtune
