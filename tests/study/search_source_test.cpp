// Search studies through the one worker loop: draws inside the space and
// deterministic, the budget never passed by any number of workers, TPE finding
// the good region of a synthetic objective, ASHA pruning, and a stopped search
// continuing to its budget. The runner trains nothing: each epoch's accuracy
// is a function of the trial's learning rate and momentum.
#include <atomic>
#include <algorithm>
#include <fstream>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "search/pruner.h"
#include "search/space.h"
#include "store/store.h"
#include "study/runner.h"
#include "study/search_source.h"
#include "study/study_run.h"
#include "study/trial_source.h"
#include "study/worker.h"
#include "support/fake_store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using json = nlohmann::json;
using ::testing::HasSubstr;

// Accuracy peaks at lr = 0.01 and momentum = 0.9 and grows with the epochs.
double quality(const json& config) {
  const double d = std::log10(config.value("lr", 1.0)) + 2.0;
  const double m = config.value("momentum", 0.0) - 0.9;
  return std::max(0.05, 0.95 - 0.15 * d * d - 0.5 * m * m);
}

class SyntheticRunner final : public TrialRunner {
 public:
  std::atomic<int> finished{0};
  TrialResult run(const TrialRecord& trial, const TrialContext& ctx) override {
    if (ctx.on_resume) ctx.on_resume(0);
    const double q = quality(trial.spec.config);
    TrialResult result{RunStatus::done, 0, ""};
    for (std::int64_t e = 1; e <= trial.spec.epochs_total; ++e) {
      if (ctx.should_stop()) {
        result.status = RunStatus::running;
        return result;
      }
      EpochMetrics m;
      m.epoch = e;
      m.val_acc = q * (1.0 - std::exp(-static_cast<double>(e) / 2.0));
      m.val_loss = 1.0 - m.val_acc;
      m.test_acc = m.val_acc - 0.01;
      ctx.on_epoch(m);
      result.epochs_completed = e;
    }
    ++finished;
    return result;
  }
};

search::SearchSpec spec_of(const json& table) { return search::parse_search(table, "s.toml"); }

json table(const std::string& sampler, std::int64_t trials, const std::string& pruner = "none") {
  return {{"sampler", sampler}, {"pruner", pruner}, {"trials", trials}, {"seed", 7},
          {"space", {{"lr", {{"log_uniform", {1e-4, 1.0}}}},
                     {"momentum", {{"uniform", {0.0, 0.99}}}}}}};
}

TrainConfig base(std::int64_t epochs) {
  TrainConfig cfg;
  cfg.epochs = epochs;
  return cfg;
}

// A study in `store` searching with `t`, as `study run` registers one.
void put_search_study(Store& store, const json& t, std::int64_t epochs) {
  const json spec = {{"search", {{"table", t}, {"file", "s.toml"}, {"base", to_json(base(epochs))}}}};
  store.put_study({"s", "", spec, {}});
}

WorkerOptions options(std::int64_t pid) {
  WorkerOptions wo;
  wo.host = "host";
  wo.pid = pid;
  wo.heartbeat_every_s = 0.05;
  return wo;
}

std::vector<std::string> grown(const json& t, int n) {
  test::FakeStore store;
  put_search_study(store, t, 3);
  auto source = source_for(*store.study());
  for (int i = 0; i < n; ++i) EXPECT_TRUE(source->grow(store));
  return store.study()->trial_ids;
}

TEST(SearchSource, DrawsStayInTheSpaceWithTheirNumberAndLabel) {
  test::FakeStore store;
  put_search_study(store, table("random", 30), 3);
  auto source = source_for(*store.study());
  while (source->grow(store)) {
  }
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 30u);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const json& c = trials[i].spec.config;
    EXPECT_GE(c["lr"].get<double>(), 1e-4);
    EXPECT_LE(c["lr"].get<double>(), 1.0);
    EXPECT_GE(c["momentum"].get<double>(), 0.0);
    EXPECT_LE(c["momentum"].get<double>(), 0.99);
    EXPECT_EQ(c["epochs"], 3);
    EXPECT_EQ(trials[i].spec.epochs_total, 3);
    EXPECT_THAT(trials[i].spec.label, HasSubstr("#" + std::to_string(i + 1) + " lr="));
  }
  EXPECT_EQ(source->remaining(store), 0);
}

