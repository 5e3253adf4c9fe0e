// The declaration table of kinds and their keys.
#include "core/keys.h"

#include <cmath>
#include <deque>
#include <mutex>
#include <stdexcept>

#include "core/errors.h"

namespace lrtune {
namespace {

using json = nlohmann::json;

// Kinds may be declared at any time, also after configurations were read
// (a plugin's main registers, then runs; a test declares a kind late): every
// declaration publishes a new table of keys and keeps the earlier ones, so a
// reference or pointer handed out before stays valid, and readers on other
// threads never see a table being changed.
struct Declarations {
  std::mutex mu;
  std::vector<std::shared_ptr<const KindDecl>> kinds;
  std::deque<std::vector<DeclaredKey>> keys{1};  // one table per generation, the last current
  unsigned generation = 0;
};

Declarations& table() {
  static Declarations d;
  return d;
}

// A bound as a user writes it: "0", "1024", "0.5" (never "0.0").
std::string number_text(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  json j = v;
  return j.dump();
}

}  // namespace

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::real: return "NUMBER";
    case KeyType::integer: return "INT";
    case KeyType::boolean: return "BOOL";
    case KeyType::text: return "TEXT";
    case KeyType::int_list: return "INT,INT,...";
    case KeyType::real_list: return "NUMBER,NUMBER,...";
  }
  return "?";
}

std::function<std::optional<std::string>(const json&)> in_range(double lo, double hi, bool lo_open,
                                                                 bool hi_open) {
  return [=](const json& v) -> std::optional<std::string> {
    if (!v.is_number()) return std::nullopt;
    const double x = v.get<double>();
    const bool ok = (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
    if (ok) return std::nullopt;
    std::string range = std::string(lo_open ? "(" : "[") + number_text(lo) + ", " +
                        (std::isinf(hi) ? std::string("inf") : number_text(hi)) +
                        (hi_open ? ")" : "]");
    return "must be in " + range + ", got " + v.dump();
  };
}

std::function<std::optional<std::string>(const json&)> at_least(double lo) {
  return [=](const json& v) -> std::optional<std::string> {
    if (!v.is_number() || v.get<double>() >= lo) return std::nullopt;
    return "must be >= " + number_text(lo) + ", got " + v.dump();
  };
}

std::function<std::optional<std::string>(const json&)> positive() {
  return [](const json& v) -> std::optional<std::string> {
    if (!v.is_number() || v.get<double>() > 0) return std::nullopt;
    return "must be > 0, got " + v.dump();
  };
}

void KeyCheck::need(bool ok, const std::string& key, const std::string& what) const {
  if (!ok) fail(key, what);
}

void KeyCheck::fail(const std::string& key, const std::string& what) const {
  throw ConfigError(source + ": " + key + ": " + what);
}

void declare_kind(const KindDecl& kind) {
  Declarations& d = table();
  std::lock_guard lock(d.mu);
  for (const auto& k : d.kinds)
    if (k->family == kind.family && k->name == kind.name)
      throw std::logic_error(kind.family + " kind '" + kind.name + "' is declared twice");
  std::vector<DeclaredKey> keys = d.keys.back();
  for (const auto& spec : kind.keys) {
    for (auto& known : keys) {
      if (known.spec.name != spec.name) continue;
      if (known.spec.type != spec.type || known.spec.default_value != spec.default_value)
        throw std::logic_error("key '" + spec.name + "' of " + kind.family + " " + kind.name +
                               " differs in type or default from its declaration by " +
                               known.owners.front());
    }
  }
  for (const auto& spec : kind.keys) {
    bool found = false;
    for (auto& known : keys)
      if (known.spec.name == spec.name) {
        known.owners.push_back(kind.family + " " + kind.name);
        found = true;
      }
    if (!found) keys.push_back({spec, {kind.family + " " + kind.name}});
  }
  d.keys.push_back(std::move(keys));
  d.kinds.push_back(std::make_shared<const KindDecl>(kind));
  ++d.generation;
}

std::vector<std::shared_ptr<const KindDecl>> declared_kinds(const std::string& family) {
  Declarations& d = table();
  std::lock_guard lock(d.mu);
  std::vector<std::shared_ptr<const KindDecl>> out;
  for (const auto& k : d.kinds)
    if (k->family == family) out.push_back(k);
  return out;
}

std::shared_ptr<const KindDecl> find_kind(const std::string& family, const std::string& name) {
  for (const auto& k : declared_kinds(family))
    if (k->name == name) return k;
  return nullptr;
}

std::string kind_names(const std::string& family) {
  std::string out;
  for (const auto& k : declared_kinds(family)) out += (out.empty() ? "" : ", ") + k->name;
  return out.empty() ? "none registered" : out;
}

std::string unknown_kind_message(const std::string& family, const std::string& name) {
  const std::string what = family == "model" ? "network" : family;
  return "unknown " + what + " '" + name + "' (known: " + kind_names(family) + ")";
}

const std::vector<DeclaredKey>& declared_keys() {
  Declarations& d = table();
  std::lock_guard lock(d.mu);
  return d.keys.back();  // never changed once published, never freed
}

const DeclaredKey* find_declared_key(const std::string& name) {
  for (const auto& k : declared_keys())
    if (k.spec.name == name) return &k;
  return nullptr;
}

unsigned declaration_generation() {
  Declarations& d = table();
  std::lock_guard lock(d.mu);
  return d.generation;
}

}  // namespace lrtune
