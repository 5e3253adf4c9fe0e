// The command line a study gives its worker processes.
#include "study/study_run.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace lrtune {
namespace {

bool has(const std::vector<std::string>& args, const std::string& a) {
  return std::find(args.begin(), args.end(), a) != args.end();
}

// `study run` without --threads-per-job: each worker starts at cores / jobs
// threads and takes fewer while fewer train faster (docs/training.md,
// "Threads"); with it, the count is fixed.
TEST(WorkerCommand, WorkersAdaptTheirThreadsUnlessTheCountIsFixed) {
  WorkerSettings s;
  s.dir = "studies-out/x";
  s.threads = 2;
  s.adapt_threads = true;
  const auto adapted = worker_command("lrtune", s);
  EXPECT_TRUE(has(adapted, "--adapt-threads"));
  const auto at = std::find(adapted.begin(), adapted.end(), "--threads");
  ASSERT_NE(at, adapted.end());
  EXPECT_EQ(*(at + 1), "2") << "the most it may use";
  s.adapt_threads = false;
  EXPECT_FALSE(has(worker_command("lrtune", s), "--adapt-threads"));
}

}  // namespace
}  // namespace lrtune
