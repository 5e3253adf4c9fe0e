// Key table, validation and JSON/TOML conversion of TrainConfig.
#include "core/config.h"

#include <algorithm>
#include <cfloat>
#include <deque>
#include <mutex>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <variant>

#include <toml++/toml.h>

#include "core/errors.h"

namespace lrtune {
namespace {

// More epochs than anyone trains; keeps epochs x steps per epoch (the
// schedule's step count) far from int64's end.
constexpr std::int64_t kMaxEpochs = 1000000;

std::function<std::optional<std::string>(const nlohmann::json&)> epochs_check() {
  return [](const nlohmann::json& v) -> std::optional<std::string> {
    if (auto wrong = positive()(v)) return wrong;
    if (!v.is_number() || v.get<double>() <= static_cast<double>(kMaxEpochs)) return std::nullopt;
    return "must be at most 1,000,000, got " + v.dump();
  };
}

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw ConfigError(source + ": " + key + ": " + what);
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  return std::any_of(options.begin(), options.end(), [&](const char* o) { return v == o; });
}

// A run's own key: where it lives in TrainConfig.
using Member = std::variant<double TrainConfig::*, std::int64_t TrainConfig::*,
                            std::string TrainConfig::*, bool TrainConfig::*>;
struct OwnKey {
  KeySpec spec;
  Member member;
};

template <typename T>
KeyType type_of(T TrainConfig::*) {
  if constexpr (std::is_same_v<T, double>) return KeyType::real;
  else if constexpr (std::is_same_v<T, std::int64_t>) return KeyType::integer;
  else if constexpr (std::is_same_v<T, bool>) return KeyType::boolean;
  else return KeyType::text;
}

OwnKey own(const char* name, Member m, const char* unit, const char* help,
           std::function<std::optional<std::string>(const json&)> check = {},
           bool identity = true) {
  const TrainConfig defaults;
  KeySpec spec;
  spec.name = name;
  std::visit(
      [&](auto p) {
        spec.type = type_of(p);
        spec.default_value = defaults.*p;
      },
      m);
  spec.unit = unit;
  spec.help = help;
  spec.identity = identity;
  spec.check = std::move(check);
  return {spec, m};
}

const std::vector<OwnKey>& own_keys() {
  using C = TrainConfig;
  static const std::vector<OwnKey> keys = {
      own("dataset", &C::dataset, "", "data set kind (see `lrtune kinds`); its folder is `data`"),
      own("model", &C::model, "", "network architecture (see `lrtune kinds`)"),
      own("optimizer", &C::optimizer, "", "optimizer kind (see `lrtune kinds`)"),
      own("schedule", &C::schedule, "", "learning-rate schedule kind (see `lrtune kinds`)"),
      own("lr", &C::lr, "", "base learning rate",
          [](const json& v) -> std::optional<std::string> {
            const double x = v.get<double>();
            if (x > 0 && x <= FLT_MAX) return std::nullopt;
            return "must be a positive number that fits a 32-bit float, got " + v.dump();
          }),
      own("weight_decay", &C::weight_decay, "", "weight decay (L2 penalty added to the gradient)",
          in_range(0, FLT_MAX)),
      own("warmup_epochs", &C::warmup_epochs, "epochs",
          "linear warm-up length (fractions allowed), 0 = off", at_least(0)),
      own("epochs", &C::epochs, "epochs", "number of training epochs (at most 1,000,000)",
          epochs_check()),
      own("batch_size", &C::batch_size, "images", "training batch size", positive()),
      own("eval_batch_size", &C::eval_batch_size, "images", "evaluation batch size (speed only)",
          positive(), /*identity=*/false),
      own("augment", &C::augment, "",
          "training augmentation: flipcrop (4-pixel padded random crop + horizontal flip), "
          "crop (the crop alone, for digits and text), none; auto = the data set's default "
          "(`lrtune kinds`: crop for mnist, flipcrop for the others)"),
      own("train_subset", &C::train_subset, "images",
          "train on only this many images (0 = all 45,000)", at_least(0)),
      own("val_size", &C::val_size, "images",
          "validation images split off the training set, stratified (each class gives "
          "val_size/classes, the first classes one more for a remainder)"),
      own("seed", &C::seed, "", "random seed (init, split, order, augmentation, dropout)",
          at_least(0)),
      own("deterministic", &C::deterministic, "",
          "refuse operations without a deterministic kernel (a run then repeats exactly, and "
          "resumes to the numbers of an uninterrupted one); false allows them"),
      own("precision", &C::precision, "",
          "fp32|bf16: bf16 runs convolutions and matrix products in bfloat16 (weights, optimizer "
          "and loss stay fp32); on the CPU it needs AVX512-BF16 or AMX (docs/performance.md)"),
      own("device", &C::device, "", "cpu|cuda|auto", {}, false),
      own("threads", &C::threads, "", "CPU threads for LibTorch, fixed; 0 = up to all cores, fewer while fewer train faster "
          "on a busy machine (at most 1024)",
          in_range(0, kMaxThreads),
          false),
      own("data", &C::data, "",
          "the data set's folder (default: for cifar10 $LRTUNE_DATA, else the kind's own: "
          "./data/cifar-10-batches-bin)", {}, false),
  };
  return keys;
}

const OwnKey* find_own(const std::string& key) {
  for (const auto& k : own_keys())
    if (k.spec.name == key) return &k;
  return nullptr;
}

// A whole number beyond int64: an unsigned one above INT64_MAX, or one so large
// that the parser kept it as a float.
bool too_large(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX);
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d && std::abs(d) >= 9.2e18;
  }
  return false;
}

