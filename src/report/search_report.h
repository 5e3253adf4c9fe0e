// A search study's part of a report: the optimization history, the objective
// against each searched key, parallel coordinates, the trials ranked by their
// objective and what pruning saved; read from the [search] table stored with
// the study (StudyInfo::spec["search"]) and its trials in the order drawn.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/tables.h"
#include "search/history.h"
#include "search/space.h"
#include "store/store.h"

namespace lrtune::report {

// One drawn trial as the search views show it.
struct SearchTrial {
  std::size_t number = 0;             // 1-based, in draw order (the label's "#3")
  std::string label;                  // clean text
  RunStatus status = RunStatus::pending;
  std::int64_t epochs_done = 0, epochs_total = 0;
  std::int64_t epochs_spent = 0;      // epochs of trials 1..number together
  std::optional<double> objective;    // search::trial_objective (val_acc as a fraction)
  std::optional<double> best_so_far;  // best objective of complete trials 1..number
  nlohmann::json values;              // the searched keys it ran with (search::searched_values)
  // done or diverged: trained to its end, so its objective is final.
  bool complete() const { return status == RunStatus::done || status == RunStatus::diverged; }
};

struct SearchSection {
  search::SearchSpec spec;
  std::vector<SearchTrial> trials;        // in draw order
  std::size_t pruned = 0;                 // trials the pruner stopped early
  std::int64_t epochs_saved = 0;          // over pruned trials: epochs_total - epochs trained
  std::int64_t epochs_all_complete = 0;   // epochs_total over all trials
  // Why the views are left out ("" when they are not): the stored [search]
  // table no longer parses (a study run by another lrtune).
  std::string problem;
  const SearchTrial* best() const;        // the best complete trial, or nullptr
};

// The [search] table a study stored when `lrtune study run` registered it;
// nothing for a grid study. ConfigError when this lrtune cannot read it.
std::optional<search::SearchSpec> stored_search_spec(const nlohmann::json& study_spec);

// The search views of a study whose spec holds "search"; nothing for a grid
// study or a single run. `epochs[i]` belongs to `trials[i]`, in draw order.
std::optional<SearchSection> read_search(const nlohmann::json& study_spec,
                                         const std::vector<TrialRecord>& trials,
                                         const std::vector<std::vector<EpochMetrics>>& epochs);

// "best val acc (%)", "val loss at the last epoch", ...: the objective's name.
std::string objective_title(const search::SearchSpec& spec);
// The objective as shown: val_acc in percent ("83.12"), val_loss "0.4321".
std::string objective_text(const search::SearchSpec& spec, double v);
// 100 for val_acc (figures show percent), else 1.
double objective_scale(const search::SearchSpec& spec);
// A searched value as labels show it (the study's trial labels use the same).
using search::value_text;
// Where a value sits on its key's axis: the number itself (above 0 on a log
// axis), or a choice's index; nothing when absent or outside the space.
std::optional<double> axis_value(const search::Param& p, const nlohmann::json& values);

// "Pruning (asha) stopped 2 of 8 trials early and saved 13 of 80
// trial-epochs (16.2% ...)"; "" with no pruner and no pruned trial.
std::string pruning_line(const SearchSection& s);
// "Which keys mattered (fANOVA over the 12 complete trials, ...): lr 61%,
// momentum 27%, weight_decay 12%." (search/importance.h); "" with fewer than
// two searched keys or nothing to tell them apart.
std::string importance_line(const SearchSection& s);

// Every trial, best objective first (those without one last, in draw order):
// number, one column per searched key, status, epochs trained/total, objective.
Table search_table(const SearchSection& s);

// One row per trial in draw order, values and objective in full precision.
std::string search_csv(const SearchSection& s);

// How a trial shows as a point: 1 finished (complete, with an objective),
// 2 pruned (at its objective so far), 0 not at all (running, failed, none yet).
int point_kind(const SearchTrial& t);
// axis_value for a trial's point: choices spread by up to ±0.15 (by trial
// number, the same in every view) so equal values stay apart.
std::optional<double> plotted_x(const search::Param& p, const SearchTrial& t);

// A figure of the search views, drawn by gnuplot from gnuplot/search.gp.
struct SearchFigure {
  std::string id;     // file stem: "search_history", "search_param_lr"
  std::string title;
  const search::Param* param = nullptr;  // the key of an objective-against-key figure
  bool by_epochs = false;                // the history against trial-epochs spent
};
// The figures that have points to draw: the history by trial and by
// trial-epochs spent, then one per searched key. Its params point into `s`.
std::vector<SearchFigure> search_figures(const SearchSection& s);
// The gnuplot script drawing them (reading gnuplot/search.dat).
std::string search_gnuplot_script(const SearchSection& s, const std::string& subject);

// Parallel coordinates as an SVG element: one axis per searched key and one
// for the objective, one polyline per complete trial coloured by objective.
// `id` makes its element ids unique in a page; "" when no trial is complete.
std::string parallel_coordinates_svg(const SearchSection& s, const std::string& id);

// Writes search_trials.csv and search_parallel.svg into `dir`, and with
// `figures` the gnuplot figures. Throws ReportError when gnuplot fails.
void write_search_files(const SearchSection& s, const std::string& subject,
                        const std::string& dir, bool figures);

// The section's Markdown (figures under `slug`/) and HTML (its charts drawn
// by the page script into ANCHOR-search-charts), and the page's data for them.
std::string search_markdown(const SearchSection& s, const std::string& slug, bool figures);
std::string search_html(const SearchSection& s, const std::string& anchor);
nlohmann::json search_page_data(const SearchSection& s);

}  // namespace lrtune::report
