// Parsing and checking of study files; expansion lives in study/expand.cpp.
#include "study/study_file.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/config.h"
#include "core/errors.h"

namespace lrtune {
namespace {

// The longest study or sweep name: a study's name is its folder's, a sweep's
// starts every label, and labels name TensorBoard runs and report files.
constexpr std::size_t kMaxNameLength = 100;

using json = nlohmann::json;
using Column = std::pair<std::string, json>;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ConfigError(where + ": " + what);
}

void allow_keys(const json& table, std::initializer_list<const char*> keys,
                const std::string& where, const std::string& hint) {
  for (auto it = table.begin(); it != table.end(); ++it)
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }))
      fail(where + it.key(), "unknown key (" + hint + ")");
}

std::string get_string(const json& doc, const char* key, const std::string& file) {
  if (!doc.contains(key)) return "";
  if (!doc[key].is_string()) fail(file + ": " + key, "expected a string, got " + doc[key].dump());
  return doc[key].get<std::string>();
}

// A swept key must exist, change results, and take each listed value.
void check_values(const std::string& key, const json& values, const std::string& where) {
  const ConfigField* field = find_config_field(key);
  if (!field) fail(where + key, "unknown key (see `lrtune train --help` for the keys)");
  if (!field->identity())
    fail(where + key, "does not change results (it is not part of a trial's identity), so "
                      "sweeping it would repeat the same trial; set it in [base] or on the "
                      "command line");
  if (!values.is_array()) fail(where + key, "expected a list of values, got " + values.dump());
  if (values.empty()) fail(where + key, "empty list: give at least one value");
  TrainConfig scratch;
  for (const auto& v : values) apply_json(scratch, json{{key, v}}, where.substr(0, where.size() - 1));
}

std::vector<Column> read_group(const json& table, const std::string& where) {
  if (!table.is_object())
    fail(where.substr(0, where.size() - 1),
         "expected a table of key = [values], got " + table.dump());
  if (table.empty()) fail(where.substr(0, where.size() - 1), "empty: sweep at least one key");
  std::vector<Column> group;
  for (auto it = table.begin(); it != table.end(); ++it) {
    check_values(it.key(), it.value(), where);
    group.emplace_back(it.key(), it.value());
  }
  return group;
}

std::vector<std::vector<Column>> read_zips(const json& zip, const std::string& where) {
  std::vector<json> tables;
  if (zip.is_array()) tables.assign(zip.begin(), zip.end());
  else tables.push_back(zip);
  std::vector<std::vector<Column>> zips;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string w = zip.is_array() ? where + "zip[" + std::to_string(i + 1) + "]."
                                         : where + "zip.";
    auto group = read_group(tables[i], w);
    for (const auto& [key, values] : group)
      if (values.size() != group.front().second.size())
        fail(w + key, "has " + std::to_string(values.size()) + " values but " +
                          group.front().first + " has " +
                          std::to_string(group.front().second.size()) +
                          "; zipped lists must have equal lengths");
    zips.push_back(std::move(group));
  }
  return zips;
}

Sweep read_sweep(const json& t, const std::string& where) {
  if (!t.is_object()) fail(where.substr(0, where.size() - 1), "expected a table");
  allow_keys(t, {"name", "set", "grid", "zip"}, where, "a sweep has name, set, grid and zip");
  Sweep s;
  if (t.contains("name")) {
    if (!t["name"].is_string()) fail(where + "name", "expected a string");
    s.name = t["name"].get<std::string>();
    if (s.name.size() > kMaxNameLength)
      fail(where + "name", "is " + std::to_string(s.name.size()) + " characters long; at most " +
                               std::to_string(kMaxNameLength) + " (it starts every trial's label)");
  }
  if (t.contains("set")) {
    TrainConfig scratch;
    apply_json(scratch, t["set"], where + "set");
    s.set = t["set"];
  }
  if (t.contains("grid")) s.grid = read_group(t["grid"], where + "grid.");
  if (t.contains("zip")) s.zips = read_zips(t["zip"], where);
  if (s.grid.empty() && s.zips.empty() && s.set.empty())
    fail(where.substr(0, where.size() - 1), "empty sweep: give a grid, a zip or a set");

  std::set<std::string> seen;
  auto once = [&](const std::string& key) {
    if (!seen.insert(key).second)
      fail(where + key, "appears more than once in this sweep (set, grid, zip)");
  };
  for (auto it = s.set.begin(); it != s.set.end(); ++it) once(it.key());
  for (const auto& c : s.grid) once(c.first);
  for (const auto& g : s.zips)
    for (const auto& c : g) once(c.first);
  return s;
}

