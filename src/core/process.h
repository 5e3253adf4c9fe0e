// Child processes without a shell (no quoting of user-supplied paths): the one
// wrapper that starts a program and waits for it, and what a wait status means.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"

namespace lrtune {

// A child process could not be waited for (waitpid failed with other than EINTR).
struct ProcessError : Error {
  using Error::Error;
};

struct ProcessOptions {
  std::string cwd;              // folder the program runs in; "" = this process's
  // Standard output returned in ProcessResult::output; otherwise it goes to
  // the log file, or, without one, where this process's output goes.
  bool capture_stdout = false;
  // Appended to (created when absent; relative to this process's folder, not
  // `cwd`): the program's standard error, and its output unless captured.
  // "" = both inherited from this process.
  std::string log_path;
};

struct ProcessResult {
  bool started = false;  // false: not found on PATH or could not be executed
  std::string error;     // why it did not start (errno text)
  int wait_status = 0;   // as waitpid reports it (describe_exit)
  int exit_code = -1;    // exit status, or 128 + signal number
  std::string output;    // standard output, with capture_stdout
};

// Runs argv[0], looked up on PATH, with standard input from /dev/null, and
// waits for it. A program that cannot start is a result (started = false),
// not an exception; ProcessError when it cannot be waited for, or when the
// log file cannot be opened.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// run_process's exit code, 127 when the program did not start. With `capture`
// set, standard output is returned there.
int run_program(const std::vector<std::string>& argv, std::string* capture = nullptr);

// Forks a child that runs `body` and exits with its return value (an
// exception is printed as "lrtune: <what>: error: ..." and exits 1). Output
// buffered in this process is flushed first, so the child does not print it
// again. Throws ProcessError when the fork fails. Wait for the child with
// wait_child or poll_child.
pid_t fork_child(const std::function<int()>& body, const std::string& what);

// Blocks until child `pid` ends and returns its wait status. Interrupted
// waits (EINTR) are retried; any other waitpid error throws ProcessError
// with the errno text (ECHILD: `pid` is not an unwaited child of this
// process, e.g. already waited for, or reaped by the kernel because SIGCHLD
// is ignored; its status is lost).
int wait_child(pid_t pid);

// The same without blocking: the wait status once child `pid` has ended (the
// child is then reaped: do not poll it again), nullopt while it runs. EINTR
// is retried; other errors, ECHILD included, throw ProcessError as above.
std::optional<int> poll_child(pid_t pid);

// "exited with code N", or "killed by signal N (NAME)" (NAME as strsignal
// gives it, e.g. "Killed").
std::string describe_exit(int wait_status);

// Whether process `pid` of this machine exists and has not ended: a zombie
// (ended, not yet reaped by its parent) counts as ended.
bool process_alive(std::int64_t pid);

bool program_exists(const std::string& name);

std::string host_name();

}  // namespace lrtune
