// Key table, validation and JSON/TOML conversion of TrainConfig.
#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "core/errors.h"

namespace lrtune {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw ConfigError(source + ": " + key + ": " + what);
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  return std::any_of(options.begin(), options.end(), [&](const char* o) { return v == o; });
}

json toml_to_json(const toml::node& node) {
  if (auto* t = node.as_table()) {
    json out = json::object();
    for (auto&& [k, v] : *t) out[std::string(k.str())] = toml_to_json(v);
    return out;
  }
  if (auto* a = node.as_array()) {
    json out = json::array();
    for (auto&& v : *a) out.push_back(toml_to_json(v));
    return out;
  }
  if (auto v = node.value_exact<bool>()) return *v;
  if (auto v = node.value_exact<std::int64_t>()) return *v;
  if (auto v = node.value_exact<double>()) return *v;
  if (auto v = node.value_exact<std::string>()) return *v;
  std::ostringstream where;
  where << node.source().begin;
  throw ConfigError(std::string(node.source().path ? *node.source().path : "TOML") + ":" +
                    where.str() + ": dates and times are not configuration values");
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
  using C = TrainConfig;
  static const std::vector<ConfigField> fields = {
      {"model", "network architecture (see `lrtune models`)", &C::model, true},
      {"lr", "base learning rate", &C::lr, true},
      {"momentum", "SGD momentum, 0 = off", &C::momentum, true},
      {"dampening", "SGD dampening (PyTorch semantics)", &C::dampening, true},
      {"nesterov", "Nesterov momentum (needs momentum > 0 and dampening 0)", &C::nesterov, true},
      {"weight_decay", "L2 weight decay", &C::weight_decay, true},
      {"schedule", "learning-rate schedule: constant|multistep|step|exponential|cosine",
       &C::schedule, true},
      {"milestones", "multistep: epochs after which lr is multiplied by gamma", &C::milestones,
       true},
      {"gamma", "decay factor for multistep, step and exponential", &C::gamma, true},
      {"step_size", "step: epochs between decays", &C::step_size, true},
      {"min_lr", "cosine: final learning rate", &C::min_lr, true},
      {"warmup_epochs", "linear warm-up length in epochs (fractions allowed), 0 = off",
       &C::warmup_epochs, true},
      {"epochs", "number of training epochs", &C::epochs, true},
      {"batch_size", "training batch size", &C::batch_size, true},
      {"eval_batch_size", "evaluation batch size (speed only)", &C::eval_batch_size, false},
      {"augment", "training augmentation: none|flipcrop (4-pixel padded crop + h-flip)",
       &C::augment, true},
      {"train_subset", "train on only this many images (0 = all 45,000)", &C::train_subset, true},
      {"val_size", "validation images split off the training set", &C::val_size, true},
      {"seed", "random seed (init, split, order, augmentation, dropout)", &C::seed, true},
      {"device", "cpu|cuda|auto", &C::device, false},
      {"threads", "CPU threads for LibTorch (0 = all cores)", &C::threads, false},
      {"data", "CIFAR-10 binary folder (default: $LRTUNE_DATA, else ./data/cifar-10-batches-bin)",
       &C::data, false},
  };
  return fields;
}

const ConfigField* find_config_field(const std::string& key) {
  for (const auto& f : config_fields())
    if (key == f.key) return &f;
  return nullptr;
}

void TrainConfig::validate(const std::string& source) const {
  auto need = [&](bool ok, const char* key, const std::string& what) {
    if (!ok) fail(source, key, what);
  };
  need(!model.empty(), "model", "must name a network");
  need(std::isfinite(lr) && lr > 0, "lr", "must be a positive number, got " + std::to_string(lr));
  need(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1)");
  need(dampening >= 0 && dampening <= 1, "dampening", "must be in [0, 1]");
  need(!nesterov || (momentum > 0 && dampening == 0), "nesterov",
       "needs momentum > 0 and dampening = 0 (as in PyTorch)");
  need(weight_decay >= 0, "weight_decay", "must be >= 0");
  need(one_of(schedule, {"constant", "multistep", "step", "exponential", "cosine"}), "schedule",
       "unknown schedule '" + schedule + "' (constant, multistep, step, exponential, cosine)");
  need(std::is_sorted(milestones.begin(), milestones.end()) &&
           std::all_of(milestones.begin(), milestones.end(), [](auto m) { return m > 0; }),
       "milestones", "must be positive epochs in increasing order");
  need(gamma > 0 && gamma <= 1, "gamma", "must be in (0, 1]");
  need(step_size > 0, "step_size", "must be > 0");
  need(min_lr >= 0 && min_lr <= lr, "min_lr", "must be in [0, lr]");
  need(warmup_epochs >= 0 && warmup_epochs <= static_cast<double>(epochs), "warmup_epochs",
       "must be in [0, epochs]");
  need(epochs > 0, "epochs", "must be > 0");
  need(batch_size > 0, "batch_size", "must be > 0");
  need(eval_batch_size > 0, "eval_batch_size", "must be > 0");
  need(one_of(augment, {"none", "flipcrop"}), "augment",
       "unknown augmentation '" + augment + "' (none, flipcrop)");
  need(train_subset >= 0, "train_subset", "must be >= 0 (0 = all)");
  need(val_size >= 10 && val_size % 10 == 0, "val_size", "must be a positive multiple of 10");
  need(seed >= 0, "seed", "must be >= 0");
  need(one_of(device, {"cpu", "cuda", "auto"}), "device",
       "unknown device '" + device + "' (cpu, cuda, auto)");
  need(threads >= 0, "threads", "must be >= 0 (0 = all cores)");
}

