// The Optuna export, read by Optuna itself (Debian's python3-optuna 3.1):
// trial count, parameters, intermediate values, values and states as the
// store holds them; Optuna's plots drawn from it; the journal shared with
// other studies; bad input refused.
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "report/optuna.h"
#include "support/fake_store.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;

// A grid over lr and momentum (one point with a multistep schedule), each
// state Optuna knows: done, pruned, diverged, running, pending.
std::unique_ptr<test::FakeStore> grid_study() {
  auto s = std::make_unique<test::FakeStore>();
  s->info = StudyInfo{"grid", "lr x momentum", {}};
  s->add("t1", "lr=0.01 momentum=0", RunStatus::done, 3, {{0.40, 0.41}, {0.55, 0.54}, {0.52, 0.50}});
  s->add("t2", "lr=0.01 momentum=0.9", RunStatus::pruned, 3, {{0.30, 0.31}, {0.35, 0.34}});
  s->add("t3", "lr=0.1 momentum=0", RunStatus::done, 3, {{0.45, 0.40}, {0.60, 0.61}, {0.70, 0.69}});
  s->add("t4", "lr=0.1 momentum=0.9", RunStatus::diverged, 3, {{0.20, 0.21}, {0.10, 0.10}});
  s->add("t5", "lr=0.5 momentum=0", RunStatus::running, 3, {{0.25, 0.25}});
  s->add("t6", "lr=0.5 momentum=0.9", RunStatus::pending, 3, {});
  const double lrs[] = {0.01, 0.01, 0.1, 0.1, 0.5, 0.5};
  for (std::size_t i = 0; i < s->records.size(); ++i) {
    auto& r = s->records[i];
    r.spec.config = {{"lr", lrs[i]}, {"epochs", 3}, {"threads", static_cast<int>(i)}};
    if (i % 2) r.spec.config["momentum"] = 0.9;  // momentum 0 is the default: not stored
    if (r.status != RunStatus::pending) r.started_at = 1.7e9 + 100.0 * i;
    if (is_finished(r.status)) r.ended_at = r.started_at + 30.5;
  }
  s->records[2].spec.config["schedule"] = "multistep";
  s->records[2].spec.config["milestones"] = {1, 2};
  return s;
}

std::unique_ptr<Store> open_grid(const std::string&) { return grid_study(); }

class OptunaExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::run_command("/usr/bin/python3 -c 'import optuna, matplotlib, sklearn' 2>/dev/null") != 0)
      GTEST_SKIP() << "Debian's python3-optuna, python3-matplotlib or python3-sklearn missing "
                      "(scripts/setup.sh installs them)";
  }
  // What Optuna reads from the journal (tests/tools/optuna_check.py).
  json optuna_view(const std::string& study, const std::string& rdb = "") {
    std::string out;
    // Braces: run_command sends stderr to stdout after the command; Optuna's
    // warnings go to their own file.
    const std::string cmd = "{ /usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/optuna_check.py' '" +
                            journal.string() + "' '" + study + "' '" + tmp.str() + "' " +
                            (rdb.empty() ? "" : "'" + rdb + "' ") + "2>'" + tmp.str() + "/py.log'; }";
    const int rc = test::run_command(cmd, &out);
    EXPECT_EQ(rc, 0) << out << test::read_file(tmp.path() / "py.log");
    return rc == 0 ? json::parse(out) : json::object();
  }
  test::TempDir tmp;
  fs::path journal = tmp.path() / "studies.log";
};