// A study searches or sweeps: a key in both would be set twice, and a grid
// crossed with a search is not something a sampler can extend.
void check_search(const Study& st, const std::string& file) {
  for (std::size_t i = 0; i < st.sweeps.size(); ++i) {
    const Sweep& s = st.sweeps[i];
    std::vector<std::string> keys;
    for (auto it = s.set.begin(); it != s.set.end(); ++it) keys.push_back(it.key());
    for (const auto& c : s.grid) keys.push_back(c.first);
    for (const auto& g : s.zips)
      for (const auto& c : g) keys.push_back(c.first);
    for (const auto& k : keys)
      if (st.search->find(k))
        fail(file + ": sweep[" + std::to_string(i + 1) + "]." + k,
             "is also searched in [search.space]; a key is either swept or searched (keep one)");
  }
  if (!st.sweeps.empty())
    fail(file + ": sweep", "a study either sweeps ([[sweep]]) or searches ([search]); put the "
                           "fixed keys in [base] and the searched ones in [search.space]");
  if (st.repeats != 1)
    fail(file + ": repeats", "a search study runs each drawn configuration once; to search "
                             "over seeds too, add seed to [search.space]");
}

}  // namespace

Study parse_study(const json& doc, const std::string& file) {
  if (!doc.is_object()) fail(file, "a study file is a TOML table");
  allow_keys(doc, {"name", "description", "repeats", "base", "sweep", "search"}, file + ": ",
             "a study file has name, description, repeats, [base], [[sweep]] and [search]");
  Study st;
  st.file = file;
  st.source = doc;
  st.name = get_string(doc, "name", file);
  if (st.name.empty()) fail(file + ": name", "missing: every study needs a name");
  for (char c : st.name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      fail(file + ": name", "'" + st.name + "' names a folder: use letters, digits, - _ .");
  if (st.name == "." || st.name == "..")
    fail(file + ": name", "'" + st.name + "' is the current or parent folder, not a folder of its "
                          "own: use letters, digits, - _ .");
  if (st.name.find_first_not_of('.') == std::string::npos)
    fail(file + ": name", "'" + st.name + "' is only dots, which reads as no name at all: use "
                          "letters or digits too");
  if (st.name.size() > kMaxNameLength)
    fail(file + ": name", "is " + std::to_string(st.name.size()) + " characters long; at most " +
                              std::to_string(kMaxNameLength) + " (it names a folder)");
  st.description = get_string(doc, "description", file);
  if (doc.contains("repeats")) {
    const json& r = doc["repeats"];
    if (!r.is_number_integer() || r.get<std::int64_t>() < 1)
      fail(file + ": repeats", "expected a whole number >= 1, got " + r.dump());
    st.repeats = r.get<std::int64_t>();
  }
  if (doc.contains("base")) {
    TrainConfig scratch;
    apply_json(scratch, doc["base"], file + ": base");
    st.base = doc["base"];
  }
  if (doc.contains("sweep")) {
    const json& sweeps = doc["sweep"];
    if (!sweeps.is_array())
      fail(file + ": sweep", "expected [[sweep]] tables (an array of tables)");
    for (std::size_t i = 0; i < sweeps.size(); ++i)
      st.sweeps.push_back(read_sweep(sweeps[i], file + ": sweep[" + std::to_string(i + 1) + "]."));
  }
  if (doc.contains("search")) {
    st.search = search::parse_search(doc["search"], file);
    check_search(st, file);
  }
  return st;
}

Study read_study_file(const std::string& path) { return parse_study(read_toml_file(path), path); }

}  // namespace lrtune
