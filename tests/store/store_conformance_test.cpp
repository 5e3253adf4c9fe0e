// The Store contract (store/store.h) for studies, trials, claims and leases,
// run against every implementation (store_conformance.h lists them).
#include <gtest/gtest.h>

#include "core/errors.h"
#include "store/store_conformance.h"

namespace lrtune::conformance {
namespace {

TEST_P(StoreConformance, StudyIsAbsentUntilPut) {
  EXPECT_FALSE(a->study());
  add({"t"});  // `lrtune train` adds a trial without any study file
  EXPECT_FALSE(a->study());
  EXPECT_FALSE(b->study());
}

TEST_P(StoreConformance, StudyRoundTripsAndUpdatesInPlace) {
  const nlohmann::json spec = {{"file", "part1.toml"}, {"points", {{{"id", "b"}}, {{"id", "a"}}}}};
  a->put_study({kStudy, "learning rates", spec, {"b", "a"}});
  auto info = b->study();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, kStudy);
  EXPECT_EQ(info->description, "learning rates");
  EXPECT_EQ(info->spec, spec);
  EXPECT_EQ(info->trial_ids, (Ids{"b", "a"}));
  b->put_study({kStudy, "changed", {{"file", "part2.toml"}}, {"a", "c"}});
  info = a->study();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->description, "changed");
  EXPECT_EQ(info->spec["file"], "part2.toml");
  EXPECT_EQ(info->trial_ids, (Ids{"a", "c"}));
}

TEST_P(StoreConformance, AddTrialIsIdempotentAndKeepsInsertionOrder) {
  add({"c", "a"});
  TrialSpec again = spec("c");
  again.label = "changed";
  again.epochs_total = 99;
  b->add_trial(again);  // another worker adding the same trial changes nothing
  add({"b"});
  const auto all = b->trials();
  EXPECT_EQ(ids_of(all), (Ids{"c", "a", "b"}));
  EXPECT_EQ(all[0].spec.label, "lr=c");
  EXPECT_EQ(all[0].spec.epochs_total, 30);
}

TEST_P(StoreConformance, NewTrialCarriesItsSpecAndAFreshState) {
  add({"t"});
  const auto t = b->trial("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->spec.id, "t");
  EXPECT_EQ(t->spec.label, "lr=t");
  EXPECT_EQ(t->spec.config, spec("t").config);
  EXPECT_EQ(t->spec.repeat, 2);
  EXPECT_EQ(t->spec.epochs_total, 30);
  EXPECT_EQ(t->status, RunStatus::pending);
  EXPECT_EQ(t->host, "");
  EXPECT_EQ(t->pid, 0);
  EXPECT_EQ(t->started_at, 0);
  EXPECT_EQ(t->ended_at, 0);
  EXPECT_EQ(t->heartbeat_at, 0);
  EXPECT_EQ(t->error, "");
  EXPECT_EQ(t->epochs_done, 0);
  EXPECT_EQ(t->attempts, 0);
  EXPECT_TRUE(t->info.is_object() && t->info.empty()) << t->info.dump();
  ASSERT_EQ(b->trials().size(), 1u);
  EXPECT_EQ(b->trials()[0].spec.config, t->spec.config);
  EXPECT_FALSE(b->trial("unknown"));
}

TEST_P(StoreConformance, ClaimTakesTheFirstClaimableInTheOrderOfIds) {
  add({"a", "b", "c", "d"});
  ASSERT_TRUE(a->claim_trial({"d"}, "h", 1, kStale));
  a->finish_trial("d", RunStatus::done);
  const Ids wanted = {"unknown", "d", "c", "a"};  // "b" is not asked for
  const double t0 = a->now();
  auto first = b->claim_trial(wanted, "host-b", 42, kStale);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->spec.id, "c");
  EXPECT_EQ(first->status, RunStatus::running);
  EXPECT_EQ(first->host, "host-b");
  EXPECT_EQ(first->pid, 42);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->started_at, t0);
  EXPECT_EQ(first->heartbeat_at, t0);
  EXPECT_EQ(a->trial("c")->status, RunStatus::running);  // recorded, not only returned
  EXPECT_EQ(a->claim_trial(wanted, "host-a", 1, kStale)->spec.id, "a");
  EXPECT_FALSE(b->claim_trial(wanted, "host-b", 42, kStale));
  EXPECT_EQ(a->trial("b")->status, RunStatus::pending);
}

TEST_P(StoreConformance, StaleRunningTrialIsTakenLikeAPendingOneInIdOrder) {
  add({"stale", "pending"});
  ASSERT_TRUE(a->claim_trial({"stale"}, "host-a", 1, kStale));
  backend->advance(kStale + 1);
  EXPECT_EQ(b->claim_trial({"stale", "pending"}, "host-b", 2, kStale)->spec.id, "stale");
  EXPECT_EQ(b->claim_trial({"stale", "pending"}, "host-b", 2, kStale)->spec.id, "pending");
}

