// The study files shipped in studies/: users run them as they are, so each must
// read, expand to the trials its comments promise, and give valid configs.
#include <map>

#include <gtest/gtest.h>

#include "core/config.h"
#include "study/expand.h"
#include "study/study_file.h"

namespace lrtune {
namespace {

struct Shipped {
  std::string file;
  std::size_t trials;
  std::int64_t trial_epochs;
};

TEST(ShippedStudies, ReadExpandAndValidate) {
  const std::vector<Shipped> files = {
      {"studies/quick.toml", 10, 110},
      {"studies/reference/part1-lr.toml", 6, 600},
      {"studies/reference/part2-momentum.toml", 5, 500},
      {"studies/reference/part3-nesterov.toml", 2, 200},
      {"studies/reference/part4-warmup.toml", 2, 200},
      {"studies/reference/part5-step-decay.toml", 1, 200},
  };
  for (const auto& f : files) {
    SCOPED_TRACE(f.file);
    const Expansion e = expand_study(read_study_file(std::string(LRTUNE_SOURCE_DIR) + "/" + f.file));
    EXPECT_EQ(e.trials.size(), f.trials);
    std::int64_t epochs = 0;
    for (const auto& t : e.trials) {
      TrainConfig cfg;
      apply_json(cfg, t.config, t.id);
      EXPECT_NO_THROW(cfg.validate(t.label));
      // The choices the files share (studies/reference/part1-lr.toml says why).
      EXPECT_EQ(cfg.batch_size, 128);
      EXPECT_EQ(cfg.augmentation(), "flipcrop");
      EXPECT_DOUBLE_EQ(cfg.weight_decay, 5e-4);
      epochs += t.epochs_total;
    }
    EXPECT_EQ(epochs, f.trial_epochs);
  }
}

// Part 5 is the run the reference reports a final accuracy for (about 0.838).
TEST(ShippedStudies, PartFiveIsTheReferenceSchedule) {
  const Expansion e =
      expand_study(read_study_file(std::string(LRTUNE_SOURCE_DIR) + "/studies/reference/part5-step-decay.toml"));
  ASSERT_EQ(e.trials.size(), 1u);
  TrainConfig cfg;
  apply_json(cfg, e.trials[0].config, "part5");
  EXPECT_EQ(cfg.epochs, 200);
  EXPECT_DOUBLE_EQ(cfg.lr, 0.01);
  EXPECT_DOUBLE_EQ(cfg.real("momentum"), 0.9);
  EXPECT_TRUE(cfg.flag("nesterov"));
  EXPECT_EQ(cfg.schedule, "multistep");
  EXPECT_EQ(cfg.int_list("milestones"), (std::vector<std::int64_t>{50, 100, 150}));
  EXPECT_DOUBLE_EQ(cfg.real("gamma"), 0.2);
}

// The search studies: they read, every range end is a valid trial, and the
// space holds what their comments promise (the reference's hand-tuned point inside it).
TEST(ShippedStudies, SearchStudiesCoverTheReferencePoint) {
  for (const char* file : {"studies/search.toml", "studies/search-large.toml"}) {
    SCOPED_TRACE(file);
    const Study st = read_study_file(std::string(LRTUNE_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(st.search);
    EXPECT_EQ(st.search->sampler, "tpe");
    EXPECT_EQ(st.search->pruner, "asha");
    const Expansion e = expand_study(st);  // checks each range end on the base
    EXPECT_TRUE(e.trials.empty());
    for (const char* key : {"lr", "momentum", "nesterov", "weight_decay", "warmup_epochs"})
      EXPECT_TRUE(st.search->find(key)) << key;
    const auto* lr = st.search->find("lr");
    EXPECT_TRUE(lr->log());
    EXPECT_LE(lr->low, 0.01);
    EXPECT_GE(lr->high, 0.01);
    EXPECT_TRUE(st.search->find("nesterov")->when);
  }
}

}  // namespace
}  // namespace lrtune
