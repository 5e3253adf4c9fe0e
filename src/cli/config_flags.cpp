// Flags from config_fields(), and checks across flags.
#include "cli/config_flags.h"

#include <algorithm>
#include <cstdlib>

#include "cli/folders.h"
#include "study/expand.h"
#include "store/postgres_store.h"
#include "study/study_run.h"
#include "train/trainer.h"

namespace lrtune::cli {
namespace {

// Throws at the first of `trials` that would train on the CPU, where bf16 is ignored.
void refuse_bf16_on_cpu(const std::string& device_flag, const std::vector<TrialSpec>& trials) {
  for (const auto& t : trials) {
    const std::string asked =
        device_flag.empty() ? t.config.value("device", std::string("auto")) : device_flag;
    if (resolve_device(asked) != "cpu") continue;
    const std::string where = device_flag.empty()
                                  ? "trial '" + t.label + "' would train on the CPU (its device: " +
                                        asked + ")"
                                  : "the trials would train on the CPU (--device " + asked + ")";
    throw FlagError("--precision bf16: " + where + ", where bf16 is not available: bf16 autocast "
                    "is implemented for CUDA packs only; use --precision fp32, or a GPU "
                    "(--device cuda)");
  }
}

}  // namespace

std::string flag_name(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return "--" + f;
}

void add_config_flags(CLI::App& app, FlagValues& values) {
  const TrainConfig defaults;
  for (const auto& field : config_fields()) {
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

void check_study_precision(const std::string& precision, const std::string& device_flag,
                           const std::string& study_file, const Overrides& overrides) {
  if (precision != "bf16") return;
  refuse_bf16_on_cpu(device_flag, expand_study(read_study_file(study_file), overrides).trials);
}

void check_worker_precision(const WorkerSettings& s) {
  if (s.precision != "bf16") return;
  if (!s.device.empty()) {
    refuse_bf16_on_cpu(s.device, {TrialSpec{}});
    return;
  }
  auto store = open_study_store(StoreLocation{s.dir, s.store_url, s.study, s.store_retry_s, {}});
  std::vector<std::string> ids = s.ids;
  if (ids.empty())
    if (auto info = store->study()) ids = info->trial_ids;
  std::vector<TrialSpec> trials;
  for (const auto& id : ids)
    if (auto t = store->trial(id)) trials.push_back(t->spec);
  refuse_bf16_on_cpu("", trials);
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
