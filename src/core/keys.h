// Configuration keys and the kinds that declare them. A kind (an optimizer, a
// learning-rate schedule, a model) declares its keys once: name, type,
// default, unit, one-line help and a range check. `--help`, TOML, JSON, study
// sweeps, validation, identity and provenance all read these declarations, so
// a new kind needs no edit anywhere else (see docs/extending.md).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lrtune {

struct TrainConfig;

enum class KeyType { real, integer, boolean, text, int_list, real_list };
// "NUMBER", "INT", "BOOL", "TEXT", "INT,INT,...", "NUMBER,NUMBER,..."
const char* type_name(KeyType t);

struct KeySpec {
  std::string name;
  KeyType type = KeyType::real;
  nlohmann::json default_value;
  std::string unit;  // "" when the value has none
  std::string help;
  // Part of a trial's identity: false only for where and how a run goes
  // (threads, device, data folder), never for anything that changes results.
  bool identity = true;
  // Checks one value of this key alone: returns what is wrong, or nothing.
  std::function<std::optional<std::string>(const nlohmann::json&)> check;
  // When given: the key's value while it is not set, computed from the others
  // (model_hash from the content of model_file); may throw ConfigError.
  // JSON, identity and provenance store the computed value, so a stored
  // configuration carries it.
  std::function<nlohmann::json(const TrainConfig&)> derive;
};

// Range checks for KeySpec::check (numbers; bounds inclusive unless *_open).
std::function<std::optional<std::string>(const nlohmann::json&)> in_range(
    double lo, double hi, bool lo_open = false, bool hi_open = false);
std::function<std::optional<std::string>(const nlohmann::json&)> at_least(double lo);
std::function<std::optional<std::string>(const nlohmann::json&)> positive();

// Turns a failed check into a ConfigError "<source>: <key>: <what>".
struct KeyCheck {
  std::string source;
  void need(bool ok, const std::string& key, const std::string& what) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
};

// A named kind of one family ("optimizer", "schedule", "model").
struct KindDecl {
  std::string family;
  std::string name;
  std::string help;
  std::vector<KeySpec> keys;
  // Rules between keys (nesterov needs momentum, min_lr <= lr); each key's own
  // range is checked from its KeySpec before this runs. May be empty.
  std::function<void(const TrainConfig&, const KeyCheck&)> validate;
  // What "auto" means for a run's own key when this kind is chosen: a data
  // set's augmentation ({"augment": "crop"} for digits). Shown by `lrtune kinds`.
  nlohmann::json defaults = nlohmann::json::object();
};

// Declares a kind, making its keys known to configuration parsing; safe at
// any time and from any thread: tables read before stay valid (they do not
// know the new kind's keys; read them again). Two kinds
// may share a key (gamma for multistep, step and exponential) only with the
// same type and default; a conflicting declaration or a name already declared
// in the family throws std::logic_error (a programming error, not input).
void declare_kind(const KindDecl& kind);
// The kinds of one family in declaration order.
std::vector<std::shared_ptr<const KindDecl>> declared_kinds(const std::string& family);
// nullptr when unknown.
std::shared_ptr<const KindDecl> find_kind(const std::string& family, const std::string& name);
// "sgd, adam" for messages.
std::string kind_names(const std::string& family);
// "unknown optimizer 'x' (known: sgd)"; models say "network".
std::string unknown_kind_message(const std::string& family, const std::string& name);
// Every key declared by a kind, first declaration order; with the kinds that declare it.
struct DeclaredKey {
  KeySpec spec;
  std::vector<std::string> owners;  // "schedule multistep", ...
};
// The current table; valid for the life of the program, never changed.
const std::vector<DeclaredKey>& declared_keys();
const DeclaredKey* find_declared_key(const std::string& name);
// Bumped by every declare_kind, so derived tables know when to rebuild.
unsigned declaration_generation();

}  // namespace lrtune