TEST_P(StoreConformance, FreshRunningTrialIsNotClaimableStaleOneIs) {
  add({"t"});
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 1, kStale));
  EXPECT_FALSE(b->claim_trial({"t"}, "host-b", 2, kStale));
  backend->advance(50);
  a->heartbeat("t");
  EXPECT_EQ(b->trial("t")->heartbeat_at, a->now());
  backend->advance(50);  // 100 s since the claim, 50 since the beat
  EXPECT_FALSE(b->claim_trial({"t"}, "host-b", 2, kStale));
  backend->advance(10);  // exactly kStale since the beat: not older than it yet
  EXPECT_FALSE(b->claim_trial({"t"}, "host-b", 2, kStale));
  backend->advance(0.5);
  EXPECT_TRUE(b->claim_trial({"t"}, "host-b", 2, kStale));
}

TEST_P(StoreConformance, TakeoverKeepsTheStartAndCountsTheAttempt) {
  add({"t"});
  const double started = a->now();
  const auto first = a->claim_trial({"t"}, "host-a", 1, kStale);
  ASSERT_TRUE(first);
  backend->advance(kStale + 1);
  const auto taken = b->claim_trial({"t"}, "host-b", 2, kStale);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->host, "host-b");
  EXPECT_EQ(taken->pid, 2);
  EXPECT_EQ(taken->attempts, 2);
  EXPECT_GT(taken->lease, first->lease);
  EXPECT_EQ(taken->started_at, started);
  EXPECT_EQ(taken->heartbeat_at, b->now());
}

TEST_P(StoreConformance, EveryClaimBumpsTheLease) {
  add({"t"});
  std::int64_t last = -1;
  for (int i = 1; i <= 3; ++i) {
    Store& worker = i % 2 ? *a : *b;
    const auto claimed = worker.claim_trial({"t"}, "h", i, kStale);
    ASSERT_TRUE(claimed);
    EXPECT_GT(claimed->lease, last) << "claim " << i;
    EXPECT_EQ(claimed->attempts, i);
    EXPECT_EQ(worker.trial("t")->lease, claimed->lease);
    last = claimed->lease;
    worker.release_trial("t");
  }
}

TEST_P(StoreConformance, HoldsOnlyWhatThisHandleClaimedAndStillHas) {
  add({"t", "u"});
  EXPECT_FALSE(a->holds("t"));  // never claimed
  ASSERT_NO_FATAL_FAILURE(a_loses("t"));
  EXPECT_FALSE(a->holds("t"));
  EXPECT_TRUE(b->holds("t"));
  ASSERT_TRUE(a->claim_trial({"u"}, "host-a", 1, kStale));
  EXPECT_TRUE(a->holds("u"));
  EXPECT_FALSE(b->holds("u"));
  a->finish_trial("u", RunStatus::done);
  EXPECT_FALSE(a->holds("u"));
}

TEST_P(StoreConformance, WritesOfAWorkerThatLostTheLeaseHaveNoEffect) {
  add({"t"});
  ASSERT_NO_FATAL_FAILURE(a_loses("t"));
  const TrialRecord before = *b->trial("t");
  backend->advance(5);
  a->heartbeat("t");
  a->finish_trial("t", RunStatus::done, "late");
  a->release_trial("t");
  a->heartbeat("t");  // still fenced after the refused finish and release
  const TrialRecord after = *b->trial("t");
  EXPECT_EQ(after.status, RunStatus::running);
  EXPECT_EQ(after.host, "host-b");
  EXPECT_EQ(after.heartbeat_at, before.heartbeat_at);
  EXPECT_EQ(after.ended_at, 0);
  EXPECT_EQ(after.error, "");
  EXPECT_EQ(after.lease, before.lease);
  EXPECT_TRUE(b->holds("t"));
  b->finish_trial("t", RunStatus::done);
  EXPECT_EQ(a->trial("t")->status, RunStatus::done);
}

TEST_P(StoreConformance, EpochWritesOfAWorkerThatLostTheLeaseAreRefused) {
  add({"t"});
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 1, kStale));
  a->put_epoch("t", row(1));
  a->put_epoch("t", row(2));
  backend->advance(kStale + 1);
  ASSERT_TRUE(b->claim_trial({"t"}, "host-b", 2, kStale));
  EXPECT_THROW(a->put_epoch("t", row(3)), StoreError);
  EXPECT_THROW(a->put_epoch("t", row(2, 9)), StoreError);
  EXPECT_THROW(a->truncate_epochs("t", 0), StoreError);
  const auto rows = b->epochs("t");
  EXPECT_EQ(epochs_of(rows), (Epochs{1, 2}));
  EXPECT_EQ(rows[1].val_acc, row(2).val_acc);
  b->put_epoch("t", row(3));  // the new holder writes
  EXPECT_EQ(b->trial("t")->epochs_done, 3);
}

