// Copying a study between stores (store/store_copy.h), both ways between
// SQLite and PostgreSQL and from the test fake: statuses, errors, every epoch
// (NaN included), provenance and checkpoints arrive as they were, and a
// destination that already holds the study is refused with nothing written.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "store/store_conformance.h"
#include "store/store_copy.h"

namespace lrtune::conformance {
namespace {

namespace fs = std::filesystem;

struct CopyCase {
  const char* name;
  BackendKind from, to;
};
void PrintTo(const CopyCase& c, std::ostream* os) { *os << c.name; }

const BackendKind kSqlite{"sqlite", [] { return std::unique_ptr<Backend>(new SqliteBackend); }};
const BackendKind kFake{"fake", [] { return std::unique_ptr<Backend>(new FakeBackend); }};
const BackendKind kPostgres{"postgres",
                            [] { return std::unique_ptr<Backend>(new PostgresBackend); }};

EpochMetrics metrics(std::int64_t epoch) {
  EpochMetrics m;
  m.epoch = epoch;
  double v = 0.25 * static_cast<double>(epoch);
  for (const auto& f : metric_fields()) m.*f.member = (v += 0.125);
  return m;
}

class StoreCopy : public ::testing::TestWithParam<CopyCase> {
 protected:
  void SetUp() override {
    from_backend = GetParam().from.make();
    to_backend = GetParam().to.make();
    for (auto* b : {from_backend.get(), to_backend.get()})
      if (const std::string why = b->unavailable(); !why.empty()) GTEST_SKIP() << why;
    from = from_backend->open("copied");
    to = to_backend->open("copied");
  }

  // A trial that ran `epochs` epochs, wrote a checkpoint holding `bytes`,
  // and ended with `status` (running: still held by its worker).
  void trial(const std::string& id, int epochs, RunStatus status, const std::string& bytes = "") {
    from->add_trial({id, "lr=" + id, {{"lr", 0.1}}, 0, 5});
    if (status == RunStatus::pending && epochs == 0) return;
    ASSERT_TRUE(from->claim_trial({id}, "host-a", 7, 60));
    for (int e = 1; e <= epochs; ++e) from->put_epoch(id, metrics(e));
    from->set_trial_info(id, {{"device", "cpu"}, {"threads", 2}});
    if (!bytes.empty()) {
      const fs::path file = fs::path(from->trial_dir(id)) / "checkpoint.pt";
      fs::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary) << bytes;
      from->save_checkpoint(id, file.string());
    }
    if (status == RunStatus::running) return;
    if (status == RunStatus::pending) from->release_trial(id);
    else from->finish_trial(id, status, status == RunStatus::failed ? "out of memory" : "");
  }

  std::unique_ptr<Backend> from_backend, to_backend;
  std::unique_ptr<Store> from, to;
};

TEST_P(StoreCopy, EveryTrialArrivesWithItsStatusEpochsAndCheckpoint) {
  from->put_study({"copied", "a study", {{"file", "s.toml"}}, {"d", "f", "p", "n", "r", "w"}});
  trial("d", 3, RunStatus::done, "done-bytes");
  trial("f", 1, RunStatus::failed);
  trial("p", 2, RunStatus::pruned, "pruned-bytes");
  trial("n", 2, RunStatus::diverged);
  from->put_epoch("n", [] {
    EpochMetrics m = metrics(2);
    m.train_loss = std::numeric_limits<double>::quiet_NaN();
    return m;
  }());
  trial("r", 2, RunStatus::running, std::string("half\0way", 8));
  trial("w", 0, RunStatus::pending);

  const CopyCounts n = copy_study(*from, *to);
  EXPECT_EQ(n.trials, 6);
  EXPECT_EQ(n.epochs, 10);
  EXPECT_EQ(n.checkpoints, 3);

  const auto info = to->study();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->description, "a study");
  EXPECT_EQ(info->spec, from->study()->spec);
  EXPECT_EQ(info->trial_ids, from->study()->trial_ids);
  const std::map<std::string, RunStatus> expected = {
      {"d", RunStatus::done},     {"f", RunStatus::failed},  {"p", RunStatus::pruned},
      {"n", RunStatus::diverged}, {"r", RunStatus::pending}, {"w", RunStatus::pending}};
  for (const auto& [id, status] : expected) {
    const auto t = to->trial(id);
    ASSERT_TRUE(t) << id;
    EXPECT_EQ(t->status, status) << id;
    EXPECT_EQ(t->spec.label, "lr=" + id);
    const auto a = from->epochs(id), b = to->epochs(id);
    ASSERT_EQ(a.size(), b.size()) << id;
    for (std::size_t i = 0; i < a.size(); ++i)
      for (const auto& f : metric_fields()) {
        const double x = a[i].*f.member, y = b[i].*f.member;
        EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << id << " " << f.name;
      }
  }
  EXPECT_EQ(to->trial("f")->error, "out of memory");
  EXPECT_EQ(to->trial("d")->info, from->trial("d")->info);
  // The half-way trial resumes from its checkpoint: a worker of the destination fetches it.
  auto worker = to_backend->open("copied");
  ASSERT_TRUE(worker->claim_trial({"r"}, "host-b", 9, 60));
  const std::string local = (fs::path(worker->trial_dir("r")) / "checkpoint.pt").string();
  ASSERT_TRUE(worker->fetch_checkpoint("r", local));
  EXPECT_EQ(test::read_file(local), std::string("half\0way", 8));
}

TEST_P(StoreCopy, ADestinationHoldingTheStudyIsRefusedWithNothingWritten) {
  from->put_study({"copied", "new", {}, {"a"}});
  trial("a", 2, RunStatus::done);
  to->put_study({"copied", "old", {}, {}});
  try {
    copy_study(*from, *to);
    ADD_FAILURE() << "copied";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("already holds study 'copied'"));
  }
  EXPECT_EQ(to->study()->description, "old");
  EXPECT_TRUE(to->trials().empty());
}

TEST_P(StoreCopy, ASourceWithoutAStudyIsRefused) {
  EXPECT_THROW(copy_study(*from, *to), StoreError);
  EXPECT_FALSE(to->study());
}

const CopyCase kCases[] = {
    {"sqlite_to_postgres", kSqlite, kPostgres},
    {"postgres_to_sqlite", kPostgres, kSqlite},
    {"fake_to_sqlite", kFake, kSqlite},
};
INSTANTIATE_TEST_SUITE_P(Stores, StoreCopy, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lrtune::conformance
