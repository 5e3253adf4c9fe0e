// `lrtune` run in the background by tests that stop it at a known moment.
#pragma once
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/test_support.h"

namespace lrtune::test {

inline std::string lrtune(const std::string& args) { return lrtune_binary() + " " + args; }

// `lrtune train ARGS` in the background, its output read line by line. With
// `hold_at` > 0 it stops for good once that epoch's row is recorded and
// before its checkpoint is written (LRTUNE_TEST_HOLD_AT_EPOCH): a known
// moment to find it at, with no race against the clock.
class Background {
 public:
  Background(const std::string& args, int hold_at) {
    const std::string env = "LRTUNE_TEST_HOLD_AT_EPOCH=" + std::to_string(hold_at);
    pipe_ = popen(("exec env " + env + " " + lrtune(args) + " 2>&1").c_str(), "r");
  }
  ~Background() {
    if (pid_ > 0 && pipe_) kill(pid_, SIGKILL);  // a failed test leaves nothing running
    if (pipe_) pclose(pipe_);
  }
  // Reads up to the "holding at epoch" line and returns the process id it
  // names; 0 when the output ended without it.
  pid_t wait_until_held() {
    char buf[4096];
    while (pipe_ && std::fgets(buf, sizeof buf, pipe_)) {
      const std::string line = buf;
      output_ += line;
      const auto at = line.find("holding at epoch");
      if (at != std::string::npos) return pid_ = std::stoi(line.substr(line.rfind("process ") + 8));
    }
    return 0;
  }
  // kill -9, then the wait status.
  int kill_hard() {
    kill(pid_, SIGKILL);
    const int status = pclose(pipe_);
    pipe_ = nullptr;
    return status;
  }
  const std::string& output() const { return output_; }

 private:
  FILE* pipe_ = nullptr;
  pid_t pid_ = 0;
  std::string output_;
};

}  // namespace lrtune::test
