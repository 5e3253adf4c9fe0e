// Flags from config_fields(), and checks across flags.
#include "cli/config_flags.h"

#include <algorithm>
#include <cstdlib>

#include "cli/folders.h"
#include "study/expand.h"
#include "store/postgres_store.h"
#include "model/autocast.h"
#include "study/study_run.h"
#include "train/trainer.h"

namespace lrtune::cli {

std::string flag_name(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return "--" + f;
}

void add_config_flags(CLI::App& app, FlagValues& values,
                      const std::function<bool(const ConfigField&)>& only) {
  const TrainConfig defaults;
  for (const auto& field : config_fields()) {
    if (only && !only(field)) continue;
    const std::string key = field.key();
    std::string shown = field_text(defaults, field);
    if (shown.empty()) shown = "\"\"";
    std::string help = field.spec.help;
    if (!field.spec.unit.empty()) help += " [" + field.spec.unit + "]";
    // Kinds' keys are grouped by the kinds that read them ("schedule multistep").
    const std::string group = field.owner.empty() ? "Configuration (also TOML keys)"
                                                  : "Keys of " + field.owner;
    app.add_option_function<std::string>(
           flag_name(key), [&values, key](const std::string& v) { values[key] = v; }, help)
        ->type_name(type_name(field.spec.type))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->default_str(shown)
        ->group(group);
  }
}

void apply_flags(TrainConfig& cfg, const FlagValues& values) {
  for (const auto& [key, text] : values) apply_text(cfg, key, text, "flag " + flag_name(key));
}

std::string describe_config(const TrainConfig& cfg) {
  std::string out;
  for (const auto& field : config_fields()) {
    std::string key = field.key();
    key.resize(16, ' ');
    out += "  " + key + " " + field_text(cfg, field) + "\n";
  }
  return out;
}

namespace {

// ConfigError naming the trial when it would train in bf16 on a CPU that emulates it.
void check_trial_precision(const std::string& label, const std::string& precision,
                           const std::string& device) {
  try {
    check_precision(precision, resolve_device(device));
  } catch (const ConfigError& e) {
    throw ConfigError("trial '" + label + "': " + e.what());
  }
}

}  // namespace

void check_study_precision(const std::string& device_flag, const std::string& study_file,
                           const Overrides& overrides) {
  const Study study = read_study_file(study_file);
  for (const auto& t : expand_study(study, overrides).trials)
    check_trial_precision(t.label, t.config.value("precision", "fp32"),
                          device_flag.empty() ? t.config.value("device", "auto") : device_flag);
  if (!study.search) return;
  TrainConfig base;  // a search's trials are drawn later, all from its base
  apply_json(base, study.base, study_file);
  for (const auto& [key, text] : overrides.set) apply_text(base, key, text, "--set " + key);
  check_trial_precision("base", base.precision, device_flag.empty() ? base.device : device_flag);
}

std::string store_url(const std::string& flag) {
  std::string url = flag;
  const char* env = std::getenv("LRTUNE_STORE");
  if (url.empty() && env) url = env;
  if (!url.empty() && !is_postgres_url(url))
    throw FlagError(std::string(flag.empty() ? "$LRTUNE_STORE" : "--store") +
                    ": expected a PostgreSQL URL, postgresql://user@host:port/database, got '" +
                    redact_passwords(url) + "' (a study on one machine needs none: its folder holds results.sqlite)");
  return url;
}

StoreLocation store_location(const std::string& arg, const std::string& flag) {
  const std::string url = store_url(flag);
  if (url.empty()) return StoreLocation{arg, "", "", 300, {}};
  return StoreLocation{"", url, arg, 300, {}};
}

std::function<std::unique_ptr<Store>(const std::string&)> study_opener(const std::string& flag,
                                                                     const std::string& also) {
  const std::string url = store_url(flag);
  return [url, also](const std::string& arg) {
    return url.empty() ? open_results_folder(arg, also) : open_study_store(store_location(arg, url));
  };
}

void add_store_flag(CLI::App& app, std::string& url) {
  app.add_option("--store", url,
                 "a PostgreSQL study store shared by hosts, postgresql://user@host:port/database "
                 "(default: $LRTUNE_STORE; none: the study folder's results.sqlite; "
                 "docs/cluster.md)");
}

}  // namespace lrtune::cli
