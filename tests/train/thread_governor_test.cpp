// The thread governor, fed with made-up step times: a machine where each
// thread count trains at a known speed, which the test changes to add load.
// The speeds are the ones measured on 2 cores (docs/performance.md): idle,
// with one busy process and with two.
#include "train/thread_governor.h"

#include <cstdint>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lrtune {
namespace {

// Steps of `batch` images at the speed `rate[threads]` img/s, each off by up
// to +-`noise` (a fixed pseudo-random sequence); the first step after any
// change of count also pays `switch_s` (threads waking up and oneDNN building
// its kernels again: 30 ms measured at batch 128 on 2 cores).
struct Machine {
  std::map<int, double> rate;
  std::int64_t batch = 128;
  double noise = 0;
  double switch_s = 0.03;
  double total_s = 0;  // training time, over all steps
  std::int64_t images = 0;
  int changes = 0;
  std::uint32_t lcg = 12345;
  int slow_every = 0;  // every n-th step takes 3 times as long (the first after an evaluation)
  int steps = 0;

  double jitter() {
    lcg = lcg * 1664525u + 1013904223u;
    return 1 + noise * (2.0 * (lcg >> 8) / double(1u << 24) - 1);
  }

  // Trains `n` images under the governor; the time spent at each count.
  std::map<int, double> train(ThreadGovernor& g, std::int64_t n) {
    std::map<int, double> at;
    bool switched = false;
    for (std::int64_t done = 0; done < n; done += batch) {
      const double slow = slow_every && ++steps % slow_every == 0 ? 3 : 1;
      const double step =
          slow * batch / (rate.at(g.threads()) * jitter()) + (switched ? switch_s : 0.0);
      at[g.threads()] += step;
      total_s += step;
      images += batch;
      switched = g.record(step, batch);
      changes += switched;
    }
    return at;
  }
  std::map<int, double> run(ThreadGovernor& g, double seconds) {
    return train(g, static_cast<std::int64_t>(seconds * rate.begin()->second));
  }
  double mean_rate() const { return static_cast<double>(images) / total_s; }
  void reset_totals() { total_s = 0, images = 0; }
};

const std::map<int, double> kIdle{{2, 5852}, {1, 3567}};
const std::map<int, double> kOneBusy{{2, 1586}, {1, 3480}};
const std::map<int, double> kTwoBusy{{2, 600}, {1, 2115}};
constexpr std::int64_t kEpoch = 5120;  // the benchmark's epoch: under 2 s

TEST(ThreadGovernor, CandidatesHalveFromTheMaximumDownToOne) {
  ThreadGovernor g(6);
  EXPECT_EQ(g.threads(), 6);
  Machine m{{{6, 600}, {3, 900}, {1, 400}}};
  m.run(g, 60);
  EXPECT_EQ(g.threads(), 3);  // 6 -> 3 wins; 3 -> 1 loses; 3 -> 6 loses
}

TEST(ThreadGovernor, AnIdleMachineKeepsAllCoresAndProbesRarely) {
  ThreadGovernor g(2);
  Machine idle{kIdle};
  const auto at = idle.run(g, 600);
  EXPECT_EQ(g.threads(), 2);
  EXPECT_EQ(g.adoptions(), 0);
  // A try of one thread is left after its first measured step, and tries back off.
  EXPECT_LT(at.at(1) / idle.total_s, 0.005) << at.at(1) << " s at 1 thread";
  EXPECT_GT(idle.mean_rate(), 0.99 * kIdle.at(2));
}

TEST(ThreadGovernor, NoisyStepsOnAnIdleMachineStillKeepAllCores) {
  ThreadGovernor g(2);
  Machine idle{kIdle};
  idle.noise = 0.15;
  idle.run(g, 300);
  EXPECT_EQ(g.threads(), 2);
  EXPECT_GT(idle.mean_rate(), 0.97 * kIdle.at(2));
}

TEST(ThreadGovernor, OneSlowStepIsNoSignOfABusyMachine) {
  ThreadGovernor g(2);
  Machine idle{kIdle};
  idle.slow_every = 40;  // an epoch of 40 steps, its first one slow
  idle.run(g, 300);
  EXPECT_EQ(g.threads(), 2);
  EXPECT_EQ(g.adoptions(), 0);
}

TEST(ThreadGovernor, OneBusyCoreMovesTrainingToOneThread) {
  ThreadGovernor g(2);
  Machine busy{kOneBusy};
  busy.run(g, 120);
  EXPECT_EQ(g.threads(), 1);
  EXPECT_EQ(g.last_change(), "threads 2 -> 1: 3,480 img/s against 1,586");
  EXPECT_GT(busy.mean_rate(), 0.97 * kOneBusy.at(1)) << "never slower than one thread";
}

// `lrtune train` started on a machine that is already busy: two steps at
// all cores show it; later tries of more threads cost a step each.
TEST(ThreadGovernor, AMachineBusyFromTheStartCostsAFewSteps) {
  for (const auto& load : {kOneBusy, kTwoBusy}) {
    ThreadGovernor g(2);
    Machine m{load};
    const auto at = m.train(g, 20 * kEpoch);  // about a minute
    const double step_at_2 = m.batch / load.at(2) + m.switch_s;
    EXPECT_LT(at.at(2), 6 * step_at_2) << "seconds at 2 threads";
    EXPECT_GT(m.mean_rate(), 0.97 * load.at(1));
    EXPECT_EQ(g.threads(), 1);
  }
}

// Two threads on a machine with one busy process are often only somewhat
// slower than one: such a try still ends after its first measured step.
TEST(ThreadGovernor, ATryThatIsOnlySomewhatSlowerStillCostsTwoSteps) {
  ThreadGovernor g(2);
  Machine m{{{2, 2800}, {1, 3480}}};
  m.run(g, 5);
  ASSERT_EQ(g.threads(), 1);
  m.reset_totals();
  const auto at = m.run(g, 120);
  EXPECT_LT(at.at(2), 0.01 * m.total_s) << "seconds at 2 threads in 2 minutes";
  EXPECT_GT(m.mean_rate(), 0.98 * 3480);
}

// The benchmark's case: training on an idle machine, then other processes
// start. Every epoch from the first one under load trains about as fast as
// one thread would, and later ones at least as fast give or take the tries.
TEST(ThreadGovernor, LoadArrivingMidRunCostsUnderAStepOrTwo) {
  for (const auto& load : {kOneBusy, kTwoBusy}) {
    ThreadGovernor g(2);
    Machine m{kIdle};
    m.train(g, 20 * kEpoch);
    ASSERT_EQ(g.threads(), 2);
    m.rate = load;
    m.reset_totals();
    const auto at = m.train(g, kEpoch);
    EXPECT_LT(at.at(2), 2.5 * m.batch / load.at(2)) << "seconds at 2 threads once busy";
    EXPECT_GT(m.mean_rate(), 0.85 * load.at(1)) << "the first epoch under load (two slow steps)";
    m.reset_totals();
    m.train(g, 20 * kEpoch);
    EXPECT_GT(m.mean_rate(), 0.97 * load.at(1)) << "the epochs after it";
    EXPECT_EQ(g.threads(), 1);
  }
}

TEST(ThreadGovernor, NoisyStepsOnABusyMachineStayAtOneThread) {
  ThreadGovernor g(2);
  Machine busy{kTwoBusy};
  busy.noise = 0.3;
  busy.run(g, 120);
  EXPECT_EQ(g.threads(), 1);
  EXPECT_GT(busy.mean_rate(), 0.95 * kTwoBusy.at(1));
}

TEST(ThreadGovernor, WhenTheLoadGoesAwayAllCoresComeBack) {
  ThreadGovernor g(2);
  Machine m{kOneBusy};
  m.run(g, 60);
  ASSERT_EQ(g.threads(), 1);
  m.rate = kIdle;       // the other process ended
  m.run(g, 120);        // within the longest back-off (4 x 32 windows of 0.5 s)
  EXPECT_EQ(g.threads(), 2);
  EXPECT_EQ(g.adoptions(), 2);
}

TEST(ThreadGovernor, SmallDifferencesAreNotChased) {
  ThreadGovernor g(2);
  Machine m{{{2, 1000}, {1, 1030}}};  // one thread 3% faster: within the 5% margin
  m.run(g, 120);
  EXPECT_EQ(g.threads(), 2);
  EXPECT_EQ(g.adoptions(), 0);
}

TEST(ThreadGovernor, OneCoreHasNothingToChoose) {
  ThreadGovernor g(1);
  Machine m{{{1, 500}}};
  m.run(g, 30);
  EXPECT_EQ(g.threads(), 1);
  EXPECT_EQ(m.changes, 0);
}

}  // namespace
}  // namespace lrtune