// `v` converted to the key's type (an integral float is an integer, an integer
// is a number), or a ConfigError naming the key.
json normalize(const KeySpec& spec, const json& v, const std::string& source) {
  const std::string& key = spec.name;
  switch (spec.type) {
    case KeyType::real:
      if (!v.is_number()) fail(source, key, "expected a number, got " + v.dump());
      return v.get<double>();
    case KeyType::integer: {
      if (v.is_number_integer() && !too_large(v)) return v.get<std::int64_t>();
      if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::floor(d) == d && std::abs(d) < 9.2e18) return static_cast<std::int64_t>(d);
      }
      if (too_large(v))
        fail(source, key, "got " + v.dump() + ", too large for a 64-bit integer (at most " +
                              std::to_string(INT64_MAX) + ")");
      fail(source, key, "expected an integer, got " + v.dump());
    }
    case KeyType::boolean:
      if (!v.is_boolean()) fail(source, key, "expected true or false, got " + v.dump());
      return v;
    case KeyType::text:
      if (!v.is_string()) fail(source, key, "expected a string, got " + v.dump());
      return v;
    case KeyType::int_list: {
      if (!v.is_array()) fail(source, key, "expected a list of integers, got " + v.dump());
      json list = json::array();
      for (const auto& e : v) {
        if (!e.is_number_integer() || too_large(e))
          fail(source, key, "expected a list of integers (64-bit), got " + v.dump());
        list.push_back(e.get<std::int64_t>());
      }
      return list;
    }
    case KeyType::real_list: {
      if (!v.is_array()) fail(source, key, "expected a list of numbers, got " + v.dump());
      json list = json::array();
      for (const auto& e : v) {
        if (!e.is_number() || !std::isfinite(e.get<double>()) || std::abs(e.get<double>()) > FLT_MAX)
          fail(source, key, "expected a list of finite numbers, got " + v.dump());
        list.push_back(e.get<double>());
      }
      return list;
    }
  }
  return v;
}

