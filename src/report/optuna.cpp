// The Optuna journal export. A journal is one JSON operation per line; Optuna
// replays it to rebuild its studies. lrtune writes one CREATE_STUDY, the
// study's user attributes, and one CREATE_TRIAL per trial carrying its state,
// value, parameters with their distributions, intermediate values and times
// (what Optuna's own create_new_trial(template_trial) writes).
#include "report/optuna.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/errors.h"
#include "core/metrics.h"
#include "report/search_report.h"
#include "report/study.h"
#include "search/history.h"

namespace lrtune::report {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

// Optuna's enums as its journal stores them.
enum OptunaState { kRunning = 0, kComplete = 1, kPruned = 2, kFail = 3, kWaiting = 4 };
enum OptunaDirection { kMinimize = 1, kMaximize = 2 };
enum JournalOp { kCreateStudy = 0, kSetStudyUserAttr = 2, kCreateTrial = 4 };

double EpochMetrics::*objective_member(const std::string& name) {
  for (const auto& f : metric_fields())
    if (name == f.name && (name.find("_acc") != std::string::npos ||
                           name.find("_loss") != std::string::npos))
      return f.member;
  throw ConfigError("--objective " + name +
                    ": expected val_acc, val_loss, test_acc, test_loss, train_acc or train_loss");
}

bool minimized(const std::string& objective) {
  return objective.find("_loss") != std::string::npos;
}

// Seconds since the epoch as Optuna's datetime text (UTC, microseconds).
json iso_time(double unix_seconds) {
  if (unix_seconds <= 0) return nullptr;
  const auto whole = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[40], out[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out, sizeof out, "%s.%06d", buf,
                static_cast<int>(std::lround((unix_seconds - whole) * 1e6)) % 1000000);
  return out;
}

// One parameter of the study for Optuna: its key, its distribution as
// Optuna's journal stores it, and for a categorical one its choices (a
// trial's internal value is then the index of its choice; for the numeric
// distributions it is the value itself).
struct Parameter {
  std::string key;
  json distribution;
  std::vector<json> choices;
};

json choice_of(const json& v) { return v.is_array() || v.is_object() ? json(v.dump()) : v; }

json categorical(const std::vector<json>& choices) {
  return {{"name", "CategoricalDistribution"}, {"attributes", {{"choices", choices}}}};
}

// Whether `key` means something for a trial: the run's own keys always; a
// key a kind declares only when the trial uses that kind (milestones with the
// multistep schedule, not with cosine). Others are left out of its
// parameters, as Optuna leaves out a conditional parameter a trial never drew.
bool applies(const json& config, const std::string& key) {
  TrainConfig kinds;  // the trial's optimizer, schedule and model; defaults where left out
  kinds.optimizer = config.value("optimizer", kinds.optimizer);
  kinds.schedule = config.value("schedule", kinds.schedule);
  kinds.model = config.value("model", kinds.model);
  return chosen_kinds_read(kinds, key);
}

// The value of a parameter for one trial (its default where the trial's
// configuration leaves the key out).
json value_of(const json& config, const std::string& key) {
  if (config.contains(key)) return choice_of(config[key]);
  const ConfigField* f = find_config_field(key);
  return f ? choice_of(f->spec.default_value) : json(nullptr);
}

// A grid's parameters: the result-changing keys whose value varies across
// the trials, each a categorical choice among the values it takes (in the
// order the trials first use them). Lists (milestones) become text.
std::vector<Parameter> grid_parameters(const std::vector<TrialRecord>& trials) {
  std::set<std::string> keys;
  for (const auto& t : trials)
    for (const auto& [key, v] : t.spec.config.items()) {
      const ConfigField* f = find_config_field(key);
      if (!f || f->identity()) keys.insert(key);
    }
  std::vector<Parameter> out;
  for (const auto& key : keys) {
    std::vector<json> choices;
    std::size_t users = 0;
    for (const auto& t : trials) {
      if (!applies(t.spec.config, key)) continue;
      ++users;
      const json v = value_of(t.spec.config, key);
      if (std::find(choices.begin(), choices.end(), v) == choices.end()) choices.push_back(v);
    }
    // A parameter varies, or only some trials have it (a conditional one).
    if (choices.size() > 1 || (users > 0 && users < trials.size()))
      out.push_back({key, categorical(choices), choices});
  }
  return out;
}

// A searched key as the space draws it: FloatDistribution (log, step),
// IntDistribution for an integer key, CategoricalDistribution for a choice,
// with Optuna's attribute names (its distribution_to_json).
Parameter search_parameter(const search::Param& p) {
  if (p.dist == search::Dist::choice) {
    std::vector<json> choices;
    for (const auto& c : p.choices) choices.push_back(choice_of(c));
    return {p.key, categorical(choices), choices};
  }
  if (p.integer)
    return {p.key,
            {{"name", "IntDistribution"},
             {"attributes", {{"low", static_cast<std::int64_t>(p.low)},
                             {"high", static_cast<std::int64_t>(p.high)},
                             {"log", p.log()},
                             {"step", p.log() ? 1 : static_cast<std::int64_t>(p.step)}}}},
            {}};
  return {p.key,
          {{"name", "FloatDistribution"},
           {"attributes", {{"low", p.low}, {"high", p.high}, {"log", p.log()},
                           {"step", p.step > 0 ? json(p.step) : json(nullptr)}}}},
          {}};
}

// The study's parameters and, for each trial, the values it has: a search
// study's are its space's keys (a conditional key only where its condition
// held, a key only where the trial's kinds read it); a grid's, the keys that
// vary across its trials.
struct Parameters {
  std::vector<Parameter> list;
  std::optional<search::SearchSpec> search;

