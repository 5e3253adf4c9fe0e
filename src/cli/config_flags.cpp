// Flags from config_fields().
#include "cli/config_flags.h"

#include <algorithm>

namespace lrtune::cli {

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

}  // namespace lrtune::cli
