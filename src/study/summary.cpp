// Per-trial summaries, progress lines, the status table and the epoch export.
#include "study/summary.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/format.h"
#include "core/provenance.h"

namespace lrtune {
namespace {

using json = nlohmann::json;

// A config value as a table cell: strings bare, lists joined with commas.
std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + cell(e);
    return s;
  }
  return v.is_null() ? "" : v.dump();
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A swept key's column; "lr" would clash with the epoch's own rate column.
std::string key_column(const std::string& key) {
  const auto& cols = epoch_csv_columns();
  return std::find(cols.begin(), cols.end(), key) == cols.end() ? key : "config_" + key;
}

std::string pad(const std::string& s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::vector<TrialSummary> summarize(Store& store, const std::vector<std::string>& ids) {
  std::vector<TrialSummary> out;
  double all_seconds = 0;
  std::int64_t all_epochs = 0;
  for (const auto& trial : select_trials(store, ids)) {
    out.push_back(summarize_trial(trial, store.epochs(trial.spec.id)));
    all_seconds += out.back().wall_seconds;
    all_epochs += out.back().trial.epochs_done;
  }
  // A trial with no epoch yet is estimated from the others' mean.
  const double mean_all = all_epochs ? all_seconds / static_cast<double>(all_epochs) : 0;
  for (auto& s : out) {
    if (is_finished(s.trial.status)) continue;
    const double per_epoch = s.mean_epoch_s > 0 ? s.mean_epoch_s : mean_all;
    const auto left = std::max<std::int64_t>(0, s.trial.spec.epochs_total - s.trial.epochs_done);
    s.seconds_left = per_epoch * static_cast<double>(left);
  }
  return out;
}

StudyProgress progress(const std::vector<TrialSummary>& trials, int parallel) {
  StudyProgress p;
  double work_left = 0;
  bool unknown = false;
  int unfinished = 0;
  for (const auto& s : trials) {
    switch (s.trial.status) {
      case RunStatus::done: ++p.done; break;
      case RunStatus::diverged: ++p.diverged; break;
      case RunStatus::failed: ++p.failed; break;
      case RunStatus::running: ++p.running; break;
      case RunStatus::pending: ++p.pending; break;
      case RunStatus::pruned: ++p.pruned; break;
      case RunStatus::stopped: ++p.stopped; break;
    }
    // A diverged, pruned or stopped trial ends early: count it as complete.
    p.epochs_total += is_finished(s.trial.status) ? s.trial.epochs_done : s.trial.spec.epochs_total;
    p.epochs_done += s.trial.epochs_done;
    if (!is_finished(s.trial.status)) {
      ++unfinished;
      work_left += s.seconds_left;
      unknown = unknown || s.seconds_left <= 0;
    }
  }
  const int lanes = std::max(1, std::min(parallel, unfinished));
  p.seconds_left = unknown ? 0 : work_left / lanes;
  return p;
}

void add_undrawn(StudyProgress& p, const std::vector<TrialSummary>& trials, std::int64_t undrawn,
                 int parallel) {
  if (undrawn <= 0) return;
  p.undrawn = undrawn;
  double seconds = 0, epochs = 0;
  int finished = 0;
  for (const auto& s : trials)
    if (is_finished(s.trial.status) && s.mean_epoch_s > 0) {
      seconds += s.mean_epoch_s * static_cast<double>(s.trial.epochs_done);
      epochs += static_cast<double>(s.trial.epochs_done);
      ++finished;
    }
  if (finished == 0) {
    p.seconds_left = 0;  // unknown until a trial has finished
    return;
  }
  p.epochs_total += static_cast<std::int64_t>(epochs / finished * static_cast<double>(undrawn));
  if (p.seconds_left > 0 || p.running + p.pending == 0)
    p.seconds_left += seconds / finished * static_cast<double>(undrawn) / std::max(1, parallel);
}

std::string progress_line(const StudyProgress& p) {
  const auto total = p.finished() + p.running + p.pending + p.undrawn;
  std::string line = std::to_string(p.finished()) + "/" + std::to_string(total) +
                     " trials finished";
  std::string how;
  for (const auto& [n, what] : {std::pair<int, const char*>{p.diverged, " diverged"},
                                {p.failed, " failed"},
                                {p.pruned, " pruned"},
                                {p.stopped, " stopped"}})
    if (n) how += (how.empty() ? "" : ", ") + std::to_string(n) + what;
  if (!how.empty()) line += " (" + how + ")";
  line += ", " + std::to_string(p.running) + " running, " + std::to_string(p.pending) +
          " waiting" + (p.undrawn ? ", " + std::to_string(p.undrawn) + " not drawn yet" : "") +
          "; epoch " + format_count(static_cast<double>(p.epochs_done)) + "/" +
          format_count(static_cast<double>(p.epochs_total));
  if (p.running + p.pending + p.undrawn > 0)
    line += p.seconds_left > 0 ? "; about " + format_duration(p.seconds_left) + " left"
                               : "; time left: after the first epoch";
  return line;
}

namespace {

// The status table's rows, a header first. While any trial runs, a last
// column names the worker running each (host:pid), so that a stuck one can be
// found on a cluster.
// The columns every status table has; from "epoch" on they are right-aligned.
const std::vector<std::string> kStatusColumns = {"label", "status",     "epoch",    "best val",
                                                 "at",    "test there", "time left"};
constexpr std::size_t kFirstRightAligned = 2;

std::vector<std::vector<std::string>> status_rows(const std::vector<TrialSummary>& trials) {
  const bool any_running = std::any_of(trials.begin(), trials.end(), [](const TrialSummary& s) {
    return s.trial.status == RunStatus::running;
  });
  std::vector<std::vector<std::string>> rows = {kStatusColumns};
  if (any_running) rows.front().push_back("worker");
  for (const auto& s : trials) {
    const auto& t = s.trial;
    const bool any = s.best_val_acc.has_value();
    rows.push_back({t.spec.label, to_string(t.status),
                    std::to_string(t.epochs_done) + "/" + std::to_string(t.spec.epochs_total),
                    any ? format_fixed(*s.best_val_acc, 4) : "-",
                    any ? std::to_string(s.best_val_epoch) : "-",
                    s.test_at_best_val ? format_fixed(*s.test_at_best_val, 4) : "-",
                    is_finished(t.status) ? "-"
                    : s.seconds_left > 0 ? format_duration(s.seconds_left)
                                         : "?"});
    if (any_running)
      rows.back().push_back(t.status == RunStatus::running
                                ? t.host + ":" + std::to_string(t.pid)
                                : "-");
  }
  return rows;
}

}  // namespace

std::string status_table(const std::vector<TrialSummary>& trials, int parallel,
                         std::int64_t undrawn) {
  const auto rows = status_rows(trials);
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c)
      line += (c ? "  " : "") +
              pad(r[c], width[c], /*right=*/c >= kFirstRightAligned && c < kStatusColumns.size());
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  for (const auto& s : trials)
    if (s.trial.status == RunStatus::failed || s.trial.status == RunStatus::diverged)
      if (!s.trial.error.empty())
        out += s.trial.spec.label + ": " + to_string(s.trial.status) + ": " + s.trial.error + "\n";
  StudyProgress totals = progress(trials, parallel);
  add_undrawn(totals, trials, undrawn, parallel);
  out += progress_line(totals) + "\n";
  std::vector<json> provenances;
  for (const auto& s : trials) provenances.push_back(s.trial.info);
  if (const std::string warning = mixed_data_warning(provenances); !warning.empty())
    out += warning + "\n";
  return out;
}

void write_epochs_csv(Store& store, const std::vector<std::string>& ids,
                      const std::vector<std::string>& swept_keys, std::ostream& out) {
  out << "trial_id,label";
  for (const auto& k : swept_keys) out << "," << csv_quote(key_column(k));
  out << ",status";
  for (const auto& c : epoch_csv_columns()) out << "," << c;
  out << "\n";
  for (const auto& t : select_trials(store, ids)) {
    std::string prefix = t.spec.id + "," + csv_quote(t.spec.label);
    for (const auto& k : swept_keys) prefix += "," + csv_quote(cell(t.spec.config.value(k, json())));
    prefix += std::string(",") + to_string(t.status);
    for (const auto& m : store.epochs(t.spec.id)) out << prefix << "," << epoch_csv_row(m) << "\n";
  }
}

void write_epochs_json(Store& store, const std::vector<std::string>& ids,
                       const std::vector<std::string>& swept_keys, std::ostream& out) {
  // Ordered, so that columns come out in the CSV's order.
  using ojson = nlohmann::ordered_json;
  ojson rows = ojson::array();
  for (const auto& t : select_trials(store, ids)) {
    ojson head = {{"trial_id", t.spec.id}, {"label", t.spec.label}};
    for (const auto& k : swept_keys) head[key_column(k)] = ojson(t.spec.config.value(k, json()));
    head["status"] = to_string(t.status);
    for (const auto& m : store.epochs(t.spec.id)) {
      ojson row = head;
      row.update({{"epoch", m.epoch}, {"lr", m.lr}, {"train_loss", m.train_loss},
                  {"train_acc", m.train_acc}, {"val_loss", m.val_loss}, {"val_acc", m.val_acc},
                  {"test_loss", m.test_loss}, {"test_acc", m.test_acc},
                  {"seconds", m.seconds}, {"images_per_s", m.images_per_s}});
      rows.push_back(std::move(row));
    }
  }
  out << rows.dump(1) << "\n";
}

}  // namespace lrtune
