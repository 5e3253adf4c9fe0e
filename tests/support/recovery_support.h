// What the recovery tests share: tiny runs and studies through the binary, a
// run killed mid-run, and the store's epochs read back.
#pragma once
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/metrics.h"
#include "store/store.h"
#include "train/checkpoint.h"
#include "support/background_run.h"
#include "support/test_support.h"

namespace lrtune::test {
namespace fs = std::filesystem;

inline std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Inverts 400 bytes in the middle of a file.
inline void damage(const fs::path& file) {
  std::string bytes = read_file(file);
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 400; ++i) bytes[i] = ~bytes[i];
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

inline void remove_database(const fs::path& dir) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir / ("results.sqlite" + std::string(suffix)));
}

// The epoch of the run's checkpoint (0: none), with a row for the epoch after
// it recorded (train loss 99, as no run gives) in results.sqlite and
// metrics.csv: the state a kill between a row and its checkpoint leaves.
inline std::int64_t record_row_ahead(const fs::path& dir) {
  const fs::path checkpoint = dir / "checkpoint.pt";
  const std::int64_t done = fs::exists(checkpoint) ? checkpoint_epoch(checkpoint.string()) : 0;
  auto store = open_sqlite_store((dir / "results.sqlite").string());
  std::vector<EpochMetrics> rows = store->epochs("run");
  EXPECT_GE(rows.size(), static_cast<std::size_t>(done));
  EXPECT_LE(rows.size(), static_cast<std::size_t>(done + 1));
  if (rows.empty()) return done;
  EpochMetrics ahead = rows.back();
  ahead.epoch = done + 1;
  ahead.train_loss = 99;
  store->put_epoch("run", ahead);
  std::string csv;
  for (const auto& c : epoch_csv_columns()) csv += (csv.empty() ? "" : ",") + c;
  csv += "\n";
  for (const auto& m : store->epochs("run")) csv += epoch_csv_row(m) + "\n";
  std::ofstream(dir / "metrics.csv", std::ios::trunc) << csv;
  return done;
}

struct RecoveryFixture : ::testing::Test {
  TempDir tmp;
  fs::path data = tmp.path() / "cifar", out = tmp.path() / "out";
  void SetUp() override { write_tiny_cifar(data, 60, 100); }
  std::string train_flags(int epochs = 3) const {
    return "--data " + data.string() +
           " --val-size 50 --batch-size 25 --threads 1 --device cpu --lr 0.02 --epochs " +
           std::to_string(epochs);
  }
  // A study of `trials` learning rates, 3 epochs each.
  std::string study_command(const fs::path& dir, const std::string& lrs = "0.01, 0.02") {
    const fs::path file = tmp.path() / "r.toml";
    std::ofstream(file) << "name = \"r\"\n[base]\nepochs = 3\nbatch_size = 25\nval_size = 50\n"
                           "device = \"cpu\"\n[[sweep]]\ngrid = { lr = [" << lrs << "] }\n";
    return lrtune("study run " + file.string() + " --data " + data.string() +
                  " --jobs 1 --threads-per-job 1 --out " + dir.string());
  }
  // Killed (kill -9) once `rows` epochs are stored, then left in the state
  // a kill between an epoch's row and its checkpoint leaves, made certain:
  // checkpoint.pt after epoch C, and a row for epoch C + 1 in results.sqlite
  // and metrics.csv that no run gives (train loss 99). Returns C (>= rows - 1).
  std::int64_t train_and_kill(const fs::path& dir, int rows, int epochs = 5) {
    Background run("train " + train_flags(epochs) + " --out " + dir.string());
    EXPECT_TRUE(run.wait_for_lines(dir / "metrics.csv", rows + 1u)) << run.output();
    run.kill_hard();
    return record_row_ahead(dir);
  }
};

inline std::vector<EpochMetrics> stored_epochs(const fs::path& dir, std::vector<std::string>* ids = nullptr) {
  auto store = open_sqlite_store((dir / "results.sqlite").string());
  std::vector<EpochMetrics> all;
  for (const auto& t : store->trials()) {
    EXPECT_EQ(t.status, RunStatus::done) << t.spec.id;
    if (ids) ids->push_back(t.spec.id);
    for (const auto& m : store->epochs(t.spec.id)) all.push_back(m);
  }
  return all;
}

inline void expect_same_results(const std::vector<EpochMetrics>& a, const std::vector<EpochMetrics>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss) << "row " << i;
    EXPECT_EQ(a[i].val_acc, b[i].val_acc) << "row " << i;
    EXPECT_EQ(a[i].test_loss, b[i].test_loss) << "row " << i;
  }
}

}  // namespace lrtune::test
