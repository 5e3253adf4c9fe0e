// Parsing and checking a [search] table (see space.h).
#include "search/space.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/keys.h"

namespace lrtune::search {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& where, const std::string& what) {
  KeyCheck{file}.fail(where, what);  // "file: where: what", as every key error
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::int64_t integer_of(const json& v, const std::string& file, const std::string& where,
                        std::int64_t at_least) {
  const bool whole = v.is_number_integer() ||
                     (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
                      std::abs(v.get<double>()) < 9e15);
  if (!whole) fail(file, where, "expected a whole number, got " + v.dump());
  const auto n = v.is_number_integer() ? v.get<std::int64_t>()
                                       : static_cast<std::int64_t>(v.get<double>());
  if (n < at_least) fail(file, where, "must be >= " + std::to_string(at_least) + ", got " + v.dump());
  return n;
}

std::string text_of(const json& v, const std::string& file, const std::string& where,
                    const std::vector<std::string>& allowed, const std::string& hint = "") {
  if (!v.is_string()) fail(file, where, "expected text, got " + v.dump());
  const std::string s = v.get<std::string>();
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
    fail(file, where, "unknown value '" + s + "' (known: " + join(allowed) + ")" + hint);
  return s;
}

// The key's own range check on one value, as "where: what".
void check_value(const ConfigField& field, const json& value, const std::string& file,
                 const std::string& where) {
  if (field.spec.check)
    if (auto wrong = field.spec.check(value)) fail(file, where, *wrong);
}

// Whether `c` holds for some value `parent` can take: a choice, or a
// number of its range (on its step grid, or whole for an integer key).
bool can_hold(const Condition& c, const Param& parent) {
  if (parent.dist == Dist::choice) {
    for (const auto& v : parent.choices)
      if (v.is_number() && c.holds(v.get<double>())) return true;
    return false;
  }
  const double lo = parent.low, hi = parent.high, x = c.value;
  if (c.op == ">") return hi > x;
  if (c.op == ">=") return hi >= x;
  if (c.op == "<") return lo < x;
  if (c.op == "<=") return lo <= x;
  if (c.op == "!=") return lo < hi || lo != x;
  if (x < lo || x > hi) return false;  // ==
  if (parent.step > 0) {
    const double k = (x - lo) / parent.step;
    return std::abs(k - std::round(k)) < 1e-9;
  }
  return !parent.integer || std::floor(x) == x;
}

Condition parse_condition(const json& v, const std::string& file, const std::string& where) {
  if (!v.is_string()) fail(file, where, "expected text such as \"momentum > 0\", got " + v.dump());
  std::istringstream in(v.get<std::string>());
  Condition c;
  std::string number, rest;
  in >> c.key >> c.op >> number;
  static const std::vector<std::string> ops = {">", ">=", "<", "<=", "==", "!="};
  bool ok = !c.key.empty() && std::find(ops.begin(), ops.end(), c.op) != ops.end() &&
            !(in >> rest);
  try {
    std::size_t used = 0;
    c.value = std::stod(number, &used);
    ok = ok && used == number.size();
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok)
    fail(file, where, "expected KEY OP NUMBER with OP one of > >= < <= == != (\"momentum > 0\"), got " +
                          v.dump());
  if (!std::isfinite(c.value))
    fail(file, where, "compares with " + number + ", which no drawn value can meet or miss "
                      "meaningfully: give a finite number");
  return c;
}

void read_choices(Param& p, const ConfigField& field, const json& arg, const std::string& file,
                  const std::string& where) {
  p.dist = Dist::choice;
  if (!arg.is_array() || arg.empty())
    fail(file, where + ".choice", "expected a non-empty list of values, got " + arg.dump());
  std::set<std::string> seen;
  for (const auto& c : arg) {
    TrainConfig probe;  // the key's type, as a configuration takes it
    probe.set(p.key, c, file + ": " + where + ".choice");
    check_value(field, c, file, where + ".choice");
    if (!seen.insert(c.dump()).second) fail(file, where + ".choice", c.dump() + " is listed twice");
  }
  p.choices = arg;
  if (p.step > 0) fail(file, where + ".step", "applies to uniform only");
}

// uniform or log_uniform = [low, high] (`where` ends with its name).
void read_range(Param& p, const ConfigField& field, const json& arg, const std::string& file,
                const std::string& where) {
  const std::string base = where.substr(0, where.rfind('.'));
  const KeyType type = field.spec.type;
  if (type != KeyType::real && type != KeyType::integer)
    fail(file, base, std::string("a ") + type_name(type) + " key takes choice = [...], not " +
                         where.substr(where.rfind('.') + 1));
  if (!arg.is_array() || arg.size() != 2 || !arg[0].is_number() || !arg[1].is_number())
    fail(file, where, "expected [low, high], two numbers, got " + arg.dump());
  p.low = arg[0].get<double>();
  p.high = arg[1].get<double>();
  if (!std::isfinite(p.low) || !std::isfinite(p.high))
    fail(file, where, "bounds must be finite, got " + arg.dump());
  if (!(p.low < p.high))
    fail(file, where, "an empty or reversed range " + arg.dump() + ": low must be below high");
  if (p.integer && (std::abs(p.low) >= 9.2e18 || std::abs(p.high) >= 9.2e18))
    fail(file, where, p.key + " is an integer key: bounds must fit a 64-bit integer (at most " +
                          std::to_string(INT64_MAX) + "), got " + arg.dump());
  if (p.step > 0 && p.step > p.high - p.low)
    fail(file, base + ".step", "a step of " + json(p.step).dump() + " is wider than the range " +
                                   arg.dump() + ": every trial would take " + json(p.low).dump());
  if (p.log() && p.low <= 0)
    fail(file, where, "a log range needs bounds above 0, got " + arg.dump() + " (use uniform for 0)");
  if (p.log() && p.step > 0)
    fail(file, base + ".step", "applies to uniform only (a log scale has no even step)");
  if (p.integer) {
    if (std::floor(p.low) != p.low || std::floor(p.high) != p.high)
      fail(file, where, p.key + " is an integer key: bounds must be whole, got " + arg.dump());
    if (p.step > 0 && std::floor(p.step) != p.step)
      fail(file, base + ".step", p.key + " is an integer key: step must be whole");
    if (p.step == 0 && !p.log()) p.step = 1;
  }
  if (p.step > 0) p.high = p.low + std::floor((p.high - p.low) / p.step + 1e-9) * p.step;
  const auto bound = [&](double x) { return p.integer ? json(static_cast<std::int64_t>(x)) : json(x); };
  check_value(field, bound(p.low), file, where + "[0]");
  check_value(field, bound(p.high), file, where + "[1]");
}

Param parse_param(const std::string& key, const json& v, const std::string& file) {
  const std::string where = "search.space." + key;
  const ConfigField* field = find_config_field(key);
  if (!field) fail(file, where, "not a configuration key (`lrtune train --help` lists them)");
  if (!field->identity())
    fail(file, where, "does not change results (where and how a run goes); search keys that do");
  if (!v.is_object())
    fail(file, where, "expected a table such as { log_uniform = [1e-4, 1.0] }, got " + v.dump());
  Param p;
  p.key = key;
  p.integer = field->spec.type == KeyType::integer;
  std::vector<std::string> dists;
  for (const auto& [name, value] : v.items()) {
    if (name == "uniform" || name == "log_uniform" || name == "choice") {
      dists.push_back(name);
    } else if (name == "step") {
      if (!value.is_number() || !(value.get<double>() > 0) || !std::isfinite(value.get<double>()))
        fail(file, where + ".step", "expected a number > 0, got " + value.dump());
      p.step = value.get<double>();
    } else if (name == "when") {
      p.when = parse_condition(value, file, where + ".when");
    } else {
      fail(file, where, "unknown distribution '" + name +
                            "' (known: uniform, log_uniform, choice; with step and when)");
    }
  }
  if (dists.size() != 1)
    fail(file, where, dists.empty() ? "no distribution: give uniform, log_uniform or choice"
                                    : "give one distribution, not " + join(dists));
  const std::string dist = dists[0];
  if (dist == "choice") {
    read_choices(p, *field, v.at(dist), file, where);
  } else {
    p.dist = dist == "uniform" ? Dist::uniform : Dist::log_uniform;
    read_range(p, *field, v.at(dist), file, where + "." + dist);
  }
  return p;
}

// One key of [search] other than space.
void read_option(SearchSpec& s, const std::string& key, const json& v, const std::string& file,
                 const std::vector<std::string>& known) {
  const std::string where = "search." + key;
  if (key == "sampler") {
    if (v == "grid")
      fail(file, where, "a grid is written as [[sweep]] tables; [search] takes random or tpe");
    s.sampler = text_of(v, file, where, {"random", "tpe"});
  } else if (key == "pruner") {
    s.pruner = text_of(v, file, where, {"none", "median", "asha", "hyperband"});
  } else if (key == "trials") {
    s.trials = integer_of(v, file, where, 1);
  } else if (key == "objective") {
    s.objective = text_of(v, file, where, {"val_acc", "val_loss"});
  } else if (key == "at") {
    s.at_last = text_of(v, file, where, {"best", "last"}) == "last";
  } else if (key == "seed") {
    s.seed = static_cast<std::uint64_t>(integer_of(v, file, where, 0));
  } else if (key == "startup_trials") {
    s.startup_trials = integer_of(v, file, where, 0);
  } else if (key == "ei_candidates") {
    s.ei_candidates = integer_of(v, file, where, 1);
  } else if (key == "median_startup_trials") {
    s.prune_startup_trials = integer_of(v, file, where, 0);
  } else if (key == "median_warmup_epochs") {
    s.prune_warmup_epochs = integer_of(v, file, where, 0);
  } else if (key == "asha_min_epochs") {
    s.min_epochs = integer_of(v, file, where, 1);
  } else if (key == "asha_eta") {
    s.eta = integer_of(v, file, where, 2);
  } else if (key == "hyperband_min_epochs") {
    s.hyperband_min_epochs = integer_of(v, file, where, 1);
  } else if (key == "hyperband_eta") {
    s.hyperband_eta = integer_of(v, file, where, 2);
  } else {
    fail(file, where, "unknown key (known: " + join(known) + ")");
  }
}

}  // namespace