json to_json(const TrainConfig& cfg, bool identity_only) {
  json out = json::object();
  for (const auto& f : config_fields()) {
    if (identity_only && !f.identity) continue;
    std::visit([&](auto m) { out[f.key] = cfg.*m; }, f.member);
  }
  return out;
}

void apply_json(TrainConfig& cfg, const json& j, const std::string& source) {
  if (!j.is_object()) throw ConfigError(source + ": expected a table of configuration keys");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const ConfigField* f = find_config_field(it.key());
    if (!f) fail(source, it.key(), "unknown key (see `lrtune train --help` for the keys)");
    const json& v = it.value();
    std::visit(
        [&](auto m) {
          using T = std::decay_t<decltype(cfg.*m)>;
          if constexpr (std::is_same_v<T, double>) {
            if (!v.is_number()) fail(source, it.key(), "expected a number, got " + v.dump());
            cfg.*m = v.get<double>();
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            if (!v.is_number_integer() &&
                !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
              fail(source, it.key(), "expected an integer, got " + v.dump());
            cfg.*m = v.is_number_integer() ? v.get<std::int64_t>()
                                           : static_cast<std::int64_t>(v.get<double>());
          } else if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean()) fail(source, it.key(), "expected true or false, got " + v.dump());
            cfg.*m = v.get<bool>();
          } else if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string()) fail(source, it.key(), "expected a string, got " + v.dump());
            cfg.*m = v.get<std::string>();
          } else {
            if (!v.is_array()) fail(source, it.key(), "expected a list of integers, got " + v.dump());
            T list;
            for (const auto& e : v) {
              if (!e.is_number_integer())
                fail(source, it.key(), "expected a list of integers, got " + v.dump());
              list.push_back(e.get<std::int64_t>());
            }
            cfg.*m = list;
          }
        },
        f->member);
  }
}

void apply_text(TrainConfig& cfg, const std::string& key, const std::string& text,
                const std::string& source) {
  const ConfigField* f = find_config_field(key);
  if (!f) fail(source, key, "unknown key");
  json v;
  std::visit(
      [&](auto m) {
        using T = std::decay_t<decltype(cfg.*m)>;
        try {
          if constexpr (std::is_same_v<T, std::string>) {
            v = text;
          } else if constexpr (std::is_same_v<T, bool>) {
            if (one_of(text, {"true", "on", "yes", "1"})) v = true;
            else if (one_of(text, {"false", "off", "no", "0"})) v = false;
            else fail(source, key, "expected true or false, got '" + text + "'");
          } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
            v = json::array();
            std::stringstream ss(text);
            for (std::string item; std::getline(ss, item, ',');)
              if (!item.empty()) v.push_back(json::parse(item));
          } else {
            v = json::parse(text);
          }
        } catch (const json::exception&) {
          fail(source, key, "cannot read '" + text + "' as a value for this key");
        }
      },
      f->member);
  apply_json(cfg, json{{key, v}}, source);
}

std::string field_text(const TrainConfig& cfg, const ConfigField& field) {
  return std::visit(
      [&](auto m) -> std::string {
        using T = std::decay_t<decltype(cfg.*m)>;
        if constexpr (std::is_same_v<T, std::string>) return cfg.*m;
        else if constexpr (std::is_same_v<T, bool>) return cfg.*m ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
          std::string s;
          for (auto x : cfg.*m) s += (s.empty() ? "" : ",") + std::to_string(x);
          return s;
        } else return json(cfg.*m).dump();
      },
      field.member);
}

json read_toml_file(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(msg.str());
  }
  return toml_to_json(table);
}

void apply_toml_file(TrainConfig& cfg, const std::string& path) {
  apply_json(cfg, read_toml_file(path), path);
}

}  // namespace lrtune
