// Command-line flags generated from the configuration key table: `--lr 0.1`,
// `--warmup-epochs 5`, ... one per key, each showing its default in --help.
#pragma once
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "core/config.h"

namespace lrtune::cli {

// Flags given on the command line, keyed by configuration key.
using FlagValues = std::map<std::string, std::string>;

void add_config_flags(CLI::App& app, FlagValues& values);

// Applies the given flags over `cfg` (errors name the flag).
void apply_flags(TrainConfig& cfg, const FlagValues& values);

std::string flag_name(const std::string& key);  // warmup_epochs -> --warmup-epochs

// The resolved configuration, one key per line, for the start of a run.
std::string describe_config(const TrainConfig& cfg);

}  // namespace lrtune::cli
