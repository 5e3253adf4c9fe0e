// Results written by lrtune 0.1 (tests/fixtures/v0.1-results) keep working with
// today's binary: status, rerun, report and resume, each on a copy of them.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kFixture = fs::path(LRTUNE_SOURCE_DIR) / "tests/fixtures/v0.1-results";

// The metric columns of 0.1's epochs table (schema 1, frozen).
const std::vector<std::string> kV01Metrics = {"lr",      "train_loss", "train_acc",
                                              "val_loss", "val_acc",   "test_loss",
                                              "test_acc", "seconds",   "images_per_s"};

std::string cell(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One epoch row of one trial, every metric at full precision: equal strings
// mean the very row 0.1 wrote (seconds and images/s differ on any rerun).
struct Row {
  std::string trial_id, label;
  std::int64_t epoch = 0;
  double val_acc = 0, test_acc = 0;
  std::string all;
};

// Every epoch row of a 0.1 (schema 1) database, by trial order and epoch.
std::vector<Row> v01_rows(const fs::path& db_file) {
  sqlite::Db db(db_file.string());
  std::string cols;
  for (const auto& c : kV01Metrics) cols += ", e." + c;
  sqlite::Stmt q(db, "SELECT t.id, t.label, e.epoch" + cols +
                         " FROM epochs e JOIN trials t ON t.id = e.trial_id ORDER BY t.seq, e.epoch");
  std::vector<Row> out;
  while (q.step()) {
    Row r{q.text(0), q.text(1), q.integer(2), q.real(7), q.real(9), ""};
    for (std::size_t i = 0; i < kV01Metrics.size(); ++i) r.all += cell(q.real(3 + static_cast<int>(i))) + " ";
    out.push_back(r);
  }
  return out;
}

// The same rows as today's store reads them (after the binary migrated the file).
std::vector<Row> store_rows(const fs::path& db_file) {
  auto store = open_sqlite_store(db_file.string());
  std::vector<Row> out;
  for (const auto& t : store->trials())
    for (const auto& m : store->epochs(t.spec.id)) {
      Row r{t.spec.id, t.spec.label, m.epoch, m.val_acc, m.test_acc, ""};
      for (const auto& c : kV01Metrics) r.all += cell(m.*find_metric_field(c)->member) + " ";
      out.push_back(r);
    }
  return out;
}

struct Trial {
  std::string id, label, status;
  std::int64_t epochs_total = 0;
};

// The trials of a 0.1 (schema 1) database, in the order they were added.
std::vector<Trial> v01_trials(const fs::path& db_file) {
  sqlite::Db db(db_file.string());
  sqlite::Stmt q(db, "SELECT id, label, status, epochs_total FROM trials ORDER BY seq");
  std::vector<Trial> out;
  while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2), q.integer(3)});
  return out;
}

std::vector<std::string> row_texts(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.label + " epoch " + std::to_string(r.epoch) + ": " + r.all);
  return out;
}

// Per trial label: the epoch with the best validation accuracy (first if tied).
std::map<std::string, Row> best_by_label(const std::vector<Row>& rows) {
  std::map<std::string, Row> best;
  for (const auto& r : rows)
    if (!best.count(r.label) || r.val_acc > best[r.label].val_acc) best[r.label] = r;
  return best;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The whitespace-separated cells after `label` on the line that starts with it.
std::vector<std::string> cells_after(const std::string& text, const std::string& label) {
  for (const auto& line : lines_of(text))
    if (line.rfind(label + " ", 0) == 0) {
      std::istringstream in(line.substr(label.size()));
      std::vector<std::string> cells;
      for (std::string c; in >> c;) cells.push_back(c);
      return cells;
    }
  return {};
}

std::string lrtune(const std::string& args) { return "'" + test::lrtune_binary() + "' " + args; }

struct V01Results : ::testing::Test {
  test::TempDir tmp;
  fs::path copy = tmp.path() / "v0.1-results";
  fs::path study = copy / "studies-out" / "tiny";
  fs::path run = copy / "runs" / "partial";
  std::vector<Row> study_rows, run_rows;  // as 0.1 stored them
  std::vector<Trial> study_trials;

  void SetUp() override {
    fs::copy(kFixture, copy, fs::copy_options::recursive);
    study_rows = v01_rows(study / "results.sqlite");
    run_rows = v01_rows(run / "results.sqlite");
    study_trials = v01_trials(study / "results.sqlite");
    ASSERT_FALSE(study_rows.empty());
    ASSERT_FALSE(run_rows.empty());
  }
  // CIFAR-format data of the fixture script's shape: 5 x 200 training, 200 test.
  fs::path write_data() {
    const fs::path data = tmp.path() / "cifar";
    test::write_tiny_cifar(data, /*per_file=*/200, /*n_test=*/200);
    return data;
  }
};

// (a) The table a 0.1 user looks at first: every trial done, 0.1's best numbers.
TEST_F(V01Results, StatusShowsTheTrialsDoneWithTheirBestAccuracies) {
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("study status '" + study.string() + "'"), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("study tiny (tiny.toml)"));
  const auto best = best_by_label(study_rows);
  ASSERT_EQ(study_trials.size(), 2u);
  for (const auto& t : study_trials) {
    SCOPED_TRACE(t.label);
    ASSERT_EQ(t.status, "done");
    const auto cells = cells_after(out, t.label);  // status, epoch, best val, at, test there, left
    ASSERT_GE(cells.size(), 5u) << out;
    EXPECT_EQ(cells[0], "done");
    EXPECT_EQ(cells[1], std::to_string(t.epochs_total) + "/" + std::to_string(t.epochs_total));
    const Row& b = best.at(t.label);
    EXPECT_EQ(cells[2], fixed(b.val_acc, 4));
    EXPECT_EQ(cells[3], std::to_string(b.epoch));
    EXPECT_EQ(cells[4], fixed(b.test_acc, 4));
  }
}