TEST_F(OptunaExportTest, OptunaSeesTheStoredTrials) {
  OptunaExportOptions o;
  o.storage = journal.string();
  const auto r = export_optuna("runs/grid", open_grid, o);
  EXPECT_EQ(r.study_name, "grid");
  EXPECT_EQ(r.complete, 2);
  EXPECT_EQ(r.pruned, 1);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.unfinished, 2);
  // lr, momentum, schedule, milestones; epochs is the same everywhere, threads
  // changes no result.
  EXPECT_EQ(r.parameters, 4);

  const json v = optuna_view("grid", (tmp.path() / "copy.db").string());
  EXPECT_EQ(v["direction"], "MAXIMIZE");
  EXPECT_EQ(v["user_attrs"]["objective"], "val_acc (best epoch)");
  const auto store = grid_study();
  ASSERT_EQ(v["trials"].size(), store->records.size());
  const char* states[] = {"COMPLETE", "PRUNED", "COMPLETE", "FAIL", "RUNNING", "WAITING"};
  for (std::size_t i = 0; i < store->records.size(); ++i) {
    const json& t = v["trials"][i];
    const auto& rec = store->records[i];
    SCOPED_TRACE(rec.spec.label);
    EXPECT_EQ(t["state"], states[i]);
    EXPECT_EQ(t["user_attrs"]["label"], rec.spec.label);
    EXPECT_EQ(t["user_attrs"]["lrtune_status"], to_string(rec.status));
    EXPECT_DOUBLE_EQ(t["params"]["lr"].get<double>(), rec.spec.config["lr"].get<double>());
    EXPECT_DOUBLE_EQ(t["params"]["momentum"].get<double>(), i % 2 ? 0.9 : 0.0);
    EXPECT_EQ(t["distributions"]["lr"], "CategoricalDistribution");
    const auto epochs = store->epochs(rec.spec.id);
    ASSERT_EQ(t["intermediate"].size(), epochs.size());
    for (const auto& e : epochs)
      EXPECT_DOUBLE_EQ(t["intermediate"][std::to_string(e.epoch)].get<double>(), e.val_acc);
  }
  EXPECT_EQ(v["trials"][2]["params"]["milestones"], "[1,2]");
  // A key of a kind the trial does not use is no parameter of it (Optuna's
  // conditional parameters): only the multistep trial has milestones.
  EXPECT_FALSE(v["trials"][0]["params"].contains("milestones"));
  EXPECT_EQ(v["trials"][0]["params"]["schedule"], "constant");
  EXPECT_DOUBLE_EQ(v["trials"][0]["value"].get<double>(), 0.55);  // the best epoch, not the last
  EXPECT_DOUBLE_EQ(v["trials"][1]["value"].get<double>(), 0.35);  // pruned: its last value
  EXPECT_TRUE(v["trials"][3]["value"].is_null());
  EXPECT_DOUBLE_EQ(v["best_value"].get<double>(), 0.70);
  EXPECT_DOUBLE_EQ(v["best_params"]["lr"].get<double>(), 0.1);
  EXPECT_EQ(v["rdb_trials"], 6);  // optuna.copy_study into an SQLite RDB takes every trial
  for (const auto& plot : v["plots"]) EXPECT_GT(fs::file_size(plot.get<std::string>()), 5000u);
  EXPECT_EQ(v["plots"].size(), 3u);
}

TEST_F(OptunaExportTest, SecondStudyJoinsTheJournalAndLossIsMinimized) {
  OptunaExportOptions o;
  o.storage = journal.string();
  export_optuna("runs/grid", open_grid, o);
  o.study_name = "grid-loss-last";
  o.objective = "val_loss";
  o.at_last_epoch = true;
  export_optuna("runs/grid", open_grid, o);
  const json v = optuna_view("grid-loss-last");
  EXPECT_EQ(v["direction"], "MINIMIZE");
  const auto store = grid_study();
  const auto epochs = store->epochs("t1");
  EXPECT_DOUBLE_EQ(v["trials"][0]["value"].get<double>(), epochs.back().val_loss);
  EXPECT_EQ(optuna_view("grid")["trials"].size(), 6u);  // the first study is intact
  // The same name again is refused, and the journal is left as it was.
  const std::string before = test::read_file(journal);
  try {
    export_optuna("runs/grid", open_grid, o);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already holds a study named 'grid-loss-last'"));
  }
  EXPECT_EQ(test::read_file(journal), before);
  EXPECT_FALSE(fs::exists(journal.string() + ".lock"));
}

TEST(OptunaExport, BadInputIsRefusedBeforeWriting) {
  test::TempDir tmp;
  OptunaExportOptions o;
  o.storage = (tmp.path() / "x.log").string();
  o.objective = "accuracy";
  EXPECT_THROW(export_optuna("runs/grid", open_grid, o), ConfigError);
  o.objective = "val_acc";
  o.storage = "sqlite:///x.db";
  try {
    export_optuna("runs/grid", open_grid, o);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("optuna.copy_study"));
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "x.log"));
}

}  // namespace
}  // namespace lrtune::report