TEST(SearchSource, TheSameSeedAndHistoryDrawTheSameTrials) {
  EXPECT_EQ(grown(table("random", 10), 10), grown(table("random", 10), 10));
  json other = table("random", 10);
  other["seed"] = 8;
  const auto a = grown(table("random", 10), 10), b = grown(other, 10);
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 10u);
  for (const auto& id : a) EXPECT_EQ(std::count(b.begin(), b.end(), id), 0) << id;
}

// How many trials after the first `skip` have lr within a factor 3 of 0.01.
int near_the_peak(Store& store, std::size_t skip) {
  int n = 0;
  const auto trials = store.trials();
  for (std::size_t i = skip; i < trials.size(); ++i)
    n += std::abs(std::log10(trials[i].spec.config["lr"].get<double>()) + 2.0) < 0.48;
  return n;
}

TEST(SearchSource, TpeConcentratesWhereTheObjectiveIsGood) {
  int found[2] = {0, 0};
  const char* samplers[2] = {"random", "tpe"};
  for (int k = 0; k < 2; ++k) {
    test::FakeStore store;
    put_search_study(store, table(samplers[k], 50), 2);
    SyntheticRunner runner;
    auto source = source_for(*store.study());
    run_worker(store, runner, *source, options(1), [] { return false; });
    ASSERT_EQ(store.trials().size(), 50u);
    found[k] = near_the_peak(store, 10);
  }
  // A uniform draw on the log scale lands there about 1 time in 4 (10 of 40).
  EXPECT_LE(found[0], 16);
  EXPECT_GE(found[1], 2 * found[0]) << "random " << found[0] << ", tpe " << found[1];
}

class SearchOnSqlite : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string db = (tmp.path() / "results.sqlite").string();
};

TEST_F(SearchOnSqlite, FourWorkersNeverDrawATrialTwiceNorPassTheBudget) {
  constexpr std::size_t kBudget = 24;
  put_search_study(*open_sqlite_store(db), table("tpe", kBudget), 3);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([this, w] {
      auto store = open_sqlite_store(db);  // a connection of its own, as a process has
      auto source = source_for(*store->study());
      SyntheticRunner runner;
      run_worker(*store, runner, *source, options(w + 1), [] { return false; });
    });
  for (auto& t : workers) t.join();
  auto store = open_sqlite_store(db);
  const auto ids = store->study()->trial_ids;
  ASSERT_EQ(ids.size(), kBudget);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), kBudget);
  std::set<double> lrs;
  std::set<std::int64_t> workers_used;
  for (const auto& t : store->trials()) {
    EXPECT_EQ(t.status, RunStatus::done) << t.spec.label;
    EXPECT_EQ(t.attempts, 1) << t.spec.label;
    EXPECT_EQ(t.epochs_done, 3) << t.spec.label;
    lrs.insert(t.spec.config["lr"].get<double>());
    workers_used.insert(t.pid);
  }
  EXPECT_EQ(lrs.size(), kBudget);  // running trials count as bad: no two workers draw alike
  EXPECT_GT(workers_used.size(), 1u);
}

