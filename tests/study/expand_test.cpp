// Grid expansion (crossed, zipped, repeats), labels, overrides and trial identity.
#include <functional>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "study/expand.h"

namespace lrtune {
namespace {
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

Study study_of(const json& doc) { return parse_study(doc, "s.toml"); }

std::vector<std::string> labels(const Expansion& e) {
  std::vector<std::string> out;
  for (const auto& t : e.trials) out.push_back(t.label);
  return out;
}

TrainConfig config_of(const TrialSpec& t) {
  TrainConfig c;
  apply_json(c, t.config, "test");
  return c;
}

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(StudyExpand, GridIsCrossedFirstKeyOutermost) {
  const auto e = expand_study(study_of(
      {{"name", "g"}, {"sweep", {{{"grid", {{"lr", {0.1, 0.01}}, {"momentum", {0.0, 0.9}}}}}}}}));
  EXPECT_THAT(labels(e), ElementsAre("lr=0.1 momentum=0.0", "lr=0.1 momentum=0.9",
                                     "lr=0.01 momentum=0.0", "lr=0.01 momentum=0.9"));
  EXPECT_EQ(config_of(e.trials[3]).lr, 0.01);
  EXPECT_EQ(config_of(e.trials[3]).real("momentum"), 0.9);
  EXPECT_THAT(e.swept_keys, ElementsAre("lr", "momentum"));
}

TEST(StudyExpand, ZipMovesKeysTogetherAndCrossesWithTheGrid) {
  const auto e = expand_study(study_of(
      {{"name", "z"},
       {"sweep",
        {{{"grid", {{"lr", {0.1, 0.01}}}},
          {"zip", {{"momentum", {0.5, 0.9}}, {"nesterov", {false, true}}}}}}}}));
  EXPECT_THAT(labels(e), ElementsAre("lr=0.1 momentum=0.5 nesterov=off",
                                     "lr=0.1 momentum=0.9 nesterov=on",
                                     "lr=0.01 momentum=0.5 nesterov=off",
                                     "lr=0.01 momentum=0.9 nesterov=on"));
  EXPECT_TRUE(config_of(e.trials[1]).flag("nesterov"));
  EXPECT_FALSE(config_of(e.trials[2]).flag("nesterov"));
}

TEST(StudyExpand, RepeatsUseConsecutiveSeeds) {
  const auto e = expand_study(study_of({{"name", "r"},
                                        {"repeats", 3},
                                        {"base", {{"seed", 10}}},
                                        {"sweep", {{{"grid", {{"lr", {0.1, 0.2}}}}}}}}));
  ASSERT_EQ(e.trials.size(), 6u);
  EXPECT_EQ(e.trials[0].label, "lr=0.1 rep=1");
  EXPECT_EQ(e.trials[2].label, "lr=0.1 rep=3");
  EXPECT_EQ(config_of(e.trials[0]).seed, 10);
  EXPECT_EQ(config_of(e.trials[2]).seed, 12);
  EXPECT_EQ(config_of(e.trials[3]).seed, 10);
  EXPECT_EQ(e.trials[2].repeat, 2);
  EXPECT_THAT(e.swept_keys, ElementsAre("lr", "seed"));
  const auto all = e.ids();
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 6u);
}

TEST(StudyExpand, SweepNamesSetsAndSharedPoints) {
  // Sweep 2's momentum=0 point at lr 0.01 is sweep 1's lr=0.01: one trial.
  const auto e = expand_study(study_of(
      {{"name", "q"},
       {"base", {{"epochs", 4}}},
       {"sweep",
        {{{"name", "part1"}, {"grid", {{"lr", {0.01, 0.1}}}}},
         {{"name", "part2"}, {"set", {{"lr", 0.01}}}, {"grid", {{"momentum", {0.0, 0.9}}}}},
         {{"name", "part5"}, {"set", {{"schedule", "multistep"}, {"milestones", {1, 2}}}}}}}}));
  EXPECT_THAT(labels(e), ElementsAre("part1 lr=0.01", "part1 lr=0.1", "part2 momentum=0.9", "part5"));
  ASSERT_EQ(e.points.size(), 5u);
  EXPECT_EQ(e.points[2].label, "part2 momentum=0.0");
  EXPECT_EQ(e.points[2].id, e.trials[0].id);
  EXPECT_EQ(e.points[2].values["momentum"], 0.0);
  EXPECT_EQ(config_of(e.trials[3]).schedule, "multistep");
  EXPECT_EQ(e.trials[3].epochs_total, 4);
}

TEST(StudyExpand, NoSweepIsTheBaseAlone) {
  const auto e = expand_study(study_of({{"name", "b"}, {"base", {{"epochs", 7}}}}));
  ASSERT_EQ(e.trials.size(), 1u);
  EXPECT_EQ(e.trials[0].label, "base");
  EXPECT_EQ(e.trials[0].epochs_total, 7);
}

TEST(StudyExpand, InvalidTrialsNameFileAndLabel) {
  const std::string msg = config_error([] {
    expand_study(study_of({{"name", "bad"}, {"sweep", {{{"grid", {{"lr", {0.1, -1.0}}}}}}}}));
  });
  EXPECT_THAT(msg, HasSubstr("s.toml (trial 'lr=-1.0'): lr: must be a positive"));
}

TEST(StudyIdentity, SameConfigSameIdAndAnyIdentityChangeANewOne) {
  const TrainConfig base;
  EXPECT_EQ(trial_id(base), trial_id(TrainConfig{}));
  EXPECT_EQ(trial_id(base).size(), 16u);
  std::set<std::string> ids = {trial_id(base)};
  int changed = 0;
  for (const auto& field : config_fields()) {
    TrainConfig c = base;
    nlohmann::json v = field_value(c, field);
    switch (field.spec.type) {
      case KeyType::real: v = v.get<double>() + 0.125; break;
      case KeyType::integer: v = v.get<std::int64_t>() + 1; break;
      case KeyType::boolean: v = !v.get<bool>(); break;
      case KeyType::text: v = v.get<std::string>() + "x"; break;
      case KeyType::int_list: v = nlohmann::json::array({7}); break;
      case KeyType::real_list: v = nlohmann::json::array({0.5}); break;
    }
    c.set(field.key(), v);
    if (field.identity()) {
      EXPECT_TRUE(ids.insert(trial_id(c)).second) << field.key() << " did not change the id";
      ++changed;
    } else {
      EXPECT_EQ(trial_id(c), trial_id(base)) << field.key() << " changed the id";
    }
  }
  EXPECT_GT(changed, 10);
}

TEST(StudyIdentity, OverridesGiveNewIds) {
  const Study st = study_of({{"name", "o"}, {"sweep", {{{"grid", {{"lr", {0.1, 0.2}}}}}}}});
  const auto plain = expand_study(st);
  Overrides epochs;
  epochs.epochs = 2;
  Overrides subset;
  subset.train_subset = 500;
  Overrides set;
  set.set = {{"batch_size", "64"}};
  std::set<std::string> all;
  for (const auto* o : {&epochs, &subset, &set}) {
    const auto e = expand_study(st, *o);
    ASSERT_EQ(e.trials.size(), 2u);
    for (const auto& id : e.ids()) EXPECT_TRUE(all.insert(id).second);
    EXPECT_EQ(e.trials[0].label, "lr=0.1");
  }
  for (const auto& id : plain.ids()) EXPECT_TRUE(all.insert(id).second);
  EXPECT_EQ(config_of(expand_study(st, epochs).trials[1]).epochs, 2);
  EXPECT_EQ(config_of(expand_study(st, set).trials[1]).batch_size, 64);
  EXPECT_EQ(expand_study(st).ids(), plain.ids());  // and the same file, the same ids
}

TEST(StudyIdentity, OverrideErrors) {
  const Study st = study_of({{"name", "o"}});
  Overrides unknown;
  unknown.set = {{"learning_rate", "0.1"}};
  EXPECT_THAT(config_error([&] { expand_study(st, unknown); }), HasSubstr("learning_rate"));
  Overrides where;
  where.set = {{"device", "cuda"}};
  EXPECT_THAT(config_error([&] { expand_study(st, where); }), HasSubstr("--set device"));
}

TEST(StudyLabels, ValuesAsPeopleWriteThem) {
  TrainConfig c;
  c.lr = 0.0001;
  c.set("nesterov", true);
  c.set("milestones", nlohmann::json::array({50, 100, 150}));
  EXPECT_EQ(label_value(c, "lr"), "0.0001");
  EXPECT_EQ(label_value(c, "nesterov"), "on");
  EXPECT_EQ(label_value(c, "milestones"), "50,100,150");
  EXPECT_EQ(label_value(c, "augment"), "flipcrop");
}

TEST(StudyInfo, KeepsFileOverridesAndPoints) {
  const Study st = study_of({{"name", "i"}, {"sweep", {{{"grid", {{"lr", {0.1}}}}}}}});
  Overrides o;
  o.epochs = 3;
  const auto e = expand_study(st, o);
  const StudyInfo info = study_info(st, o, e);
  EXPECT_EQ(info.name, "i");
  EXPECT_EQ(info.trial_ids, e.ids());
  EXPECT_EQ(info.spec["overrides"]["epochs"], 3);
  EXPECT_EQ(info.spec["points"][0]["label"], "lr=0.1");
  EXPECT_EQ(info.spec["swept_keys"][0], "lr");
}

// A grid of `keys` keys with `values` values each (lr, momentum, ... distinct numbers).
json wide_grid(int keys, int values) {
  const char* names[] = {"lr", "momentum", "weight_decay", "val_size", "batch_size", "seed",
                         "epochs", "train_subset"};
  json grid = json::object();
  for (int k = 0; k < keys; ++k) {
    json list = json::array();
    for (int v = 0; v < values; ++v) list.push_back(k < 3 ? 0.001 * (v + 1) : 1000 + v);
    grid[names[k % 8]] = list;
  }
  return {{"name", "wide"}, {"sweep", {{{"grid", grid}}}}};
}

TEST(StudyExpand, PointsAreCountedWithoutExpandingThem) {
  EXPECT_EQ(count_points(study_of({{"name", "one"}})), 1u);
  EXPECT_EQ(count_points(study_of(wide_grid(6, 10))), 1000000u);
  json two = wide_grid(2, 10);
  two["sweep"].push_back({{"zip", {{"lr", {0.1, 0.2, 0.3}}, {"momentum", {0.0, 0.5, 0.9}}}}});
  two["repeats"] = 3;
  EXPECT_EQ(count_points(study_of(two)), (100u + 3u) * 3u);
  EXPECT_EQ(count_points(study_of(wide_grid(8, 400))), UINT64_MAX);  // 400^8 > 2^64
}

TEST(StudyExpand, AGridAboveTheLimitIsRefusedNamingItsSize) {
  // 10^6 points took 28 s and 3.8 GB to expand; counted first, it is refused at once.
  const std::string msg = config_error([] { expand_study(study_of(wide_grid(6, 10))); });
  EXPECT_THAT(msg, HasSubstr("s.toml: the study has 1,000,000 points"));
  EXPECT_THAT(msg, HasSubstr("(sweep[1]: 10 batch_size x 10 lr x 10 momentum x 10 seed x 10 val_size x 10 weight_decay)"));
  EXPECT_THAT(msg, HasSubstr("at most 10,000 per study"));
  EXPECT_THAT(config_error([] { expand_study(study_of(wide_grid(8, 400))); }),
              HasSubstr("more than 10^19 points"));
}

TEST(StudyExpand, AGridAtTheLimitExpands) {
  json doc = wide_grid(2, 100);
  EXPECT_EQ(count_points(study_of(doc)), kMaxStudyPoints);
  EXPECT_EQ(expand_study(study_of(doc)).trials.size(), kMaxStudyPoints);
  doc["repeats"] = 2;
  EXPECT_THAT(config_error([&] { expand_study(study_of(doc)); }),
              HasSubstr("20,000 points (sweep[1]: 100 lr x 100 momentum; times 2 repeats)"));
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

// A pruner that could never stop a trial is a mistake in the file: refused.
TEST(StudyExpand, APrunerThatCouldNeverActIsRefused) {
  const auto search = [](const std::string& pruner, const json& options, const json& space) {
    json table = {{"sampler", "random"}, {"pruner", pruner}, {"trials", 4}, {"space", space}};
    table.update(options);
    return study_of({{"name", "s"}, {"base", {{"epochs", 6}}}, {"search", table}});
  };
  const json lr = {{"lr", {{"log_uniform", {1e-3, 1.0}}}}};
  EXPECT_THAT(config_error([&] { expand_study(search("asha", {{"asha_min_epochs", 6}}, lr)); }),
              HasSubstr("search.asha_min_epochs: 6 is not below the trials' 6 epochs, so ASHA never"));
  EXPECT_THAT(config_error([&] { expand_study(search("median", {{"median_warmup_epochs", 9}}, lr)); }),
              HasSubstr("search.median_warmup_epochs: 9 is not below"));
  EXPECT_EQ(config_error([&] { expand_study(search("asha", {{"asha_min_epochs", 5}}, lr)); }),
            "(no error)");
  EXPECT_THAT(config_error([&] { expand_study(search("hyperband", {{"hyperband_min_epochs", 7}}, lr)); }),
              HasSubstr("search.hyperband_min_epochs: 7 is not below the trials' 6 epochs, so Hyperband"));
  EXPECT_EQ(config_error([&] { expand_study(search("hyperband", {{"hyperband_min_epochs", 2}}, lr)); }),
            "(no error)");
  // A searched epochs counts at its top.
  json with_epochs = lr;
  with_epochs["epochs"] = {{"choice", {4, 12}}};
  EXPECT_EQ(config_error([&] { expand_study(search("asha", {{"asha_min_epochs", 8}}, with_epochs)); }),
            "(no error)");
}

// A grid over a key the trial's optimizer does not read gives trials that
// train alike under different ids: refused, naming the key.
TEST(StudyExpand, AGridOverAKeyTheOptimizerIgnoresIsRefused) {
  const std::string msg = config_error([] {
    expand_study(study_of({{"name", "s"},
                           {"base", {{"optimizer", "adam"}}},
                           {"sweep", {{{"grid", {{"nesterov", {false, true}}}}}}}}));
  });
  EXPECT_THAT(msg, HasSubstr("(trial 'nesterov=on'): nesterov: is set, but optimizer adam"));
}

}  // namespace
}  // namespace lrtune
