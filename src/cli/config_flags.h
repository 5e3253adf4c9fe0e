// Command-line flags generated from the configuration key table: `--lr 0.1`,
// `--warmup-epochs 5`, ... one per key, each showing its default in --help;
// and the checks of flags that depend on each other.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/errors.h"

namespace lrtune {
class Store;
struct Overrides;
struct StoreLocation;
}  // namespace lrtune

namespace lrtune::cli {

// A command-line flag that cannot work as given: main() exits with status 2,
// as for the flags CLI11 rejects.
struct FlagError : ConfigError {
  using ConfigError::ConfigError;
};

// Flags given on the command line, keyed by configuration key.
using FlagValues = std::map<std::string, std::string>;

// One flag per configuration key (those `only` accepts, when given).
void add_config_flags(CLI::App& app, FlagValues& values,
                      const std::function<bool(const ConfigField&)>& only = {});

// Applies the given flags over `cfg` (errors name the flag).
void apply_flags(TrainConfig& cfg, const FlagValues& values);

std::string flag_name(const std::string& key);  // warmup_epochs -> --warmup-epochs

// The resolved configuration, one key per line, for the start of a run.
std::string describe_config(const TrainConfig& cfg);

// ConfigError, naming the trial, when one of the trials `study_file` expands to
// with `overrides` (or a search's base) would train in bf16 on a CPU that
// emulates it (model/autocast.h, check_precision), before anything runs.
// `device_flag` ("" = each trial's own `device`) is the command's --device.
void check_study_precision(const std::string& device_flag, const std::string& study_file,
                           const Overrides& overrides);

// The PostgreSQL study store a command uses: `flag` (--store), else
// $LRTUNE_STORE, else "" (the study folder's results.sqlite). FlagError for
// anything but a postgresql:// URL.
std::string store_url(const std::string& flag);

// The store of `arg`: a study folder, or with a store URL the study's name.
StoreLocation store_location(const std::string& arg, const std::string& flag);

// Opens the studies a reading command names: folders (`also` says what else
// a folder may be, for the message when it holds no results), or with
// --store (or $LRTUNE_STORE) studies of that database by name.
std::function<std::unique_ptr<Store>(const std::string&)> study_opener(
    const std::string& flag, const std::string& also = "");

// Adds --store URL (with $LRTUNE_STORE in its help) to a command.
void add_store_flag(CLI::App& app, std::string& url);

}  // namespace lrtune::cli