TEST_P(StoreConformance, WritesToATrialNotClaimedAreUnconditional) {
  add({"t"});
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 1, kStale));
  // The scheduler, which claims nothing, fails a trial whose worker died.
  b->finish_trial("t", RunStatus::failed, "its worker process died");
  EXPECT_EQ(a->trial("t")->status, RunStatus::failed);
  EXPECT_FALSE(a->holds("t"));
}

TEST_P(StoreConformance, ReleaseGivesTheTrialBackWithItsEpochs) {
  add({"t"});
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 1, kStale));
  a->put_epoch("t", row(1));
  a->release_trial("t");
  EXPECT_FALSE(a->holds("t"));
  EXPECT_EQ(b->trial("t")->status, RunStatus::pending);
  const auto again = b->claim_trial({"t"}, "host-b", 2, kStale);  // no wait needed
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->epochs_done, 1);
}

TEST_P(StoreConformance, EveryRunStatusRoundTrips) {
  add({"p"});
  EXPECT_EQ(b->trial("p")->status, RunStatus::pending);
  for (RunStatus s : {RunStatus::running, RunStatus::done, RunStatus::diverged,
                      RunStatus::failed, RunStatus::pruned, RunStatus::stopped}) {
    const std::string id = to_string(s);
    a->add_trial(spec(id));
    ASSERT_TRUE(a->claim_trial({id}, "h", 1, kStale));
    backend->advance(3);
    if (s != RunStatus::running) a->finish_trial(id, s, "why " + id);
    const auto t = b->trial(id);
    EXPECT_EQ(t->status, s) << id;
    if (s == RunStatus::running) continue;
    EXPECT_EQ(t->error, "why " + id);
    EXPECT_EQ(t->ended_at, a->now()) << id;
    EXPECT_FALSE(a->holds(id)) << id;
    backend->advance(kStale + 1);
    EXPECT_FALSE(b->claim_trial({id}, "h", 2, kStale)) << id << " is finished";
  }
}

TEST_P(StoreConformance, ReleaseOrphanOnlyForTheWorkerHoldingIt) {
  add({"t", "u"});
  ASSERT_TRUE(a->claim_trial({"t"}, "host-a", 41, kStale));
  EXPECT_FALSE(b->release_orphan("t", "host-a", 42));
  EXPECT_FALSE(b->release_orphan("t", "host-b", 41));
  EXPECT_FALSE(b->release_orphan("u", "", 0));  // pending: nobody holds it
  EXPECT_EQ(a->trial("t")->status, RunStatus::running);
  EXPECT_TRUE(b->release_orphan("t", "host-a", 41));
  EXPECT_EQ(a->trial("t")->status, RunStatus::pending);
  EXPECT_FALSE(a->holds("t"));
  EXPECT_FALSE(b->release_orphan("t", "host-a", 41));  // no longer running
  ASSERT_TRUE(b->claim_trial({"t"}, "host-b", 2, kStale));
  EXPECT_FALSE(a->release_orphan("t", "host-a", 41));  // someone else holds it now
  EXPECT_TRUE(b->holds("t"));
}

TEST_P(StoreConformance, RetryFailedMakesListedFailedTrialsPending) {
  add({"f1", "f2", "f3", "ok"});
  for (const char* id : {"f1", "f2", "f3", "ok"}) {
    ASSERT_TRUE(a->claim_trial({id}, "h", 1, kStale));
    a->finish_trial(id, std::string(id) == "ok" ? RunStatus::done : RunStatus::failed, "boom");
  }
  EXPECT_EQ(b->retry_failed({"f1", "ok", "f3", "unknown"}), 2);
  EXPECT_EQ(a->trial("f1")->status, RunStatus::pending);
  EXPECT_EQ(a->trial("f1")->error, "");
  EXPECT_EQ(a->trial("f3")->status, RunStatus::pending);
  EXPECT_EQ(a->trial("f2")->status, RunStatus::failed);  // not asked for
  EXPECT_EQ(a->trial("ok")->status, RunStatus::done);
  EXPECT_EQ(b->retry_failed({"f1", "f3"}), 0);
  EXPECT_EQ(a->claim_trial({"ok", "f1"}, "h", 1, kStale)->spec.id, "f1");
}

const BackendKind kBackends[] = {
    {"sqlite", [] { return std::unique_ptr<Backend>(new SqliteBackend); }},
    {"fake", [] { return std::unique_ptr<Backend>(new FakeBackend); }},
    {"postgres", [] { return std::unique_ptr<Backend>(new PostgresBackend); }},
};
INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lrtune::conformance
