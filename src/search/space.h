// A search study's [search] table: which sampler and pruner, the budget, the
// objective, and the space of each searched key.
//
//   [search]
//   sampler = "tpe"            # random | tpe  (a grid is [[sweep]])
//   pruner = "asha"            # none | median | asha | hyperband
//   trials = 64                # the budget: raise it and run again to extend
//   objective = "val_acc"      # or "val_loss"
//   at = "best"                # the objective at the trial's best epoch, or "last"
//   seed = 1
//   [search.space]
//   lr = { log_uniform = [1e-4, 1.0] }
//   momentum = { uniform = [0.0, 0.99] }
//   nesterov = { choice = [false, true], when = "momentum > 0" }
//   batch_size = { choice = [64, 128, 256] }
//   warmup_epochs = { uniform = [0, 5], step = 0.5 }
//
// A key of integer type draws whole numbers (step 1 unless given). Samplers
// work on an internal number per key: the value itself, or a choice's index.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lrtune::search {

enum class Dist { uniform, log_uniform, choice };

// "momentum > 0": the key is searched only when this holds for another,
// unconditional, searched key (an Optuna-style conditional parameter).
struct Condition {
  std::string key;
  std::string op;  // > >= < <= == !=
  double value = 0;
  bool holds(double x) const;
  std::string text() const;  // "momentum > 0"
};

struct Param {
  std::string key;
  Dist dist = Dist::uniform;
  double low = 0, high = 0;  // uniform, log_uniform: inclusive bounds
  double step = 0;           // > 0: values low, low + step, ... (uniform only)
  bool integer = false;      // the key is an integer: draws are whole numbers
  nlohmann::json choices;    // choice: the values, in the file's order
  std::optional<Condition> when;
  bool log() const { return dist == Dist::log_uniform; }
  // The value for the configuration from the internal number.
  nlohmann::json value(double internal) const;
};

struct SearchSpec {
  std::string sampler = "tpe";  // random | tpe
  std::string pruner = "none";  // none | median | asha | hyperband
  std::int64_t trials = 0;      // the budget
  std::string objective = "val_acc";
  bool at_last = false;         // the objective at the last epoch, not the best
  std::uint64_t seed = 0;
  // TPE (Optuna's defaults): random trials first, then candidates per draw.
  std::int64_t startup_trials = 10;
  std::int64_t ei_candidates = 24;
  // median: trials finished before it prunes, epochs never pruned.
  std::int64_t prune_startup_trials = 5;
  std::int64_t prune_warmup_epochs = 0;
  // asha: rungs at min_epochs * eta^k.
  std::int64_t min_epochs = 1;
  std::int64_t eta = 3;
  // hyperband: brackets of successive halving from min epochs to the trials' epochs.
  std::int64_t hyperband_min_epochs = 1;
  std::int64_t hyperband_eta = 3;
  std::vector<Param> space;  // unconditional keys first, then conditional ones

  bool maximize() const { return objective == "val_acc"; }
  // The most epochs a trial can have: `base_epochs`, or the top of a searched `epochs`.
  std::int64_t most_epochs(std::int64_t base_epochs) const;
  const Param* find(const std::string& key) const;
  // The searched keys and values of one draw (internal numbers by key).
  nlohmann::json values(const std::map<std::string, double>& draw) const;
  // What identifies the search (sampler, space, objective, seed): a study run
  // again with another space is refused (see docs/search.md). The budget is
  // not part of it: raising it extends the search.
  nlohmann::json identity() const;
};

// Reads the [search] table of `file`; every error is a ConfigError naming the
// file and the key ("s.toml: search.space.lr: log_uniform needs 0 < low").
// Keys are checked against the configuration's key table: an unknown key, a
// bound its range check refuses, a choice value of the wrong type.
SearchSpec parse_search(const nlohmann::json& table, const std::string& file);

}  // namespace lrtune::search