bool Condition::holds(double x) const {
  if (op == ">") return x > value;
  if (op == ">=") return x >= value;
  if (op == "<") return x < value;
  if (op == "<=") return x <= value;
  if (op == "==") return x == value;
  return x != value;
}

std::string Condition::text() const {
  std::ostringstream out;
  out << key << " " << op << " " << value;
  return out.str();
}

json Param::value(double internal) const {
  if (dist == Dist::choice) {
    const auto i = static_cast<std::size_t>(
        std::clamp<double>(std::round(internal), 0, static_cast<double>(choices.size() - 1)));
    return choices[i];
  }
  if (integer) return static_cast<std::int64_t>(std::llround(internal));
  return internal;
}

const Param* SearchSpec::find(const std::string& key) const {
  for (const auto& p : space)
    if (p.key == key) return &p;
  return nullptr;
}

json SearchSpec::values(const std::map<std::string, double>& draw) const {
  json out = json::object();
  for (const auto& p : space) {
    const auto it = draw.find(p.key);
    if (it != draw.end()) out[p.key] = p.value(it->second);
  }
  return out;
}

json SearchSpec::identity() const {
  json space_json = json::object();
  for (const auto& p : space) {
    json d = {{"dist", p.dist == Dist::choice ? "choice" : p.log() ? "log_uniform" : "uniform"}};
    if (p.dist == Dist::choice) {
      d["choices"] = p.choices;
    } else {
      d["low"] = p.low;
      d["high"] = p.high;
      if (p.step > 0) d["step"] = p.step;
    }
    if (p.when) d["when"] = p.when->text();
    space_json[p.key] = d;
  }
  json id = {{"sampler", sampler}, {"objective", objective}, {"at", at_last ? "last" : "best"},
             {"seed", seed}, {"space", space_json}};
  if (sampler == "tpe") {
    id["startup_trials"] = startup_trials;
    id["ei_candidates"] = ei_candidates;
  }
  return id;
}