namespace lrtune::report {
namespace {

// A search study as `lrtune study run` stores one: its [search] table with
// the study, and trials drawn from the space (lr decides the objective).
std::unique_ptr<test::FakeStore> search_study() {
  auto s = std::make_unique<test::FakeStore>();
  const json table = {
      {"sampler", "random"}, {"trials", 16},
      {"space",
       {{"lr", {{"log_uniform", {1e-4, 1.0}}}},
        {"momentum", {{"uniform", {0.0, 0.99}}}},
        {"nesterov", {{"choice", {false, true}}, {"when", "momentum > 0.5"}}},
        {"warmup_epochs", {{"uniform", {0, 2}}, {"step", 0.5}}},
        {"batch_size", {{"uniform", {32, 256}}, {"step", 32}}},
        {"augment", {{"choice", {"none", "flipcrop"}}}}}}};
  s->info = StudyInfo{"search", "a search", {{"search", {{"table", table}, {"file", "s.toml"}}}}};
  for (int i = 0; i < 16; ++i) {
    const double lr = std::pow(10.0, -4.0 + 4.0 * ((i * 7) % 16) / 15.0);
    const double momentum = 0.99 * ((i * 5) % 16) / 15.0;
    const double acc = 0.9 - 0.2 * std::abs(std::log10(lr) + 2.0);  // best at lr = 0.01
    s->add("s" + std::to_string(i), "#" + std::to_string(i + 1), RunStatus::done, 2,
           {{acc - 0.1, acc - 0.1}, {acc, acc - 0.01}});
    json& c = s->records.back().spec.config;
    c = {{"lr", lr}, {"momentum", momentum}, {"warmup_epochs", 0.5 * (i % 5)},
         {"batch_size", 32 * (1 + i % 8)}, {"augment", i % 2 ? "none" : "flipcrop"}};
    if (momentum > 0.5) c["nesterov"] = i % 3 == 0;
    s->records.back().started_at = 1.7e9 + i;
    s->records.back().ended_at = 1.7e9 + i + 10;
  }
  return s;
}

// Optuna sees the space's own distributions, not a category per value
// drawn: importances, slice and contour plots and a continued study treat lr
// as the log-uniform number it is.
TEST_F(OptunaExportTest, ASearchStudyCarriesItsSpacesDistributions) {
  OptunaExportOptions o;
  o.storage = journal.string();
  const auto r = export_optuna("runs/search", [](const std::string&) { return search_study(); }, o);
  EXPECT_EQ(r.parameters, 6);
  const json v = optuna_view("search");
  ASSERT_EQ(v["trials"].size(), 16u);
  const json& first = v["trials"][0]["distribution_json"];
  EXPECT_EQ(first["lr"]["name"], "FloatDistribution");
  EXPECT_EQ(first["lr"]["attributes"], (json{{"low", 1e-4}, {"high", 1.0}, {"log", true}, {"step", nullptr}}));
  EXPECT_EQ(first["momentum"]["attributes"],
            (json{{"low", 0.0}, {"high", 0.99}, {"log", false}, {"step", nullptr}}));
  EXPECT_EQ(first["warmup_epochs"]["attributes"],
            (json{{"low", 0.0}, {"high", 2.0}, {"log", false}, {"step", 0.5}}));
  EXPECT_EQ(first["batch_size"]["name"], "IntDistribution");
  EXPECT_EQ(first["batch_size"]["attributes"],
            (json{{"low", 32}, {"high", 256}, {"log", false}, {"step", 32}}));
  EXPECT_EQ(first["augment"]["name"], "CategoricalDistribution");
  EXPECT_EQ(first["augment"]["attributes"]["choices"], (json{"none", "flipcrop"}));
  // nesterov is drawn only where momentum > 0.5: absent elsewhere.
  const auto store = search_study();
  for (std::size_t i = 0; i < 16; ++i) {
    const json& t = v["trials"][i];
    const bool drawn = store->records[i].spec.config.contains("nesterov");
    EXPECT_EQ(t["params"].contains("nesterov"), drawn) << i;
    if (drawn) EXPECT_EQ(t["distribution_json"]["nesterov"]["name"], "CategoricalDistribution");
    EXPECT_DOUBLE_EQ(t["params"]["lr"].get<double>(), store->records[i].spec.config["lr"].get<double>());
    EXPECT_EQ(t["params"]["batch_size"], store->records[i].spec.config["batch_size"]);
  }
  // Optuna's importances run on it, and find the key the objective depends on.
  ASSERT_TRUE(v.contains("importances")) << v.value("importances_error", std::string());
  std::string top;
  double most = -1;
  for (const auto& [key, value] : v["importances"].items())
    if (value.get<double>() > most) most = value.get<double>(), top = key;
  EXPECT_EQ(top, "lr") << v["importances"].dump();
}

}  // namespace
}  // namespace lrtune::report
