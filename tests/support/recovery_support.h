// What the recovery tests share: tiny runs and studies through the binary, a
// run killed at a known epoch, and the store's epochs read back.
#pragma once
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
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

struct RecoveryFixture : ::testing::Test {
  TempDir tmp;
  fs::path data = tmp.path() / "cifar", out = tmp.path() / "out";
  void SetUp() override { write_tiny_cifar(data, 60, 100); }
  std::string train_flags() const {
    return "--data " + data.string() +
           " --val-size 50 --batch-size 25 --threads 1 --device cpu --lr 0.02 --epochs 3";
  }
  // A study of `trials` learning rates, 3 epochs each.
  std::string study_command(const fs::path& dir, const std::string& lrs = "0.01, 0.02") {
    const fs::path file = tmp.path() / "r.toml";
    std::ofstream(file) << "name = \"r\"\n[base]\nepochs = 3\nbatch_size = 25\nval_size = 50\n"
                           "device = \"cpu\"\n[[sweep]]\ngrid = { lr = [" << lrs << "] }\n";
    return lrtune("study run " + file.string() + " --data " + data.string() +
                  " --jobs 1 --threads-per-job 1 --out " + dir.string());
  }
  // Killed with epoch 3's row recorded and the checkpoint of epoch 2 on disk.
  void train_and_kill_at_epoch_3(const fs::path& dir) {
    Background run("train " + train_flags() + " --out " + dir.string(), 3);
    ASSERT_TRUE(run.wait_until_held()) << run.output();
    run.kill_hard();
    ASSERT_EQ(lines_of(dir / "metrics.csv").size(), 4u);
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
