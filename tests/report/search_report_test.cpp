// A search study's report from a fake store: trials ranked by objective, what
// pruning saved, the history, log axes for log keys, parallel coordinates,
// pruning marks on the curves, well-formed figures, and grid studies as before.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/assets.h"
#include "report/figures.h"
#include "report/report.h"
#include "report/search_report.h"
#include "report/study.h"
#include "support/fake_store.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

bool have(const std::string& program) {
  return test::run_command("command -v " + program + " >/dev/null") == 0;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

json search_table_json() {
  return {{"sampler", "random"}, {"pruner", "asha"}, {"trials", 10}, {"objective", "val_acc"},
          {"seed", 1},
          {"space", {{"lr", {{"log_uniform", {1e-4, 1.0}}}},
                     {"momentum", {{"uniform", {0.0, 0.99}}}},
                     {"nesterov", {{"choice", {false, true}}, {"when", "momentum > 0"}}}}}};
}

// Adds trial `id` with the searched values in its configuration; its epochs'
// validation accuracies are `val` (test accuracy the same).
void add_trial(test::FakeStore& s, const std::string& id, const std::string& label,
               RunStatus status, const std::vector<double>& val, const json& config,
               std::int64_t first_bad_epoch = 0) {
  std::vector<std::pair<double, double>> val_test;
  for (double v : val) val_test.push_back({v, v});
  s.add(id, label, status, 9, val_test, 10, first_bad_epoch);
  s.records.back().spec.config = config;
  s.info->trial_ids.push_back(id);
}

// Eight trials of nine epochs each, in draw order: finished, pruned,
// diverged, running and failed; #1 ran without momentum, so nesterov was
// not searched for it; #6 has a hostile label.
std::unique_ptr<test::FakeStore> search_study() {
  auto s = std::make_unique<test::FakeStore>();
  json stored = {{"table", search_table_json()}, {"file", "search.toml"},
                 {"base", json::object()}, {"identity", json::object()}};
  s->info = StudyInfo{"sgd search", "TPE over lr and momentum", {{"search", stored}}, {}};
  auto cfg = [](double lr, double momentum, std::optional<bool> nesterov) {
    json c = {{"lr", lr}, {"momentum", momentum}, {"nesterov", nesterov.value_or(false)},
              {"epochs", 9}};
    return c;
  };
  add_trial(*s, "t1", "#1 lr=0.001 momentum=0", RunStatus::done,
            {0.30, 0.40, 0.45, 0.48, 0.50, 0.49, 0.50, 0.50, 0.50}, cfg(0.001, 0, std::nullopt));
  add_trial(*s, "t2", "#2 lr=0.05 momentum=0.9 nesterov=on", RunStatus::done,
            {0.40, 0.55, 0.60, 0.65, 0.68, 0.70, 0.71, 0.70, 0.70}, cfg(0.05, 0.9, true));
  add_trial(*s, "t3", "#3 lr=0.8 momentum=0.5 nesterov=off", RunStatus::pruned, {0.20},
            cfg(0.8, 0.5, false));
  add_trial(*s, "t4", "#4 lr=0.01 momentum=0.95 nesterov=on", RunStatus::pruned,
            {0.30, 0.40, 0.45}, cfg(0.01, 0.95, true));
  add_trial(*s, "t5", "#5 lr=0.3 momentum=0.8 nesterov=off", RunStatus::diverged, {0.30, 0.10},
            cfg(0.3, 0.8, false), 2);
  add_trial(*s, "t6", "#6 lr=0.002 <script>alert(1)</script>", RunStatus::done,
            {0.40, 0.50, 0.55, 0.60, 0.62, 0.63, 0.64, 0.65, 0.65}, cfg(0.002, 0.6, true));
  add_trial(*s, "t7", "#7 lr=0.02 momentum=0.7 nesterov=on", RunStatus::running, {0.35, 0.40},
            cfg(0.02, 0.7, true));
  add_trial(*s, "t8", "#8 lr=0.0001 momentum=0.3 nesterov=off", RunStatus::failed, {},
            cfg(0.0001, 0.3, false));
  s->records.back().error = "out of memory";
  return s;
}

SearchSection section_of(test::FakeStore& store) {
  StudyData d = load_study(store, "runs/search");
  EXPECT_TRUE(d.search.has_value());
  return d.search.value_or(SearchSection{});
}

ReportOptions options(const std::string& out, bool figures) {
  ReportOptions o;
  o.dirs = {"runs/search"};
  o.out = out;
  o.zoom_epochs = 3;
  o.figures = figures;
  return o;
}

std::unique_ptr<Store> open_search(const std::string&) { return search_study(); }

// The part of a gnuplot script that draws figure `id`.
std::string figure_block(const std::string& script, const std::string& id) {
  const std::size_t at = script.find("set output '" + id + ".png'");
  if (at == std::string::npos) return "";
  const std::size_t start = script.rfind("reset", at), end = script.find("reset", at);
  return script.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string column(const Table& t, std::size_t col) {
  std::string out;
  for (const auto& row : t.rows) out += (out.empty() ? "" : " ") + row[col].text;
  return out;
}

TEST(SearchReport, TrialsAreRankedByObjectiveWithOneColumnPerSearchedKey) {
  auto store = search_study();
  const Table t = search_table(section_of(*store));
  EXPECT_THAT(t.header, ElementsAre("#", "lr", "momentum", "nesterov", "status", "epochs",
                                    "best val acc (%)"));
  // Best validation accuracy first: 71, 65, 50, 45 (pruned), 40 (running),
  // 30 (diverged), 20 (pruned); the failed trial has no epoch, so none: last.
  EXPECT_EQ(column(t, 0), "#2 #6 #1 #4 #7 #5 #3 #8");
  EXPECT_EQ(column(t, 6), "71.00 65.00 50.00 45.00 40.00 30.00 20.00 —");
  const auto& top = t.rows[0];
  EXPECT_EQ(top[1].text, "0.05");
  EXPECT_EQ(top[2].text, "0.9");
  EXPECT_EQ(top[3].text, "on");
  EXPECT_EQ(top[4].text, "done");
  EXPECT_EQ(top[5].text, "9/9");
  EXPECT_EQ(t.rows[2][3].text, "—");  // #1: momentum 0, so nesterov was not searched
  EXPECT_EQ(t.rows[3][4].text, "pruned");
  EXPECT_EQ(t.rows[3][5].text, "3/9");
}

TEST(SearchReport, PruningSavingsAreTheEpochsPrunedTrialsDidNotTrain) {
  auto store = search_study();
  const SearchSection s = section_of(*store);
  EXPECT_EQ(s.pruned, 2u);
  EXPECT_EQ(s.epochs_saved, (9 - 1) + (9 - 3));  // #3 stopped after 1 epoch, #4 after 3
  EXPECT_EQ(s.epochs_all_complete, 8 * 9);
  EXPECT_EQ(pruning_line(s),
            "Pruning (asha) stopped 2 of 8 trials early and saved 14 of 72 trial-epochs "
            "(19.4% of training every trial to its last epoch).");
}

TEST(SearchReport, ImportancesNameTheKeyTheObjectiveFollows) {
  // Twelve finished trials whose accuracy rises with lr alone; momentum varies
  // and does nothing. A pruned trial is left out, as Optuna leaves it.
  test::FakeStore store;
  store.info = StudyInfo{"s", "", {{"search", {{"table", search_table_json()}, {"file", "s.toml"},
                                               {"base", json::object()}, {"identity", json::object()}}}},
                         {}};
  for (int i = 0; i < 12; ++i) {
    const double lr = std::pow(10.0, -4 + i / 3.0), momentum = 0.05 + 0.08 * ((i * 5) % 12);
    const double acc = 0.5 + 0.03 * i;
    add_trial(store, "t" + std::to_string(i), "#" + std::to_string(i + 1), RunStatus::done,
              std::vector<double>(9, acc), {{"lr", lr}, {"momentum", momentum}, {"epochs", 9}});
  }
  add_trial(store, "p", "#13", RunStatus::pruned, {0.99}, {{"lr", 0.5}, {"momentum", 0.9}, {"epochs", 9}});
  const SearchSection s = section_of(store);
  const std::string line = importance_line(s);
  EXPECT_THAT(line, HasSubstr("Which keys mattered (fANOVA over the 12 complete trials"));
  // Trees split two equal trials on either key alike: momentum gets a little.
  EXPECT_THAT(line, ::testing::ContainsRegex("\\): lr (9[0-9]|100)%, momentum [0-9]%\\.$"));
  EXPECT_THAT(search_markdown(s, "search", false), HasSubstr("Which keys mattered (fANOVA"));
  EXPECT_THAT(search_html(s, "a"), HasSubstr("<p class=\"importance\">Which keys mattered"));
  // The eight trials of search_study(): three done and one diverged count.
  auto few = search_study();
  EXPECT_THAT(importance_line(section_of(*few)), HasSubstr("over the 4 complete trials"));
}

TEST(SearchReport, HistoryFollowsDrawOrderAndTrialEpochsSpent) {
  auto store = search_study();
  const SearchSection s = section_of(*store);
  ASSERT_EQ(s.trials.size(), 8u);
  std::vector<std::int64_t> spent;
  std::vector<double> best;
  for (const auto& t : s.trials) {
    spent.push_back(t.epochs_spent);
    best.push_back(t.best_so_far.value_or(-1));
  }
  EXPECT_THAT(spent, ElementsAre(9, 18, 19, 22, 24, 33, 35, 35));
  // Only trials trained to their end count for the best: #4 (pruned) and #7
  // (running) never do, and #6's 0.65 does not beat #2's 0.71.
  EXPECT_THAT(best, ElementsAre(0.50, 0.71, 0.71, 0.71, 0.71, 0.71, 0.71, 0.71));
  EXPECT_EQ(point_kind(s.trials[2]), 2);  // pruned: an open point
  EXPECT_EQ(point_kind(s.trials[4]), 1);  // diverged after reaching 30%: finished
  EXPECT_EQ(point_kind(s.trials[6]), 0);  // running: not yet a point
  ASSERT_NE(s.best(), nullptr);
  EXPECT_EQ(s.best()->number, 2u);
}

TEST(SearchReport, LogUniformKeyIsDrawnOnALogAxisAndChoicesAsCategories) {
  auto store = search_study();
  const SearchSection s = section_of(*store);
  std::vector<std::string> ids;
  for (const auto& f : search_figures(s)) ids.push_back(f.id);
  EXPECT_THAT(ids, ElementsAre("search_history", "search_history_epochs", "search_param_lr",
                               "search_param_momentum", "search_param_nesterov"));
  const std::string gp = search_gnuplot_script(s, "sgd search");
  EXPECT_THAT(figure_block(gp, "search_param_lr"), HasSubstr("set logscale x"));
  EXPECT_THAT(figure_block(gp, "search_param_momentum"), Not(HasSubstr("logscale")));
  EXPECT_THAT(figure_block(gp, "search_param_nesterov"), HasSubstr("set xtics ('off' 0, 'on' 1)"));
  EXPECT_THAT(figure_block(gp, "search_history"), HasSubstr("with steps"));
  EXPECT_THAT(figure_block(gp, "search_history"), HasSubstr("title 'pruned trial"));
  const json page = search_page_data(s);
  EXPECT_EQ(page["params"][0]["key"], "lr");
  EXPECT_EQ(page["params"][0]["log"], true);
  EXPECT_EQ(page["params"][2]["categories"], json({"off", "on"}));
}

TEST(SearchReport, ParallelCoordinatesDrawOneEscapedLinePerFinishedTrial) {
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  write_report(options(dir.str(), false), open_search);
  const std::string html = test::read_file(dir.path() / "index.html");
  const std::size_t start = html.find("<svg"), end = html.find("</svg>");
  ASSERT_NE(start, std::string::npos);
  const std::string svg = html.substr(start, end + 6 - start);
  EXPECT_THAT(svg, HasSubstr("class=\"parcoords\""));
  EXPECT_EQ(count(svg, "<polyline class=\"pc-trial\""), 4u);  // #1, #2, #5 (diverged), #6
  for (const char* trial : {"\"1\"", "\"2\"", "\"5\"", "\"6\""})
    EXPECT_THAT(svg, HasSubstr(std::string("data-trial=") + trial));
  EXPECT_THAT(svg, HasSubstr("#6 lr=0.002 &lt;script&gt;alert(1)&lt;/script&gt;: 65.00"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(svg, HasSubstr(">n/a</text>"));  // #1's nesterov, not searched
  if (!have("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian libxml2-utils)";
  std::ofstream(dir.path() / "inline.svg") << svg;
  std::string out;
  EXPECT_EQ(test::run_command("xmllint --noout '" + (dir.path() / "inline.svg").string() + "'", &out), 0)
      << out;
}

TEST(SearchReport, PageAndMarkdownShowTheSearchViews) {
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  write_report(options(dir.str(), false), open_search);
  const std::string html = test::read_file(dir.path() / "index.html");
  EXPECT_THAT(html, HasSubstr("id=\"study-sgd-search-search-charts\""));
  EXPECT_THAT(html, HasSubstr("<h3>Trials by objective</h3>"));
  EXPECT_THAT(html, HasSubstr("saved 14 of 72 trial-epochs"));
  EXPECT_THAT(html, HasSubstr("Best so far: 71.00 (#2 lr=0.05 momentum=0.9 nesterov=on)"));
  const std::string md = test::read_file(dir.path() / "report.md");
  EXPECT_THAT(md, HasSubstr("### Search"));
  EXPECT_THAT(md, HasSubstr("| #2 | 0.05 | 0.9 | on | done | 9/9 | 71.00 |"));
  EXPECT_THAT(md, HasSubstr("2 pruned"));  // the status counts under the heading
  EXPECT_THAT(md, HasSubstr("![Parallel coordinates](sgd-search/search_parallel.svg)"));
  const std::string csv = test::read_file(dir.path() / "sgd-search" / "search_trials.csv");
  EXPECT_THAT(csv, HasSubstr("number,label,status,epochs_done,epochs_total,lr,momentum,nesterov,"
                             "objective_best_val_acc\n"));
  EXPECT_THAT(csv, HasSubstr("\n1,#1 lr=0.001 momentum=0,done,9,9,0.001,0,,0.5\n"));
}

TEST(SearchReport, PrunedCurvesEndWithAMark) {
  auto store = search_study();
  const StudyData d = load_study(*store, "runs/search");
  const Series& pruned = d.series[2];
  EXPECT_EQ(pruned.label, "#3 lr=0.8 momentum=0.5 nesterov=off");
  EXPECT_EQ(pruned.pruned_epoch, 1);
  EXPECT_EQ(pruned.legend(), "#3 lr=0.8 momentum=0.5 nesterov=off (pruned @ep 1)");
  EXPECT_DOUBLE_EQ(d.series[3].pruned_marker_value(Metric::val_acc), 0.45);  // #4, epoch 3
  EXPECT_TRUE(d.has_pruned());
  const std::string gp = gnuplot_script(d.series, figure_specs(0), d.name);
  EXPECT_THAT(gp, HasSubstr("pruned.dat"));
  EXPECT_THAT(gp, HasSubstr("title 'pruned'"));
  EXPECT_THAT(figure_caption(false, true, true), HasSubstr("pruner stopped early"));
}

TEST(SearchReport, FiguresAreWrittenAndParseAsXml) {
  if (!have("gnuplot") || !have("xmllint")) GTEST_SKIP() << "gnuplot or xmllint not installed";
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  write_report(options(dir.str(), true), open_search);
  const fs::path study = dir.path() / "sgd-search";
  for (const char* id : {"search_history", "search_history_epochs", "search_param_lr",
                         "search_param_momentum", "search_param_nesterov", "search_parallel",
                         "val_acc"}) {
    const fs::path svg = study / (std::string(id) + ".svg");
    ASSERT_TRUE(fs::exists(svg)) << svg;
    std::string out;
    EXPECT_EQ(test::run_command("xmllint --noout '" + svg.string() + "'", &out), 0) << id << out;
  }
  EXPECT_TRUE(fs::exists(study / "search_param_lr.png"));
  // gnuplot's log axis labels decades: 0.0001 to 1 (printed with '%g').
  const std::string lr = test::read_file(study / "search_param_lr.svg");
  EXPECT_THAT(lr, HasSubstr(">0.0001</text>"));
  EXPECT_THAT(lr, HasSubstr(">0.01</text>"));
  EXPECT_THAT(test::read_file(study / "val_acc.svg"), HasSubstr(">pruned</text>"));
  const std::string md = test::read_file(dir.path() / "report.md");
  EXPECT_THAT(md, HasSubstr("(sgd-search/search_param_lr.png)"));
  EXPECT_THAT(md, HasSubstr("### Curves per epoch"));
}

TEST(SearchReport, UnreadableStoredSearchLeavesTheViewsOutWithAReason) {
  auto store = search_study();
  store->info->spec["search"]["table"]["space"]["lr"] = {{"log_uniform", {0.0, 1.0}}};
  const StudyData d = load_study(*store, "runs/search");
  ASSERT_TRUE(d.search.has_value());
  EXPECT_THAT(d.search->problem, HasSubstr("search.space.lr"));
  EXPECT_THAT(search_markdown(*d.search, "s", false), HasSubstr("Search views left out"));
  EXPECT_EQ(d.trials.size(), 8u);  // the rest of the report is as for any study
}

TEST(SearchReport, GridStudyReportHasNoSearchSections) {
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  auto store = test::fabricated_study();
  EXPECT_FALSE(load_study(*store, "runs/lr").search.has_value());
  test::TempDir dir;
  ReportOptions o = options(dir.str(), false);
  o.dirs = {"runs/lr"};
  write_report(o, [](const std::string&) { return test::fabricated_study(); });
  const std::string md = test::read_file(dir.path() / "report.md");
  const std::string html = test::read_file(dir.path() / "index.html");
  for (const char* search_only : {"### Search", "Trials by objective", "Curves per epoch",
                                  "search_parallel", "pruned"})
    EXPECT_THAT(md, Not(HasSubstr(search_only)));
  for (const char* search_only : {"class=\"parcoords\"", "search-charts\"", "Trials by objective", "\"search\":",
                                  "Curves per epoch", "pruner"})
    EXPECT_THAT(html, Not(HasSubstr(search_only)));
  EXPECT_FALSE(fs::exists(dir.path() / "lr-sweep" / "search_trials.csv"));
}

// The page in headless Chromium: the search charts drawn with the per-epoch ones.
TEST(SearchReport, ChromiumDrawsTheSearchChartsWithoutErrors) {
  if (!have("chromium")) GTEST_SKIP() << "chromium not installed (scripts/setup.sh installs it)";
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  write_report(options(dir.str(), false), open_search);
  std::string dom;
  const std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
      "--disable-component-update --disable-sync --no-first-run --user-data-dir='" +
      (dir.path() / "profile").string() + "' --enable-logging=stderr --v=0 "
      "--window-size=1280,900 --dump-dom 'file://" + (dir.path() / "index.html").string() +
      "' 2>'" + (dir.path() / "chromium.log").string() + "'";
  ASSERT_EQ(test::run_command(cmd, &dom), 0);
  const std::string log = test::read_file(dir.path() / "chromium.log");
  // 8 per-epoch charts, 2 histories and one per searched key.
  EXPECT_THAT(dom, HasSubstr("data-charts=\"13\"")) << log;
  EXPECT_THAT(dom, HasSubstr("data-errors=\"\""));
  EXPECT_THAT(dom, HasSubstr("data-figure=\"search_param_nesterov\""));
  EXPECT_THAT(log, Not(HasSubstr(":CONSOLE")));
}

}  // namespace
}  // namespace lrtune::report