  json values(const TrialRecord& t) const {
    json out = json::object();
    const json& config = t.spec.config;
    if (search) {
      const json drawn = search::searched_values(*search, config);
      for (const auto& [key, v] : drawn.items())
        if (applies(config, key)) out[key] = v;
      return out;
    }
    for (const auto& p : list)
      if (applies(config, p.key)) out[p.key] = value_of(config, p.key);
    return out;
  }
};

Parameters parameters_of(const StudyRecords& r) {
  Parameters out;
  out.search = stored_search_spec(r.spec);
  if (!out.search) {
    out.list = grid_parameters(r.trials);
    return out;
  }
  for (const auto& p : out.search->space) out.list.push_back(search_parameter(p));
  return out;
}

int state_of(RunStatus s) {
  switch (s) {
    case RunStatus::done: return kComplete;
    case RunStatus::pruned: return kPruned;
    case RunStatus::running: return kRunning;
    case RunStatus::pending: return kWaiting;
    default: return kFail;  // diverged, failed, stopped
  }
}

struct TrialExport {
  json op;
  int state = kFail;
};

TrialExport trial_op(const TrialRecord& t, const std::vector<EpochMetrics>& epochs,
                     const Parameters& params, const OptunaExportOptions& o,
                     int study_id) {
  const auto member = objective_member(o.objective);
  json intermediate = json::object();
  double best = NAN, last = NAN;
  for (const auto& e : epochs) {
    const double v = e.*member;
    if (!std::isfinite(v)) continue;
    intermediate[std::to_string(e.epoch)] = v;
    last = v;
    if (std::isnan(best) || (minimized(o.objective) ? v < best : v > best)) best = v;
  }
  int state = state_of(t.status);
  json value = nullptr;
  if (state == kComplete || state == kPruned) {
    const double v = state == kPruned || o.at_last_epoch ? last : best;
    if (std::isfinite(v)) value = v;
    else if (state == kComplete) state = kFail;  // nothing finite to report
  }
  json distributions = json::object(), internal = json::object();
  const json values = params.values(t);
  for (const auto& p : params.list) {
    if (!values.contains(p.key)) continue;
    const json& v = values.at(p.key);
    distributions[p.key] = p.distribution.dump();
    if (p.choices.empty()) {
      internal[p.key] = v.get<double>();
    } else {
      const auto at = std::find(p.choices.begin(), p.choices.end(), choice_of(v));
      if (at == p.choices.end()) continue;  // a value outside the space: not a parameter here
      internal[p.key] = at - p.choices.begin();
    }
  }
  json attrs = {{"lrtune_id", t.spec.id}, {"label", t.spec.label},
                {"lrtune_status", to_string(t.status)}, {"epochs", t.epochs_done}};
  if (!t.error.empty()) attrs["error"] = t.error;
  json op = {{"op_code", kCreateTrial}, {"study_id", study_id}, {"state", state},
             {"value", value}, {"values", nullptr}, {"distributions", distributions},
             {"params", internal}, {"user_attrs", attrs}, {"system_attrs", json::object()},
             {"intermediate_values", intermediate},
             {"datetime_start", state == kWaiting ? json(nullptr) : iso_time(t.started_at)}};
  if (state != kRunning && state != kWaiting)
    op["datetime_complete"] = iso_time(t.ended_at > 0 ? t.ended_at : t.started_at);
  return {op, state};
}

// Optuna's own lock for journal files: a symbolic link PATH.lock -> PATH,
// created by whoever writes. Waits while another writer holds it.
class JournalLock {
 public:
  explicit JournalLock(const std::string& path) : lock_(path + ".lock") {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::symlink(path.c_str(), lock_.c_str()) != 0) {
      if (errno != EEXIST)
        throw StoreError(lock_ + ": cannot create the journal's lock: " + std::strerror(errno));
      if (std::chrono::steady_clock::now() > give_up)
        throw StoreError(lock_ + ": another process has held the journal's lock for 30 s; if "
                                 "none is writing, remove this file");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~JournalLock() { ::unlink(lock_.c_str()); }
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;

 private:
  std::string lock_;
};

// The id Optuna's replay will give the next study (one per distinct name
// created, deleted ones included); throws when `name` is taken.
int next_study_id(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::set<std::string> names;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    json op;
    try {
      op = json::parse(line);
    } catch (const json::exception&) {
      throw ConfigError(path + ":" + std::to_string(number) + ": not an Optuna journal line");
    }
    if (op.value("op_code", -1) == kCreateStudy) names.insert(op.value("study_name", ""));
  }
  if (names.count(name))
    throw ConfigError(path + " already holds a study named '" + name +
                      "'; give another with --study-name, or write to a new file");
  return static_cast<int>(names.size());
}

void append_all(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError(path + ": cannot open: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw StoreError(path + ": cannot write: " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  if (::close(fd) != 0 || !synced)
    throw StoreError(path + ": cannot write: " + std::strerror(synced ? errno : err));
}

}  // namespace

OptunaExport export_optuna(const std::string& dir,
                           const std::function<std::unique_ptr<Store>(const std::string&)>& open,
                           const OptunaExportOptions& o) {
  objective_member(o.objective);  // an unknown objective fails before anything is read
  if (o.storage.find("://") != std::string::npos)
    throw ConfigError("--storage " + o.storage +
                      ": lrtune writes Optuna journal files; give a file path (e.g. study.log), "
                      "then copy it into an RDB with optuna.copy_study (docs/export.md)");
  const StudyRecords r = read_study(*open(dir), dir);
  OptunaExport result;
  result.study_name = o.study_name.empty() ? r.name : o.study_name;
  const Parameters params = parameters_of(r);
  result.parameters = static_cast<int>(params.list.size());
  const std::string worker = "lrtune-" + std::to_string(::getpid());
  JournalLock lock(o.storage);
  const int study_id = next_study_id(o.storage, result.study_name);
  std::string text =
      json{{"op_code", kCreateStudy}, {"worker_id", worker}, {"study_name", result.study_name},
           {"directions", {minimized(o.objective) ? kMinimize : kMaximize}}}.dump() + "\n";
  const json attrs = {{"lrtune_source", dir}, {"description", r.description},
                      {"objective", o.objective + (o.at_last_epoch ? " (last epoch)" : " (best epoch)")}};
  for (const auto& [key, value] : attrs.items())
    text += json{{"op_code", kSetStudyUserAttr}, {"worker_id", worker}, {"study_id", study_id},
                 {"user_attr", {{key, value}}}}.dump() + "\n";
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    auto t = trial_op(r.trials[i], r.epochs[i], params, o, study_id);
    t.op["worker_id"] = worker;
    text += t.op.dump() + "\n";
    int& count = t.state == kComplete ? result.complete : t.state == kPruned ? result.pruned
                 : t.state == kFail   ? result.failed   : result.unfinished;
    ++count;
  }
  append_all(o.storage, text);
  return result;
}

}  // namespace lrtune::report
