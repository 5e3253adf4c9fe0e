// posix_spawnp and waitpid, wrapped once for every caller (downloads, gnuplot,
// the study scheduler): what the child's standard streams are, and waits that
// retry only on EINTR, so a failing waitpid is an error rather than a hang.
#include "core/process.h"
#include "core/url.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace lrtune {
namespace {

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

struct SpawnActions {
  posix_spawn_file_actions_t actions;
  SpawnActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
};

std::string errno_text(int err) { return std::strerror(err); }

// Reads `fd` to its end, retrying reads a signal interrupted.
void read_all(int fd, std::string& out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) return;
  }
}

// One waitpid call: EINTR retried, any other error thrown (never a loop
// that spins on a wait that cannot succeed).
pid_t wait_once(pid_t pid, int& status, int flags) {
  for (;;) {
    const pid_t r = waitpid(pid, &status, flags);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    const int err = errno;
    throw ProcessError("cannot wait for process " + std::to_string(pid) + ": " + errno_text(err) +
                       (err == ECHILD ? " (not a child of this process, or already waited for)"
                                      : ""));
  }
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  if (argv.empty()) throw ProcessError("run_process: no program given");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // Opened here, so a relative log path means this process's folder, and an
  // unwritable one is an error the caller sees, not the child's exit code.
  Fd log, out_read, out_write;
  if (!options.log_path.empty()) {
    log.fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log.fd < 0) throw ProcessError(options.log_path + ": cannot open the log: " + errno_text(errno));
  }
  if (options.capture_stdout) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) throw ProcessError("cannot make a pipe: " + errno_text(errno));
    out_read.fd = p[0];
    out_write.fd = p[1];
  }
  SpawnActions sa;
  posix_spawn_file_actions_addopen(&sa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&sa.actions, options.cwd.c_str());
  // dup2 clears close-on-exec on the copy, so only fds 0-2 reach the program.
  if (out_write.fd >= 0) posix_spawn_file_actions_adddup2(&sa.actions, out_write.fd, STDOUT_FILENO);
  else if (log.fd >= 0) posix_spawn_file_actions_adddup2(&sa.actions, log.fd, STDOUT_FILENO);
  if (log.fd >= 0) posix_spawn_file_actions_adddup2(&sa.actions, log.fd, STDERR_FILENO);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &sa.actions, nullptr, args.data(), environ);
  out_write.reset();  // the child holds its copy: reading ends when it exits
  if (rc != 0) {
    result.error = errno_text(rc);
    return result;
  }
  result.started = true;
  if (out_read.fd >= 0) read_all(out_read.fd, result.output);
  result.wait_status = wait_child(pid);
  const int s = result.wait_status;
  result.exit_code = WIFEXITED(s) ? WEXITSTATUS(s) : WIFSIGNALED(s) ? 128 + WTERMSIG(s) : -1;
  return result;
}

int run_program(const std::vector<std::string>& argv, std::string* capture) {
  ProcessOptions options;
  options.capture_stdout = capture != nullptr;
  ProcessResult r = run_process(argv, options);
  if (capture) *capture = std::move(r.output);
  return r.started ? r.exit_code : 127;
}

int wait_child(pid_t pid) {
  int status = 0;
  wait_once(pid, status, 0);
  return status;
}

std::optional<int> poll_child(pid_t pid) {
  int status = 0;
  if (wait_once(pid, status, WNOHANG) == 0) return std::nullopt;
  return status;
}

std::string describe_exit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  return "stopped or continued (wait status " + std::to_string(wait_status) + ")";
}

bool process_alive(std::int64_t pid) {
  if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) return false;
#ifdef __linux__
  // A killed process whose parent has not reaped it yet (or whose parent died
  // too, in a container whose init never reaps) lingers as a zombie: ended.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z')
      return false;
  }
#endif
  return true;
}

bool program_exists(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty() && access((std::filesystem::path(dir) / name).c_str(), X_OK) == 0) return true;
  return false;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

pid_t fork_child(const std::function<int()>& body, const std::string& what) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw ProcessError("cannot start a " + what + " process: " + std::strerror(errno));
  if (pid > 0) return pid;
  int rc = 1;
  try {
    rc = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lrtune: %s: error: %s\n", what.c_str(), redact_passwords(e.what()).c_str());
  }
  std::fflush(nullptr);
  _exit(rc);
}

}  // namespace lrtune