std::int64_t SearchSpec::most_epochs(std::int64_t base_epochs) const {
  const Param* p = find("epochs");
  if (!p) return base_epochs;
  if (p->dist != Dist::choice) return static_cast<std::int64_t>(p->high);
  std::int64_t most = 0;
  for (const auto& v : p->choices) most = std::max(most, v.get<std::int64_t>());
  return most;
}

SearchSpec parse_search(const json& table, const std::string& file) {
  if (!table.is_object()) fail(file, "search", "expected a table [search], got " + table.dump());
  SearchSpec s;
  static const std::vector<std::string> known = {
      "sampler", "pruner", "trials", "objective", "at", "seed", "startup_trials", "ei_candidates",
      "median_startup_trials", "median_warmup_epochs", "asha_min_epochs", "asha_eta",
      "hyperband_min_epochs", "hyperband_eta", "space"};
  for (const auto& [key, v] : table.items())
    if (key != "space") read_option(s, key, v, file, known);
  if (!table.contains("trials")) fail(file, "search.trials", "missing: the budget, a number of trials");
  if (!table.contains("space") || !table.at("space").is_object() || table.at("space").empty())
    fail(file, "search.space", "missing or empty: give at least one key, e.g. lr = { log_uniform = [1e-4, 1.0] }");
  std::vector<Param> plain, conditional;
  for (const auto& [key, v] : table.at("space").items()) {
    Param p = parse_param(key, v, file);
    (p.when ? conditional : plain).push_back(std::move(p));
  }
  for (const auto& p : conditional) {
    const std::string where = "search.space." + p.key + ".when";
    const auto parent = std::find_if(plain.begin(), plain.end(),
                                     [&](const Param& q) { return q.key == p.when->key; });
    if (parent == plain.end())
      fail(file, where, "'" + p.when->key + "' must be a searched key without a condition of its own");
    if (parent->dist == Dist::choice && !parent->choices[0].is_number())
      fail(file, where, "'" + p.when->key + "' takes values that are not numbers");
    if (!can_hold(*p.when, *parent))
      fail(file, where, "'" + p.when->text() + "' never holds over " + p.when->key +
                            "'s values, so " + p.key + " would never be searched");
  }
  s.space = std::move(plain);
  s.space.insert(s.space.end(), conditional.begin(), conditional.end());
  if (s.sampler == "tpe" && s.trials < s.startup_trials)
    fail(file, "search.trials",
         std::to_string(s.trials) + " is fewer than TPE's " + std::to_string(s.startup_trials) +
             " random start-up trials" + (table.contains("startup_trials") ? "" : " (its default)") +
             ": raise trials, lower startup_trials, or use sampler = \"random\"");
  return s;
}

}  // namespace lrtune::search
