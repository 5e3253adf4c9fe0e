// The Store contract for what samplers and pruners read and add: the study's
// history, and a trial chosen from it in one transaction. Run against every
// implementation (store_conformance.h lists them).
#include <gtest/gtest.h>

#include "core/errors.h"
#include "store/store_conformance.h"

namespace lrtune::conformance {
namespace {

// A chooser that adds trial "s<n>" for a history of n trials, and remembers
// what it saw.
struct Numbered {
  std::vector<std::string> seen;
  std::optional<TrialSpec> operator()(const std::vector<TrialHistory>& history) {
    seen.clear();
    for (const auto& h : history) seen.push_back(h.trial.spec.id);
    const std::string id = "s" + std::to_string(history.size());
    return TrialSpec{id, "lr=" + id, {{"lr", 0.1}}, 0, 30};
  }
};

TEST_P(StoreConformance, HistoryIsTheStudysTrialsInItsOrderWithTheirEpochs) {
  add({"a", "b", "old"});
  a->put_study({kStudy, "", {}, {"b", "a"}});  // "old" is in the store, not in the study
  a->put_epoch("a", row(2));
  a->put_epoch("a", row(1));
  ASSERT_TRUE(a->claim_trial({"b"}, "host-a", 1, kStale));
  const auto h = b->history();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].trial.spec.id, "b");
  EXPECT_EQ(h[0].trial.status, RunStatus::running);
  EXPECT_TRUE(h[0].epochs.empty());
  EXPECT_EQ(h[1].trial.spec.id, "a");
  EXPECT_EQ(h[1].trial.epochs_done, 2);
  EXPECT_EQ(epochs_of(h[1].epochs), (Epochs{1, 2}));
  EXPECT_EQ(h[1].epochs[1].val_acc, row(2).val_acc);
  EXPECT_EQ(h[1].trial.spec.config, spec("a").config);
}

TEST_P(StoreConformance, AddTrialWithChoosesFromTheHistoryAndJoinsTheStudy) {
  add({"a"});
  a->put_study({kStudy, "", {}, {"a"}});
  Numbered choose;
  const auto added = a->add_trial_with(std::ref(choose));
  ASSERT_TRUE(added);
  EXPECT_EQ(added->id, "s1");
  EXPECT_EQ(choose.seen, (Ids{"a"}));
  ASSERT_TRUE(b->add_trial_with(std::ref(choose)));  // another worker sees the first's trial
  EXPECT_EQ(choose.seen, (Ids{"a", "s1"}));
  EXPECT_EQ(b->study()->trial_ids, (Ids{"a", "s1", "s2"}));
  const auto t = b->trial("s1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, RunStatus::pending);
  EXPECT_EQ(t->spec.epochs_total, 30);
  EXPECT_EQ(ids_of(a->trials()), (Ids{"a", "s1", "s2"}));
}

TEST_P(StoreConformance, AddTrialWithAddsNothingWhenTheChooserDeclines) {
  a->put_study({kStudy, "", {}, {}});
  const auto added = a->add_trial_with([](const std::vector<TrialHistory>&) {
    return std::optional<TrialSpec>();
  });
  EXPECT_FALSE(added);
  EXPECT_TRUE(b->trials().empty());
  EXPECT_TRUE(b->study()->trial_ids.empty());
}

TEST_P(StoreConformance, AddTrialWithRefusesAnIdTheStoreHoldsAndAddsNothing) {
  add({"s0"});  // in the store but not in the study (a trial of an earlier run)
  a->put_study({kStudy, "", {}, {}});
  Numbered choose;
  EXPECT_THROW(a->add_trial_with(std::ref(choose)), StoreError);
  EXPECT_TRUE(b->study()->trial_ids.empty());
  EXPECT_EQ(b->trials().size(), 1u);
}

TEST_P(StoreConformance, AddTrialWithoutAStudyIsRefused) {
  Numbered choose;
  EXPECT_THROW(a->add_trial_with(std::ref(choose)), StoreError);
  EXPECT_TRUE(b->trials().empty());
}

}  // namespace
}  // namespace lrtune::conformance