json declared_value(const TrainConfig& cfg, const std::string& key, KeyType want) {
  const DeclaredKey* d = find_declared_key(key);
  if (!d) throw std::logic_error("configuration key '" + key + "' is not declared by any kind");
  if (d->spec.type != want)
    throw std::logic_error("configuration key '" + key + "' read as another type");
  auto it = cfg.options.find(key);
  if (it != cfg.options.end()) return it->second;
  return d->spec.derive ? d->spec.derive(cfg) : d->spec.default_value;
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

void check_kind(const TrainConfig& cfg, const char* family, const std::string& name,
                const KeyCheck& check) {
  auto kind = find_kind(family, name);
  check.need(kind != nullptr, family, unknown_kind_message(family, name));
  if (kind->validate) kind->validate(cfg, check);
}

// "optimizer adam, schedule constant, model reference_cnn and dataset cifar10": the kinds `cfg` chose.
std::string chosen_kinds(const TrainConfig& cfg) {
  return "optimizer " + cfg.optimizer + ", schedule " + cfg.schedule + ", model " + cfg.model +
         " and dataset " + cfg.dataset;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

}  // namespace

bool chosen_kinds_read(const TrainConfig& cfg, const std::string& key) {
  const DeclaredKey* d = find_declared_key(key);
  if (!d) return true;
  for (const auto& owner : d->owners)
    if (owner == "optimizer " + cfg.optimizer || owner == "schedule " + cfg.schedule ||
        owner == "model " + cfg.model || owner == "dataset " + cfg.dataset)
      return true;
  return false;
}

std::vector<std::string> keys_not_read(const TrainConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& [key, value] : cfg.options) {
    const DeclaredKey* d = find_declared_key(key);
    if (d && value != d->spec.default_value && !chosen_kinds_read(cfg, key)) out.push_back(key);
  }
  return out;
}

double TrainConfig::real(const std::string& key) const {
  return declared_value(*this, key, KeyType::real).get<double>();
}
std::int64_t TrainConfig::integer(const std::string& key) const {
  return declared_value(*this, key, KeyType::integer).get<std::int64_t>();
}
bool TrainConfig::flag(const std::string& key) const {
  return declared_value(*this, key, KeyType::boolean).get<bool>();
}
std::string TrainConfig::text(const std::string& key) const {
  return declared_value(*this, key, KeyType::text).get<std::string>();
}
std::vector<std::int64_t> TrainConfig::int_list(const std::string& key) const {
  return declared_value(*this, key, KeyType::int_list).get<std::vector<std::int64_t>>();
}
std::vector<double> TrainConfig::real_list(const std::string& key) const {
  return declared_value(*this, key, KeyType::real_list).get<std::vector<double>>();
}

void TrainConfig::set(const std::string& key, const json& value, const std::string& source) {
  const ConfigField* f = find_config_field(key);
  if (!f) fail(source, key, "unknown key (see `lrtune train --help` for the keys)");
  const json v = normalize(f->spec, value, source);
  if (const OwnKey* k = find_own(key)) {
    std::visit([&](auto m) { this->*m = v.get<std::decay_t<decltype(this->*m)>>(); }, k->member);
    return;
  }
  options[key] = v;
}

const std::vector<ConfigField>& config_fields() {
  // One table per generation of declarations, kept for the life of the
  // program: a field pointer handed out stays valid when a kind is declared
  // later, and a rebuild never changes a table another thread reads.
  static std::mutex mu;
  static std::deque<std::pair<unsigned, std::vector<ConfigField>>> tables;
  std::lock_guard lock(mu);
  const unsigned generation = declaration_generation();
  if (tables.empty() || tables.back().first != generation) {
    std::vector<ConfigField> next;
    for (const auto& k : own_keys()) next.push_back({k.spec, ""});
    for (const auto& d : declared_keys()) {
      std::string owner;
      for (const auto& o : d.owners) owner += (owner.empty() ? "" : ", ") + o;
      next.push_back({d.spec, owner});
    }
    tables.emplace_back(generation, std::move(next));
  }
  return tables.back().second;
}

const ConfigField* find_config_field(const std::string& key) {
  for (const auto& f : config_fields())
    if (key == f.key()) return &f;
  return nullptr;
}

std::string TrainConfig::default_augmentation() const {
  const auto kind = find_kind("dataset", dataset);
  if (kind && kind->defaults.contains("augment")) return kind->defaults["augment"].get<std::string>();
  return "flipcrop";
}

std::string TrainConfig::augmentation() const {
  return augment == "auto" ? default_augmentation() : augment;
}

json field_value(const TrainConfig& cfg, const ConfigField& field) {
  if (field.key() == "augment") return cfg.augmentation();
  if (const OwnKey* k = find_own(field.key()))
    return std::visit([&](auto m) { return json(cfg.*m); }, k->member);
  auto it = cfg.options.find(field.key());
  if (it != cfg.options.end()) return it->second;
  return field.spec.derive ? field.spec.derive(cfg) : field.spec.default_value;
}

