// `lrtune` run in the background by tests that catch it at a moment they can
// observe (a line it prints, an epoch it stores): frozen there (SIGSTOP) to
// look at while it holds its run, or killed (kill -9) as a crash would.
#pragma once
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "support/test_support.h"

namespace lrtune::test {

inline std::string lrtune(const std::string& args) { return lrtune_binary() + " " + args; }

// Lines in `file` (0 when it is missing).
inline std::size_t line_count(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

class Background {
 public:
  // Starts `lrtune ARGS`; its first output line is the shell's process id,
  // which exec hands on to lrtune.
  explicit Background(const std::string& args) : Background(Program{lrtune(args)}) {}
  // Any other program: `Background(Program{"python3 -u -m http.server ..."})`.
  struct Program {
    std::string command_line;
  };
  explicit Background(const Program& program) {
    pipe_ = popen(("echo $$; exec " + program.command_line + " 2>&1").c_str(), "r");
    if (!pipe_) return;
    while (output_.find('\n') == std::string::npos && read_some(-1)) {
    }
    pid_ = static_cast<pid_t>(std::atoi(output_.c_str()));
    output_.erase(0, output_.find('\n') + 1);
  }
  ~Background() {
    if (pid_ > 0 && pipe_) kill(pid_, SIGKILL);  // a failed test leaves nothing running
    if (pipe_) pclose(pipe_);
  }
  pid_t pid() const { return pid_; }

  // Reads its output until `happened` holds, checked after each piece of
  // output and every few milliseconds; false when the process ended first,
  // or after `limit` (a test that would otherwise hang).
  bool wait_until(const std::function<bool()>& happened,
                  std::chrono::seconds limit = std::chrono::seconds(300)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!happened()) {
      if (!read_some(2) && ended_) return happened();
      if (std::chrono::steady_clock::now() > until) return false;
    }
    return true;
  }
  // Until its output holds `text`.
  bool wait_for_output(const std::string& text) {
    return wait_until([this, text] { return output_.find(text) != std::string::npos; });
  }
  // Until `file` has at least `lines` lines (a metrics.csv's epochs, say).
  bool wait_for_lines(const std::filesystem::path& file, std::size_t lines) {
    return wait_until([file, lines] { return line_count(file) >= lines; });
  }

  // SIGSTOP: it stays alive, holding what it holds, and does nothing.
  void freeze() { kill(pid_, SIGSTOP); }
  // kill -9, then the wait status.
  int kill_hard() {
    kill(pid_, SIGKILL);
    while (read_some(-1)) {
    }
    const int status = pclose(pipe_);
    pipe_ = nullptr;
    return status;
  }
  const std::string& output() const { return output_; }

 private:
  // Appends what the pipe has within `timeout_ms` (-1: until something or
  // its end); false when nothing came.
  bool read_some(int timeout_ms) {
    if (!pipe_ || ended_) return false;
    pollfd p{fileno(pipe_), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(p.fd, buf, sizeof buf);
    if (n <= 0) {
      ended_ = true;
      return false;
    }
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  FILE* pipe_ = nullptr;
  pid_t pid_ = 0;
  bool ended_ = false;
  std::string output_;
};

}  // namespace lrtune::test
