// Study files (TOML): a name, a base configuration and sweeps over its keys.
//
//   name = "part1-lr"
//   description = "..."
//   repeats = 1                      # seeds seed, seed+1, ... per point
//   [base]                           # any `lrtune train` key
//   epochs = 100
//   [[sweep]]
//   name = "lr"                      # optional: prefixes the labels
//   set = { momentum = 0.9 }         # optional: keys fixed for this sweep only
//   grid = { lr = [0.01, 0.1] }      # lists crossed with each other
//   zip = { momentum = [0.5, 0.9], nesterov = [false, true] }  # moved together
//
// Instead of sweeps, a study may search: a [search] table (search/space.h,
// docs/search.md) whose sampler adds trials while the study runs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/space.h"

namespace lrtune {

struct Sweep {
  std::string name;  // "" = unnamed
  nlohmann::json set = nlohmann::json::object();
  // (key, values) in key order; every list is non-empty.
  std::vector<std::pair<std::string, nlohmann::json>> grid;
  // Groups of keys whose lists have equal lengths and move together.
  std::vector<std::vector<std::pair<std::string, nlohmann::json>>> zips;
};

struct Study {
  std::string file;  // where it was read from, for messages
  std::string name;  // also the default output folder name
  std::string description;
  std::int64_t repeats = 1;
  nlohmann::json base = nlohmann::json::object();
  std::vector<Sweep> sweeps;  // none: the base configuration is the only point
  std::optional<search::SearchSpec> search;  // a search study (then no sweeps, one repeat)
  nlohmann::json source;      // the whole file as JSON, stored with the results
};

// Reads and checks a study file; every error is a ConfigError that names the
// file and the key ("part1.toml: sweep[2].grid.lr: expected a number, got "x"").
Study read_study_file(const std::string& path);

// The same from JSON already read (tests, or a file read elsewhere); `file`
// only names the source in messages.
Study parse_study(const nlohmann::json& doc, const std::string& file);

}  // namespace lrtune
