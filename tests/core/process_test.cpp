// The one child-process wrapper: PATH lookup, folder, standard streams, exit
// codes and signals, and waits that fail instead of spinning.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/process.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Sets a signal's disposition for one test, restoring the old one after.
class SignalScope {
 public:
  SignalScope(int sig, void (*handler)(int), int flags = 0) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &old_);
  }
  ~SignalScope() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ {};
};

void ignore_signal(int) {}

ProcessOptions capture() {
  ProcessOptions o;
  o.capture_stdout = true;
  return o;
}

TEST(Process, FindsTheProgramOnPathAndCapturesItsOutput) {
  const ProcessResult r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, capture());
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "out\n");  // standard error is not mixed into the capture
  EXPECT_EQ(describe_exit(r.wait_status), "exited with code 3");
}

TEST(Process, AMissingProgramIsAResultNotAnException) {
  const ProcessResult r = run_process({"lrtune-no-such-program-xyz"});
  EXPECT_FALSE(r.started);
  EXPECT_THAT(r.error, HasSubstr("No such file"));
  EXPECT_EQ(run_program({"lrtune-no-such-program-xyz"}), 127);
}

TEST(Process, RunsInTheGivenFolderWithStandardInputFromDevNull) {
  test::TempDir dir;
  ProcessOptions o = capture();
  o.cwd = dir.str();
  EXPECT_EQ(run_process({"pwd", "-P"}, o).output, fs::canonical(dir.path()).string() + "\n");
  // A program that reads its input finds it empty at once instead of waiting on ours.
  EXPECT_EQ(run_process({"readlink", "/proc/self/fd/0"}, capture()).output, "/dev/null\n");
  EXPECT_EQ(run_process({"wc", "-c"}, capture()).output, "0\n");
}

TEST(Process, AppendsOutputAndErrorsToTheLogRelativeToThisProcess) {
  test::TempDir dir, elsewhere;
  const fs::path log = dir.path() / "run.log";
  ProcessOptions o;
  o.cwd = elsewhere.str();  // the log path is not resolved in the child's folder
  o.log_path = log.string();
  EXPECT_EQ(run_process({"sh", "-c", "echo one; echo two >&2"}, o).exit_code, 0);
  EXPECT_EQ(run_process({"sh", "-c", "echo three"}, o).exit_code, 0);
  EXPECT_EQ(test::read_file(log), "one\ntwo\nthree\n");
  EXPECT_FALSE(fs::exists(elsewhere.path() / "run.log"));

  o.log_path = (dir.path() / "no" / "such" / "folder.log").string();
  EXPECT_THROW(run_process({"true"}, o), ProcessError);
}

TEST(Process, ASignalledChildIsDescribedByItsSignal) {
  const ProcessResult r = run_process({"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(describe_exit(r.wait_status), "killed by signal 9 (Killed)");
}

// Signals arriving while the output is read or the child waited for (EINTR)
// neither cut the output short nor end the wait early.
TEST(Process, SignalsDuringTheRunAreRetriedNotFatal) {
  SignalScope usr1(SIGUSR1, ignore_signal, /*flags=*/0);  // no SA_RESTART: calls see EINTR
  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  std::thread pester([&] {
    while (!done) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::yield();
    }
  });
  const ProcessResult r =
      run_process({"sh", "-c", "echo start; sleep 0.3; echo end; exit 4"}, capture());
  done = true;
  pester.join();
  EXPECT_EQ(r.output, "start\nend\n");
  EXPECT_EQ(r.exit_code, 4);
}

// With SIGCHLD ignored the kernel reaps children itself and waitpid fails
// with ECHILD: the wait must end with that error, not spin forever.
TEST(Process, AWaitThatCannotSucceedThrowsWithTheErrnoText) {
  SignalScope chld(SIGCHLD, SIG_IGN);
  try {
    run_process({"true"});
    FAIL() << "no error";
  } catch (const ProcessError& e) {
    EXPECT_THAT(e.what(), HasSubstr(std::strerror(ECHILD)));
  }
}

TEST(Process, PollChildReturnsTheStatusOnceTheChildHasEnded) {
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(gate[1]);
    char c;
    const ssize_t n = read(gate[0], &c, 1);  // until the parent closes its end
    _exit(n == 0 ? 7 : 1);
  }
  close(gate[0]);
  EXPECT_FALSE(poll_child(pid).has_value());  // blocked on the gate: still running
  close(gate[1]);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);  // ended, not reaped
  const auto status = poll_child(pid);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_exit(*status), "exited with code 7");
  EXPECT_FALSE(process_alive(pid));
  // Reaped now: polling again is an error, not "still running" forever.
  EXPECT_THROW(poll_child(pid), ProcessError);
}

TEST(Process, ProcessAliveTellsTheLivingFromTheDeadAndZombies) {
  EXPECT_TRUE(process_alive(getpid()));
  EXPECT_FALSE(process_alive(0));
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(process_alive(pid));  // a zombie until reaped: it has ended
  EXPECT_EQ(describe_exit(wait_child(pid)), "exited with code 0");
}

}  // namespace
}  // namespace lrtune
