// TensorBoard runs from stored trials: event content (scalars, HParams
// session and experiment summaries), run naming, the export and the live
// follower. The framing of the files is in tensorboard_events.cpp.
#include "report/tensorboard.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>

#include "core/files.h"
#include "core/config.h"
#include "core/errors.h"
#include "report/study.h"
#include "store/trial_summary.h"
#include "report/tensorboard_events.h"
#include "tb_hparams.pb.h"

namespace lrtune::report {
namespace fs = std::filesystem;
using json = nlohmann::json;
using tb::Event;
namespace hp = lrtune::tb::hparams;

namespace {

constexpr const char* kPluginName = "hparams";
constexpr const char* kExperimentTag = "_hparams_/experiment";
constexpr const char* kSessionStartTag = "_hparams_/session_start_info";
constexpr const char* kSessionEndTag = "_hparams_/session_end_info";

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// ---- hyper-parameters -------------------------------------------------------

struct HParam {
  std::string name;
  hp::DataType type;
};

hp::DataType type_of(const json& v) {
  if (v.is_boolean()) return hp::DATA_TYPE_BOOL;
  if (v.is_number()) return hp::DATA_TYPE_FLOAT64;
  return hp::DATA_TYPE_STRING;
}

// Numbers, strings and bools as they are; a list ("milestones") as text.
std::optional<google::protobuf::Value> to_value(const json& v) {
  google::protobuf::Value out;
  if (v.is_boolean()) out.set_bool_value(v.get<bool>());
  else if (v.is_number()) out.set_number_value(v.get<double>());
  else if (v.is_string()) out.set_string_value(v.get<std::string>());
  else if (v.is_array()) {
    std::string text;
    for (const auto& x : v) text += (text.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
    out.set_string_value(text);
  } else {
    return std::nullopt;
  }
  return out;
}

// The keys shown as hyper-parameters: those that vary across the trials, and
// those a trial's identity holds (a result-changing value off its default).
// Where a run goes (threads, device, data) is never one.
std::vector<HParam> hparams_of(const std::vector<TrialRecord>& trials) {
  std::map<std::string, std::vector<const json*>> values;
  for (const auto& t : trials) {
    if (!t.spec.config.is_object()) continue;
    for (const auto& [key, v] : t.spec.config.items()) {
      const ConfigField* f = find_config_field(key);
      if (!(f && !f->identity()) && !v.is_null()) values[key].push_back(&v);
    }
  }
  std::vector<HParam> out;
  for (const auto& [key, vs] : values) {
    const ConfigField* f = find_config_field(key);
    bool differs = vs.size() != trials.size(), off_default = false, mixed = false;
    for (const json* v : vs) {
      differs = differs || *v != *vs.front();
      off_default = off_default || !f || *v != f->spec.default_value;
      mixed = mixed || type_of(*v) != type_of(*vs.front());
    }
    if (differs || off_default)
      out.push_back({key, mixed ? hp::DATA_TYPE_STRING : type_of(*vs.front())});
  }
  return out;
}

std::string names_of(const std::vector<HParam>& hps) {
  std::string s;
  for (const auto& h : hps) s += h.name + ":" + std::to_string(h.type) + ";";
  return s;
}

// ---- events -----------------------------------------------------------------

Event plugin_event(const std::string& tag, const hp::HParamsPluginData& data, double wall) {
  Event e;
  e.set_wall_time(wall);
  auto* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  auto* pd = v->mutable_metadata()->mutable_plugin_data();
  pd->set_plugin_name(kPluginName);
  pd->set_content(data.SerializeAsString());
  return e;
}

hp::DatasetType dataset_of(const std::string& tag) {
  if (tag.rfind("train/", 0) == 0) return hp::DATASET_TRAINING;
  if (tag.rfind("val/", 0) == 0) return hp::DATASET_VALIDATION;
  return hp::DATASET_UNKNOWN;
}

Event experiment_event(const std::vector<HParam>& hps, const std::string& description) {
  hp::HParamsPluginData d;
  d.set_version(0);
  auto* x = d.mutable_experiment();
  x->set_description(description);
  x->set_time_created_secs(unix_now());
  for (const auto& h : hps) {
    auto* info = x->add_hparam_infos();
    info->set_name(h.name);
    info->set_type(h.type);
  }
  for (const auto& s : tensorboard_scalars()) {
    if (!s.metric) continue;
    auto* m = x->add_metric_infos();
    m->mutable_name()->set_tag(s.tag);
    m->set_dataset_type(dataset_of(s.tag));
  }
  return plugin_event(kExperimentTag, d, unix_now());
}

Event session_start_event(const TrialRecord& t, const std::vector<HParam>& hps) {
  hp::HParamsPluginData d;
  d.set_version(0);
  auto* start = d.mutable_session_start_info();
  for (const auto& h : hps) {
    if (!t.spec.config.is_object() || !t.spec.config.contains(h.name)) continue;
    if (auto v = to_value(t.spec.config[h.name])) (*start->mutable_hparams())[h.name] = *v;
  }
  start->set_start_time_secs(t.started_at > 0 ? t.started_at : unix_now());
  return plugin_event(kSessionStartTag, d, unix_now());
}

// done: success; failed and diverged: failure; pruned and stopped ended early
// by decision: unknown. None while the trial may still run.
std::optional<Event> session_end_event(const TrialRecord& t) {
  if (!is_finished(t.status)) return std::nullopt;
  hp::HParamsPluginData d;
  d.set_version(0);
  auto* end = d.mutable_session_end_info();
  end->set_status(t.status == RunStatus::done ? hp::STATUS_SUCCESS
                  : t.status == RunStatus::failed || t.status == RunStatus::diverged
                      ? hp::STATUS_FAILURE
                      : hp::STATUS_UNKNOWN);
  end->set_end_time_secs(t.ended_at > 0 ? t.ended_at : unix_now());
  return plugin_event(kSessionEndTag, d, unix_now());
}

Event epoch_event(const EpochMetrics& m, double wall) {
  Event e;
  e.set_wall_time(wall);
  e.set_step(m.epoch);
  for (const auto& s : tensorboard_scalars()) {
    auto* v = e.mutable_summary()->add_value();
    v->set_tag(s.tag);
    v->set_simple_value(static_cast<float>(m.*s.member));
  }
  return e;
}

// ---- runs -------------------------------------------------------------------

// What a run folder already holds.
struct RunState {
  std::int64_t last_step = 0;
  bool started = false, ended = false;
};

RunState read_state(const fs::path& folder) {
  RunState st;
  if (!fs::is_directory(folder)) return st;
  for (const auto& e : tb::read_events(folder)) {
    if (!e.has_summary()) continue;
    for (const auto& v : e.summary().value()) {
      if (v.tag() == kSessionStartTag) st.started = true;
      else if (v.tag() == kSessionEndTag) st.ended = true;
      else if (v.value_case() == lrtune::tb::Summary::Value::kSimpleValue)
        st.last_step = std::max<std::int64_t>(st.last_step, e.step());
    }
  }
  return st;
}

// What a run lacks: its session start before anything, the epochs after
// the last step written, its end once the trial finished.
std::vector<Event> run_events(const TrialRecord& t, const std::vector<EpochMetrics>& epochs,
                              const std::vector<HParam>& hps, RunState& st) {
  std::vector<Event> out;
  if (st.ended && !is_finished(t.status)) st.ended = false;  // a failed trial retried
  if (!st.started && !epochs.empty()) {
    out.push_back(session_start_event(t, hps));
    st.started = true;
  }
  const double wall = unix_now();  // epochs keep no end time
  for (const auto& m : epochs) {
    if (m.epoch <= st.last_step) continue;
    out.push_back(epoch_event(m, wall));
    st.last_step = m.epoch;
  }
  if (st.started && !st.ended)
    if (auto end = session_end_event(t)) {
      out.push_back(*end);
      st.ended = true;
    }
  return out;
}

// A label as one folder name: no separators, never "." or "..", short enough
// for any file system (the full label is in the run's hyper-parameters).
std::string folder_safe(std::string s, const std::string& fallback) {
  for (char& c : s)
    if (c == '/' || c == '\\') c = '_';
  return s.empty() || s == "." || s == ".." ? fallback : bounded_file_name(s);
}

// Runs are named by label; labels two trials share get the trial id after them.
std::vector<std::string> run_names(const std::vector<TrialRecord>& trials) {
  std::map<std::string, int> count;
  for (const auto& t : trials) ++count[t.spec.label];
  std::vector<std::string> out;
  for (const auto& t : trials) {
    std::string name = t.spec.label;
    if (count[name] > 1) name += " [" + t.spec.id + "]";
    out.push_back(folder_safe(name, t.spec.id));
  }
  return out;
}

void write_experiment(const fs::path& logdir, const std::vector<HParam>& hps,
                      const std::string& description) {
  tb::make_folder(logdir);
  tb::remove_lrtune_event_files(logdir);
  tb::append_events(tb::new_event_file(logdir), {experiment_event(hps, description)});
}

}  // namespace

const std::vector<TbScalar>& tensorboard_scalars() {
  static const std::vector<TbScalar> scalars = {
      {"train/loss", &EpochMetrics::train_loss, true}, {"train/acc", &EpochMetrics::train_acc, true},
      {"val/loss", &EpochMetrics::val_loss, true},     {"val/acc", &EpochMetrics::val_acc, true},
      {"test/loss", &EpochMetrics::test_loss, true},   {"test/acc", &EpochMetrics::test_acc, true},
      {"lr", &EpochMetrics::lr, false},                {"images_per_s", &EpochMetrics::images_per_s, false},
  };
  return scalars;
}

namespace {

// One folder of the export: its records and each trial's run name.
struct ExportSource {
  StudyRecords records;
  std::vector<std::string> names;
};

ExportSource read_source(const std::string& dir, const OpenStore& open, bool prefix) {
  auto store = open(dir);
  ExportSource s{read_study(*store, dir), {}};
  const std::string study = folder_safe(s.records.name, "study");
  // A `lrtune train` folder (no study, one trial "train") is named after itself.
  if (!store->study() && s.records.trials.size() == 1) {
    s.names = {study};
    return s;
  }
  s.names = run_names(s.records.trials);
  if (prefix)
    for (auto& n : s.names) n = study + "/" + n;
  return s;
}

std::string unique_name(const std::string& name, std::set<std::string>& used) {
  std::string out = name;
  for (int i = 2; used.count(out); ++i) out = name + " (" + std::to_string(i) + ")";
  used.insert(out);
  return out;
}

}  // namespace

TensorBoardExport export_tensorboard(const std::vector<std::string>& dirs, const OpenStore& open,
                                     const std::string& logdir) {
  if (dirs.empty()) throw ConfigError("export tensorboard: give at least one study or run folder");
  std::vector<ExportSource> sources;
  std::vector<TrialRecord> all;
  for (const auto& d : dirs) {
    sources.push_back(read_source(d, open, dirs.size() > 1));
    all.insert(all.end(), sources.back().records.trials.begin(), sources.back().records.trials.end());
  }
  const auto hps = hparams_of(all);
  write_experiment(logdir, hps, dirs.size() == 1 ? sources[0].records.name : "lrtune studies");
  TensorBoardExport result;
  std::set<std::string> used;
  for (const auto& s : sources) {
    for (std::size_t i = 0; i < s.records.trials.size(); ++i) {
      if (s.records.epochs[i].empty()) {
        ++result.without_epochs;
        continue;
      }
      const std::string name = unique_name(s.names[i], used);
      const fs::path folder = fs::path(logdir) / name;
      tb::make_folder(folder);
      tb::remove_lrtune_event_files(folder);
      RunState st;
      tb::append_events(tb::new_event_file(folder), run_events(s.records.trials[i], s.records.epochs[i], hps, st));
      result.runs.push_back(name);
    }
  }
  return result;
}

struct TensorBoardLive::Run {
  fs::path folder, file;
  RunState state;
};

TensorBoardLive::TensorBoardLive(Options options) : options_(std::move(options)) {
  tb::make_folder(options_.logdir);  // a log directory that cannot be made fails at once
}

TensorBoardLive::~TensorBoardLive() = default;

void TensorBoardLive::update(Store& store) {
  const auto info = store.study();
  const auto trials = current_trials(store);
  const auto hps = hparams_of(trials);
  if (options_.experiment && names_of(hps) != experiment_keys_) {
    write_experiment(options_.logdir, hps, info ? info->name : "");
    experiment_keys_ = names_of(hps);
  }
  auto names = run_names(trials);
  if (!options_.run_name.empty() && trials.size() == 1) names = {folder_safe(options_.run_name, "run")};
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const TrialRecord& t = trials[i];
    auto& run = runs_[t.spec.id];
    if (!run) {
      run = std::make_unique<Run>();
      run->folder = fs::path(options_.logdir) / names[i];
      run->state = read_state(run->folder);
    }
    const bool finished_unwritten = is_finished(t.status) && !run->state.ended;
    if (t.epochs_done <= run->state.last_step && !finished_unwritten) continue;
    const auto events = run_events(t, store.epochs(t.spec.id), hps, run->state);
    if (is_finished(t.status)) run->state.ended = true;  // nothing more will come
    if (events.empty()) continue;
    tb::make_folder(run->folder);
    if (run->file.empty()) run->file = tb::new_event_file(run->folder);
    tb::append_events(run->file, events);
  }
}

void TensorBoardLive::follow(Store& store, const std::function<void(const std::string&)>& warn) {
  if (stopped_) return;
  try {
    update(store);
  } catch (const Error& e) {
    stopped_ = true;
    warn(std::string("warning: TensorBoard: ") + e.what() + "; no more events are written");
  }
}

}  // namespace lrtune::report
