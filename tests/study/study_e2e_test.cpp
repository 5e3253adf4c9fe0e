// A real tiny study through the `lrtune` binary: two workers, one killed with
// kill -9 halfway (and, separately, the whole run killed); after rerunning,
// nothing is lost or duplicated and the results equal an uninterrupted run's.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr std::int64_t kEpochs = 6;

class StudyEndToEnd : public ::testing::Test {
 protected:
  test::TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path study_file = tmp.path() / "tiny.toml";

  void SetUp() override {
    // 1,000 training images (100 for validation), 200 test: about a second an epoch.
    test::write_tiny_cifar(data, /*per_file=*/200, /*n_test=*/200);
    std::ofstream(study_file) << "name = \"tiny\"\n"
                                 "[base]\n"
                                 "epochs = " << kEpochs << "\n"
                                 "batch_size = 50\n"
                                 "val_size = 100\n"
                                 "eval_batch_size = 100\n"
                                 "momentum = 0.5\n"
                                 "device = \"cpu\"\n"
                                 "[[sweep]]\n"
                                 "grid = { lr = [0.01, 0.02] }\n";
  }

  // Starts `lrtune study run` in its own process group, output to `log`.
  pid_t start(const fs::path& out, const fs::path& log) {
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      std::FILE* f = std::freopen(log.c_str(), "a", stdout);
      if (f) dup2(fileno(stdout), STDERR_FILENO);
      const std::string bin = test::lrtune_binary();
      execl(bin.c_str(), bin.c_str(), "study", "run", study_file.c_str(), "--jobs", "2",
            "--threads-per-job", "1", "--data", data.c_str(), "--out", out.c_str(),
            "--heartbeat-every", "0.5", static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid, pid);  // either side may win the race; both set the same group
    return pid;
  }

  static int finish(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  int run(const fs::path& out) {
    const fs::path log = out.string() + ".log";
    const int rc = finish(start(out, log));
    std::ifstream in(log);
    last_output.assign(std::istreambuf_iterator<char>(in), {});
    return rc;
  }

  // Waits until some trial is running with at least `epochs` epochs stored;
  // returns it (the test fails if that never happens).
  static std::optional<TrialRecord> wait_for_progress(const fs::path& out, std::int64_t epochs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!fs::exists(out / "results.sqlite")) continue;
      auto store = open_sqlite_store((out / "results.sqlite").string());
      for (const auto& t : store->trials())
        if (t.status == RunStatus::running && t.epochs_done >= epochs && t.epochs_done < kEpochs)
          return t;
    }
    return std::nullopt;
  }

  // Whether process `pid` is stopped (SIGSTOP took effect): state T in /proc.
  static bool stopped(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'T';
  }

  // A worker running a trial with at least `epochs` epochs stored, stopped
  // (SIGSTOP) while the store still says it runs that trial: it cannot
  // finish the trial before the test kills it. A trial that ended between
  // the look and the stop lets its worker go on, and the look is made again.
  static std::optional<TrialRecord> freeze_a_running_worker(const fs::path& out,
                                                            std::int64_t epochs) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto t = wait_for_progress(out, epochs);
      if (!t) return std::nullopt;
      const auto pid = static_cast<pid_t>(t->pid);
      if (kill(pid, SIGSTOP) != 0) continue;
      if (!test::wait_until([&] { return stopped(pid); }, 30)) return std::nullopt;
      auto store = open_sqlite_store((out / "results.sqlite").string());
      const auto now = store->trial(t->spec.id);
      if (now && now->status == RunStatus::running && now->pid == t->pid) return now;
      kill(pid, SIGCONT);
    }
    return std::nullopt;
  }

  static bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

  // Same trials, every epoch once, the same numbers (timings aside).
  static void expect_same_results(const fs::path& a, const fs::path& b) {
    auto sa = open_sqlite_store((a / "results.sqlite").string());
    auto sb = open_sqlite_store((b / "results.sqlite").string());
    const auto ta = sa->trials();
    ASSERT_EQ(ta.size(), 2u);
    ASSERT_EQ(sb->trials().size(), 2u);
    for (const auto& t : ta) {
      ASSERT_TRUE(sb->trial(t.spec.id)) << t.spec.label;
      EXPECT_EQ(t.status, RunStatus::done);
      EXPECT_EQ(sb->trial(t.spec.id)->status, RunStatus::done);
      const auto ra = sa->epochs(t.spec.id), rb = sb->epochs(t.spec.id);
      ASSERT_EQ(ra.size(), static_cast<std::size_t>(kEpochs));
      ASSERT_EQ(rb.size(), static_cast<std::size_t>(kEpochs));
      for (std::size_t i = 0; i < ra.size(); ++i) {
        SCOPED_TRACE(t.spec.label + " epoch " + std::to_string(i + 1));
        EXPECT_EQ(ra[i].epoch, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(rb[i].epoch, ra[i].epoch);
        for (auto field : {&EpochMetrics::lr, &EpochMetrics::train_loss, &EpochMetrics::train_acc,
                           &EpochMetrics::val_loss, &EpochMetrics::val_acc,
                           &EpochMetrics::test_loss, &EpochMetrics::test_acc})
          EXPECT_TRUE(same(ra[i].*field, rb[i].*field)) << ra[i].*field << " vs " << rb[i].*field;
      }
    }
  }

  std::string last_output;
};

TEST_F(StudyEndToEnd, KilledWorkerAndKilledRunLoseNothing) {
  const fs::path clean = tmp.path() / "clean";
  ASSERT_EQ(run(clean), 0) << last_output;
  EXPECT_THAT(last_output, HasSubstr("2/2 trials finished"));

  // One worker killed halfway: the run takes its trial back and resumes it.
  const fs::path worker_killed = tmp.path() / "worker-killed";
  const pid_t parent = start(worker_killed, worker_killed.string() + ".log");
  const auto victim = freeze_a_running_worker(worker_killed, 2);
  ASSERT_TRUE(victim) << "no worker was seen running a trial half-way";
  ASSERT_NE(victim->pid, parent);
  ASSERT_EQ(kill(static_cast<pid_t>(victim->pid), SIGKILL), 0);
  ASSERT_EQ(finish(parent), 0);
  {
    auto store = open_sqlite_store((worker_killed / "results.sqlite").string());
    EXPECT_EQ(store->trial(victim->spec.id)->attempts, 2);
  }
  ASSERT_EQ(run(worker_killed), 0) << last_output;  // the rerun finds nothing left to do
  EXPECT_THAT(last_output, HasSubstr("2 trials (2 already finished"));
  expect_same_results(clean, worker_killed);

  // The whole run killed (parent and workers): the rerun resumes both trials.
  const fs::path all_killed = tmp.path() / "all-killed";
  const pid_t group = start(all_killed, all_killed.string() + ".log");
  ASSERT_TRUE(wait_for_progress(all_killed, 2));
  ASSERT_EQ(kill(-group, SIGKILL), 0);
  finish(group);
  ASSERT_EQ(run(all_killed), 0) << last_output;
  EXPECT_THAT(last_output, HasSubstr("resuming after epoch"));
  expect_same_results(clean, all_killed);
}

}  // namespace
}  // namespace lrtune