// (b) Rerunning the study 0.1 finished finds every trial finished and trains
// nothing: the epoch rows and the checkpoints are the ones 0.1 wrote.
TEST_F(V01Results, RerunningTheStudyTrainsNothing) {
  const fs::path data = write_data();
  std::string out;
  // The flags tests/fixtures/make-v0.1-results.sh ran the study with.
  ASSERT_EQ(test::run_command(lrtune("study run '" + (copy / "tiny.toml").string() + "' --jobs 1 --threads-per-job 1"
                                     " --data '" + data.string() + "' --out '" + study.string() + "'"),
                              &out),
            0)
      << out;
  const std::string n = std::to_string(study_trials.size());
  EXPECT_THAT(out, HasSubstr(n + " trials (" + n + " already finished, 0 to resume)"));
  EXPECT_EQ(row_texts(store_rows(study / "results.sqlite")), row_texts(study_rows));

  auto store = open_sqlite_store((study / "results.sqlite").string());
  const auto trials = store->trials();
  ASSERT_EQ(trials.size(), study_trials.size());
  for (std::size_t i = 0; i < trials.size(); ++i) {
    SCOPED_TRACE(study_trials[i].label);
    EXPECT_EQ(trials[i].spec.label, study_trials[i].label);
    EXPECT_EQ(to_string(trials[i].status), study_trials[i].status);
    const fs::path old_ckpt = kFixture / "studies-out/tiny/trials" / study_trials[i].id / "checkpoint.pt";
    const fs::path ckpt = fs::path(store->trial_dir(trials[i].spec.id)) / "checkpoint.pt";
    ASSERT_TRUE(fs::exists(ckpt)) << ckpt;
    EXPECT_TRUE(test::read_file(ckpt) == test::read_file(old_ckpt)) << ckpt << " was rewritten";
  }
}

// (c) A report of 0.1's study: report.md with each trial's best accuracy, and
// figures (every one report.md links) that name the trials.
TEST_F(V01Results, ReportNamesTheTrialsInTableAndFigures) {
  const fs::path report = tmp.path() / "report";
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("report '" + study.string() + "' --out '" + report.string() + "'"), &out), 0)
      << out;
  const std::string md = test::read_file(report / "report.md");
  ASSERT_FALSE(md.empty()) << out;
  const auto best = best_by_label(study_rows);
  for (const auto& t : study_trials)
    EXPECT_THAT(md, HasSubstr("| " + t.label + " | done | " + fixed(100 * best.at(t.label).val_acc, 2) + " |"));

  std::string svgs;
  for (const auto& e : fs::recursive_directory_iterator(report))
    if (e.path().extension() == ".svg") svgs += test::read_file(e.path());
  ASSERT_FALSE(svgs.empty()) << "no SVG figures under " << report << "\n" << out;
  for (const auto& t : study_trials) EXPECT_THAT(svgs, HasSubstr(t.label));
  int links = 0;
  for (std::size_t at = md.find("]("); at != std::string::npos; at = md.find("](", at + 2)) {
    const std::string target = md.substr(at + 2, md.find(')', at) - at - 2);
    const std::string ext = fs::path(target).extension().string();
    if (ext == ".png" || ext == ".svg") {
      ++links;
      EXPECT_TRUE(fs::exists(report / target)) << target;
    }
  }
  EXPECT_GT(links, 0) << md;
}