TEST_F(SearchOnSqlite, AStoppedSearchContinuesToItsBudget) {
  constexpr std::size_t kBudget = 16;
  put_search_study(*open_sqlite_store(db), table("tpe", kBudget), 3);
  std::vector<std::string> first;
  {
    auto store = open_sqlite_store(db);
    auto source = source_for(*store->study());
    SyntheticRunner runner;
    const auto summary = run_worker(*store, runner, *source, options(1),
                                    [&runner] { return runner.finished >= 5; });
    EXPECT_TRUE(summary.stopped);
    first = store->study()->trial_ids;
    ASSERT_GE(first.size(), 5u);
    ASSERT_LT(first.size(), kBudget);
  }
  auto store = open_sqlite_store(db);
  auto source = source_for(*store->study());
  SyntheticRunner runner;
  run_worker(*store, runner, *source, options(2), [] { return false; });
  const auto ids = store->study()->trial_ids;
  ASSERT_EQ(ids.size(), kBudget);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), ids.begin()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto t = store->trial(ids[i]);
    EXPECT_EQ(t->status, RunStatus::done);
    EXPECT_THAT(t->spec.label, HasSubstr("#" + std::to_string(i + 1) + " "));
  }
}

TEST(SearchSource, AshaPrunesAtRungsAndPrunedTrialsKeepTheirEpochs) {
  test::FakeStore store;
  json t = table("random", 27, "asha");
  t["asha_min_epochs"] = 1;
  put_search_study(store, t, 9);
  SyntheticRunner runner;
  auto source = source_for(*store.study());
  const auto summary = run_worker(store, runner, *source, options(1), [] { return false; });
  EXPECT_EQ(summary.finished, 27);
  int pruned = 0;
  std::int64_t epochs = 0;
  for (const auto& tr : store.trials()) {
    epochs += tr.epochs_done;
    if (tr.status == RunStatus::pruned) {
      ++pruned;
      EXPECT_TRUE(tr.epochs_done == 1 || tr.epochs_done == 3) << tr.spec.label;
      EXPECT_THAT(tr.error, HasSubstr("pruned after epoch " + std::to_string(tr.epochs_done)));
    } else {
      EXPECT_EQ(tr.status, RunStatus::done);
      EXPECT_EQ(tr.epochs_done, 9);
    }
  }
  EXPECT_GE(pruned, 9);  // at least a third of the trials stop at the first rung or the second
  EXPECT_LT(epochs, 27 * 9 / 2);
  EXPECT_THAT(source->progress_note(store), HasSubstr("trial-epochs saved"));
}

TEST(SearchSource, HyperbandStopsTrialsOnlyAtTheirOwnBracketsRungs) {
  test::FakeStore store;
  json t = table("random", 40, "hyperband");
  put_search_study(store, t, 9);  // brackets with first rungs at epochs 1, 3 and 9
  SyntheticRunner runner;
  auto source = source_for(*store.study());
  EXPECT_EQ(run_worker(store, runner, *source, options(1), [] { return false; }).finished, 40);
  // Brackets as Optuna places them: from the study's name and the trial's number.
  const search::HyperbandPruner hb(1, 9, 3, "s");
  std::map<std::int64_t, int> pruned_by_bracket;
  for (const auto& tr : store.trials()) {
    const std::int64_t number = std::stoll(tr.spec.label.substr(1)) - 1;  // "#12 lr=..."
    const std::int64_t bracket = hb.bracket_of(number);
    if (tr.status != RunStatus::pruned) {
      EXPECT_EQ(tr.epochs_done, 9) << tr.spec.label;
      continue;
    }
    ++pruned_by_bracket[bracket];
    const auto rungs = hb.rungs(bracket, 8);  // never at the last epoch
    EXPECT_NE(std::find(rungs.begin(), rungs.end(), tr.epochs_done), rungs.end())
        << tr.spec.label << " (bracket " << bracket << ") stopped after epoch " << tr.epochs_done;
  }
  EXPECT_GT(pruned_by_bracket[0], 0);
  EXPECT_EQ(pruned_by_bracket[2], 0);  // its first rung is the last epoch
}

TEST(SearchSource, ProgressNamesTheBestCompleteTrial) {
  test::FakeStore store;
  put_search_study(store, table("random", 10), 2);
  SyntheticRunner runner;
  auto source = source_for(*store.study());
  EXPECT_EQ(source->progress_note(store), "0/10 trials drawn");  // nothing finished yet
  run_worker(store, runner, *source, options(1), [] { return false; });
  std::string best_label;
  double best = -1;
  for (const auto& tr : store.trials())
    if (const double v = store.epochs(tr.spec.id).back().val_acc; v > best) {
      best = v;
      best_label = tr.spec.label;
    }
  EXPECT_THAT(source->progress_note(store), HasSubstr("best val_acc"));
  EXPECT_THAT(source->progress_note(store), HasSubstr(best_label));
}