void TrainConfig::validate(const std::string& source) const {
  const KeyCheck check{source};
  // Every key's own range first, in table order, then the rules between keys.
  for (const auto& f : config_fields()) {
    const json v = field_value(*this, f);
    if (f.spec.type == KeyType::real) {
      const double x = v.get<double>();
      check.need(std::isfinite(x) && std::abs(x) <= FLT_MAX, f.key(),
                 "must be a finite number that fits a 32-bit float, got " + v.dump());
    }
    if (f.spec.check)
      if (auto what = f.spec.check(v)) check.fail(f.key(), *what);
  }
  check.need(warmup_epochs <= static_cast<double>(epochs), "warmup_epochs",
             "must be at most epochs (" + std::to_string(epochs) + ")");
  check.need(one_of(augment, {"auto", "none", "crop", "flipcrop"}), "augment",
             "unknown augmentation '" + augment + "' (auto, none, crop, flipcrop)");
  check.need(one_of(precision, {"fp32", "bf16"}), "precision",
             "unknown precision '" + precision + "' (fp32, bf16)");
  check.need(val_size >= 1, "val_size", "must be at least 1");
  check.need(one_of(device, {"cpu", "cuda", "auto"}), "device",
             "unknown device '" + device + "' (cpu, cuda, auto)");
  check_kind(*this, "dataset", dataset, check);
  check_kind(*this, "model", model, check);
  check_kind(*this, "optimizer", optimizer, check);
  check_kind(*this, "schedule", schedule, check);
  // A key no chosen kind reads would be shown, stored and part of the
  // trial's identity, yet change nothing (adam given nesterov).
  for (const auto& key : keys_not_read(*this))
    check.fail(key, "is set, but " + chosen_kinds(*this) + " do not read it (it is read by " +
                        joined(find_declared_key(key)->owners) + "): remove it or choose one of those");
}

json to_json(const TrainConfig& cfg, bool identity_only) {
  json out = json::object();
  for (const auto& f : config_fields()) {
    if (identity_only && !f.identity()) continue;
    out[f.key()] = field_value(cfg, f);
  }
  return out;
}

json identity_json(const TrainConfig& cfg) {
  json out = json::object();
  for (const auto& f : config_fields()) {
    if (!f.identity()) continue;
    json v = field_value(cfg, f);
    const json def = f.key() == "augment" ? json(cfg.default_augmentation()) : f.spec.default_value;
    if (v != def) out[f.key()] = std::move(v);
  }
  return out;
}

void apply_json(TrainConfig& cfg, const json& j, const std::string& source) {
  if (!j.is_object()) throw ConfigError(source + ": expected a table of configuration keys");
  for (auto it = j.begin(); it != j.end(); ++it) cfg.set(it.key(), it.value(), source);
}

void apply_text(TrainConfig& cfg, const std::string& key, const std::string& text,
                const std::string& source) {
  const ConfigField* f = find_config_field(key);
  if (!f) fail(source, key, "unknown key");
  json v;
  try {
    switch (f->spec.type) {
      case KeyType::text: v = text; break;
      case KeyType::boolean:
        if (one_of(text, {"true", "on", "yes", "1"})) v = true;
        else if (one_of(text, {"false", "off", "no", "0"})) v = false;
        else fail(source, key, "expected true or false, got '" + text + "'");
        break;
      case KeyType::int_list:
      case KeyType::real_list: {
        v = json::array();
        std::stringstream ss(text);
        for (std::string item; std::getline(ss, item, ',');)
          if (!item.empty()) v.push_back(json::parse(item));
        break;
      }
      default: v = json::parse(text);
    }
  } catch (const json::exception&) {
    fail(source, key, "cannot read '" + text + "' as a value for this key");
  }
  cfg.set(key, v, source);
}

std::string field_text(const TrainConfig& cfg, const ConfigField& field) {
  const json v = field_value(cfg, field);
  switch (field.spec.type) {
    case KeyType::text: return v.get<std::string>();
    case KeyType::boolean: return v.get<bool>() ? "true" : "false";
    case KeyType::int_list: {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ",") + std::to_string(x.get<std::int64_t>());
      return s;
    }
    case KeyType::real_list: {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ",") + x.dump();
      return s;
    }
    default: return v.dump();
  }
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