// (d) A `lrtune train` run that 0.1 left after epoch 1 resumes from 0.1's
// checkpoint, keeps 0.1's epoch-1 row and ends with all its epochs.
TEST_F(V01Results, TrainRunStoppedByLrtune01Resumes) {
  const fs::path data = write_data();
  const auto csv_before = lines_of(test::read_file(run / "metrics.csv"));
  const auto done = static_cast<std::int64_t>(run_rows.size());
  ASSERT_EQ(csv_before.size(), run_rows.size() + 1);
  const auto config = nlohmann::json::parse(test::read_file(run / "config.json"));
  const std::int64_t epochs = config.at("config").at("epochs").get<std::int64_t>();
  ASSERT_GT(epochs, done);

  std::string out;
  ASSERT_EQ(test::run_command(lrtune("train --resume '" + run.string() + "' --data '" + data.string() + "'"), &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("resuming after epoch " + std::to_string(done)));

  const auto csv = lines_of(test::read_file(run / "metrics.csv"));
  ASSERT_EQ(csv.size(), static_cast<std::size_t>(epochs) + 1) << test::read_file(run / "metrics.csv");
  for (std::size_t i = 0; i < csv_before.size(); ++i) EXPECT_EQ(csv[i], csv_before[i]);  // header, 0.1's rows
  for (std::int64_t e = done + 1; e <= epochs; ++e)
    EXPECT_EQ(csv[static_cast<std::size_t>(e)].rfind(std::to_string(e) + ",", 0), 0u) << csv[static_cast<std::size_t>(e)];

  const auto rows = store_rows(run / "results.sqlite");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(epochs));
  for (std::size_t i = 0; i < run_rows.size(); ++i) EXPECT_EQ(rows[i].all, run_rows[i].all) << "epoch " << i + 1;
  auto store = open_sqlite_store((run / "results.sqlite").string());
  ASSERT_EQ(store->trials().size(), 1u);
  EXPECT_EQ(store->trials()[0].status, RunStatus::done);
}

// (e) 0.1's study exported to an Optuna journal through the binary and read
// back by Optuna: both trials COMPLETE, lr as their parameter, each trial's
// value its best validation accuracy, every epoch an intermediate value.
TEST_F(V01Results, OptunaLoadsTheExportedStudy) {
  if (test::run_command("/usr/bin/python3 -c 'import optuna, matplotlib, sklearn'") != 0)
    GTEST_SKIP() << "Debian's python3-optuna, -matplotlib or -sklearn missing (scripts/setup.sh)";
  const fs::path journal = tmp.path() / "optuna.log";
  std::string out;
  ASSERT_EQ(test::run_command(lrtune("export optuna '" + study.string() + "' --storage '" +
                                     journal.string() + "'"), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Optuna study 'tiny' in " + journal.string() +
                             ": 2 complete, 0 pruned, 0 failed; 1 parameter(s)"));
  ASSERT_EQ(test::run_command("{ /usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/optuna_check.py' '" +
                                  journal.string() + "' tiny '" + tmp.str() + "' 2>/dev/null; }",
                              &out), 0) << out;
  const auto v = nlohmann::json::parse(out);
  const auto best = best_by_label(study_rows);
  ASSERT_EQ(v["trials"].size(), study_trials.size());
  for (std::size_t i = 0; i < study_trials.size(); ++i) {
    const auto& t = v["trials"][i];
    SCOPED_TRACE(study_trials[i].label);
    EXPECT_EQ(t["state"], "COMPLETE");
    char lr[32];
    std::snprintf(lr, sizeof lr, "lr=%g", t["params"]["lr"].get<double>());
    EXPECT_EQ(lr, study_trials[i].label);
    EXPECT_DOUBLE_EQ(t["value"].get<double>(), best.at(study_trials[i].label).val_acc);
    std::size_t epochs = 0;
    for (const auto& r : study_rows) epochs += r.label == study_trials[i].label;
    EXPECT_EQ(t["intermediate"].size(), epochs);
  }
}

}  // namespace
}  // namespace lrtune