// A search study file run again: the same search continues (a raised budget
// extends it); another space in the same folder is refused, saying why.
class SearchRegistration : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string file = (tmp.path() / "s.toml").string();
  std::string out = (tmp.path() / "out").string();

  void write(std::int64_t trials, const std::string& lr_range) {
    std::ofstream(file) << "name = \"s\"\n[base]\nepochs = 2\n[search]\nsampler = \"random\"\n"
                        << "trials = " << trials << "\n[search.space]\nlr = { log_uniform = "
                        << lr_range << " }\n";
  }
  std::vector<std::string> grow_all() {
    RegisteredStudy r = register_study(file, {}, out);
    auto source = source_for(*r.store->study());
    while (source->grow(*r.store)) {
    }
    return r.store->study()->trial_ids;
  }
};

TEST_F(SearchRegistration, RaisingTheBudgetExtendsTheSearch) {
  write(4, "[1e-4, 1.0]");
  const auto first = grow_all();
  ASSERT_EQ(first.size(), 4u);
  write(6, "[1e-4, 1.0]");
  const auto again = grow_all();
  ASSERT_EQ(again.size(), 6u);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), again.begin()));
}

TEST_F(SearchRegistration, AnotherSpaceInTheSameFolderIsRefused) {
  write(4, "[1e-4, 1.0]");
  grow_all();
  write(4, "[1e-3, 1.0]");
  try {
    register_study(file, {}, out);
    FAIL() << "a changed space was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("[search] table"));
    EXPECT_THAT(e.what(), HasSubstr("--out"));
  }
  auto store = open_study_store(out);
  EXPECT_EQ(store->study()->trial_ids.size(), 4u);  // nothing was changed
  Overrides longer;
  longer.epochs = 5;
  write(4, "[1e-4, 1.0]");
  EXPECT_THROW(register_study(file, longer, out), ConfigError);  // another base is another search
}

TEST_F(SearchRegistration, ARangeNoTrialCouldTrainIsRefusedUpFront) {
  std::ofstream(file) << "name = \"s\"\n[base]\nepochs = 2\n[search]\nsampler = \"random\"\n"
                      << "trials = 4\n[search.space]\nwarmup_epochs = { uniform = [0, 5] }\n";
  try {
    register_study(file, {}, out);
    FAIL() << "warm-up beyond the epochs was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("search.space.warmup_epochs"));
  }
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

// Momentum drawn for an adam trial changes nothing: it is left out of that
// trial's configuration (and identity) and label, as a conditional key is.
TEST(SearchSource, AKeyTheDrawnOptimizerDoesNotReadIsLeftOut) {
  test::FakeStore store;
  json t = table("random", 24);
  t["space"]["optimizer"] = {{"choice", {"sgd", "adam"}}};
  put_search_study(store, t, 3);
  auto source = source_for(*store.study());
  while (source->grow(store)) {
  }
  int adam = 0, sgd = 0;
  for (const auto& trial : store.trials()) {
    const json& c = trial.spec.config;
    if (c["optimizer"] == "adam") {
      ++adam;
      EXPECT_EQ(c["momentum"], 0.0) << trial.spec.label;
      EXPECT_THAT(trial.spec.label, ::testing::Not(HasSubstr("momentum=")));
    } else {
      ++sgd;
      EXPECT_THAT(trial.spec.label, HasSubstr("momentum="));
    }
    TrainConfig cfg;
    apply_json(cfg, c, "trial");
    EXPECT_NO_THROW(cfg.validate()) << trial.spec.label;
  }
  EXPECT_GT(adam, 0);
  EXPECT_GT(sgd, 0);
}

}  // namespace
}  // namespace lrtune
