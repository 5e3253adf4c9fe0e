// Flags from config_fields().
#include "cli/config_flags.h"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace lrtune::cli {

std::string flag_name(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return "--" + f;
}

void add_config_flags(CLI::App& app, FlagValues& values) {
  const TrainConfig defaults;
  for (const auto& field : config_fields()) {
    const std::string key = field.key;
    std::string shown = field_text(defaults, field);
    if (shown.empty()) shown = "\"\"";
    app.add_option_function<std::string>(
           flag_name(key), [&values, key](const std::string& v) { values[key] = v; },
           field.help)
        ->type_name(std::visit(
            [](auto m) -> std::string {
              using T = std::decay_t<decltype(TrainConfig{}.*m)>;
              if constexpr (std::is_same_v<T, double>) return "NUMBER";
              else if constexpr (std::is_same_v<T, std::int64_t>) return "INT";
              else if constexpr (std::is_same_v<T, bool>) return "BOOL";
              else if constexpr (std::is_same_v<T, std::string>) return "TEXT";
              else return "INT,INT,...";
            },
            field.member))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->default_str(shown)
        ->group("Configuration (also TOML keys)");
  }
}

void apply_flags(TrainConfig& cfg, const FlagValues& values) {
  for (const auto& [key, text] : values) apply_text(cfg, key, text, "flag " + flag_name(key));
}

std::string describe_config(const TrainConfig& cfg) {
  std::string out;
  for (const auto& field : config_fields()) {
    std::string key = field.key;
    key.resize(16, ' ');
    out += "  " + key + " " + field_text(cfg, field) + "\n";
  }
  return out;
}

}  // namespace lrtune::cli
