// Table rows and their Markdown, HTML and CSV forms.
#include "report/tables.h"

#include <cstdio>
#include <sstream>

#include "core/format.h"
#include "report/escape.h"

namespace lrtune::report {

namespace {

constexpr const char* kNone = "—";

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string full(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

Cell text_cell(const std::string& s) { return {s, s, false}; }

Cell percent_cell(const std::optional<double>& v) {
  if (!v) return {kNone, "", true};
  return {fixed(*v * 100, 2), full(*v), true};
}

Cell epoch_cell(const std::optional<std::int64_t>& e) {
  if (!e) return {kNone, "", true};
  return {std::to_string(*e), std::to_string(*e), true};
}

Cell spread_cell(const Spread& s) {
  if (s.n == 0) return {kNone, "", true};
  std::string text = fixed(s.mean * 100, 2);
  if (s.n > 1) text += " ± " + fixed(s.std * 100, 2);
  return {text, full(s.mean), true};
}

}  // namespace

Table trial_table(const std::vector<TrialSummary>& trials) {
  Table t;
  t.header = {"trial", "status", "best val acc (%)", "best epoch", "test acc @ best val (%)",
              "final test acc (%)"};
  for (double th : kAccuracyThresholds)
    t.header.push_back("epoch val ≥ " + std::to_string(static_cast<int>(th * 100 + 0.5)) + "%");
  t.header.push_back("wall time");
  for (const auto& s : trials) {
    std::vector<Cell> row;
    row.push_back(text_cell(s.label()));
    row.push_back(text_cell(status_text(s)));
    row.push_back(percent_cell(s.best_val_acc));
    row.push_back(epoch_cell(s.best_val_acc ? std::optional<std::int64_t>(s.best_val_epoch)
                                            : std::nullopt));
    row.push_back(percent_cell(s.test_at_best_val));
    row.push_back(percent_cell(s.final_test_acc));
    for (const auto& e : s.first_epoch_at) row.push_back(epoch_cell(e));
    row.push_back({s.trial.epochs_done ? format_duration(s.wall_seconds) : kNone, full(s.wall_seconds),
                   true});
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table group_table(const std::vector<GroupSummary>& groups) {
  Table t;
  t.header = {"point", "trials", "diverged", "best val acc (%)", "test acc @ best val (%)",
              "final test acc (%)"};
  for (const auto& g : groups) {
    t.rows.push_back({text_cell(g.label),
                      {std::to_string(g.trials), std::to_string(g.trials), true},
                      {std::to_string(g.diverged), std::to_string(g.diverged), true},
                      spread_cell(g.best_val_acc), spread_cell(g.test_at_best_val),
                      spread_cell(g.final_test_acc)});
  }
  return t;
}

std::string markdown_table(const Table& t) {
  std::ostringstream out;
  out << "|";
  for (const auto& h : t.header) out << ' ' << markdown_cell(h) << " |";
  out << "\n|";
  for (std::size_t i = 0; i < t.header.size(); ++i) out << (i < 2 ? " --- |" : " ---: |");
  out << "\n";
  for (const auto& row : t.rows) {
    out << "|";
    for (const auto& c : row) out << ' ' << markdown_cell(c.text) << " |";
    out << "\n";
  }
  return out.str();
}

std::string html_table(const Table& t) {
  std::ostringstream out;
  out << "<table class=\"sortable\">\n<thead><tr>";
  for (const auto& h : t.header) out << "<th title=\"click to sort\">" << html_escape(h) << "</th>";
  out << "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out << "<tr>";
    for (const auto& c : row)
      out << "<td" << (c.numeric ? " class=\"num\"" : "") << " data-v=\"" << html_escape(c.sort)
          << "\">" << html_escape(c.text) << "</td>";
    out << "</tr>\n";
  }
  out << "</tbody>\n</table>\n";
  return out.str();
}

std::string trials_csv(const std::vector<TrialSummary>& trials) {
  std::ostringstream out;
  out << "trial_id,label,status,diverged_epoch,epochs_done,epochs_total,best_val_acc,"
         "best_val_epoch,test_acc_at_best_val,final_test_acc";
  for (double th : kAccuracyThresholds)
    out << ",first_epoch_val_acc_" << static_cast<int>(th * 100 + 0.5);
  out << ",wall_seconds,error\n";
  auto opt = [](const auto& v) { return v ? full(static_cast<double>(*v)) : std::string(); };
  for (const auto& s : trials) {
    out << csv_field(s.id()) << ',' << csv_field(s.label()) << ',' << to_string(s.status()) << ','
        << opt(s.diverged_epoch) << ',' << s.trial.epochs_done << ',' << s.trial.spec.epochs_total
        << ','
        << opt(s.best_val_acc) << ',' << (s.best_val_acc ? std::to_string(s.best_val_epoch) : "")
        << ',' << opt(s.test_at_best_val) << ',' << opt(s.final_test_acc);
    for (const auto& e : s.first_epoch_at) out << ',' << opt(e);
    out << ',' << full(s.wall_seconds) << ',' << csv_field(s.trial.error) << "\n";
  }
  return out.str();
}

}  // namespace lrtune::report
