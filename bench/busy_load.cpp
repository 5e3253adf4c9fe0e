// Busy children (fork, tight loop, killed with the benchmark) and CPU accounting
// from /proc/stat and /proc/<pid>/stat.
#include "busy_load.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace lrtune::bench {
namespace {

// The busy children alive now, for the signal handler (async-signal-safe use only).
constexpr int kMaxBusy = 64;
pid_t g_busy[kMaxBusy];
volatile sig_atomic_t g_busy_count = 0;
char g_stop_line[2][160];  // [0]: interrupted, [1]: time limit

void kill_busy() {
  for (int i = 0; i < g_busy_count; ++i) kill(g_busy[i], SIGKILL);
}

void reap_busy() {
  kill_busy();
  for (int i = 0; i < g_busy_count; ++i) waitpid(g_busy[i], nullptr, 0);
  g_busy_count = 0;
}

void on_stop_signal(int sig) {
  kill_busy();
  const char* line = g_stop_line[sig == SIGALRM ? 1 : 0];
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line, std::char_traits<char>::length(line));
  signal(sig, SIG_DFL);
  raise(sig);
}

[[noreturn]] void spin_forever() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark, however it ends
  for (int sig : {SIGINT, SIGTERM, SIGALRM}) signal(sig, SIG_DFL);
  for (int fd = 3; fd < 1024; ++fd) close(fd);  // hold no worker's pipe open
  volatile std::uint64_t x = 0;
  for (;;) x = x + 1;
}

// utime + stime and parent of every process, from /proc/<pid>/stat.
struct ProcCpu {
  int ppid = 0;
  double seconds = 0;
};
std::map<int, ProcCpu> all_processes() {
  std::map<int, ProcCpu> procs;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) continue;
    std::istringstream fields(text.substr(paren + 2));
    std::vector<std::string> f;  // f[0] is field 3 (state)
    for (std::string s; fields >> s && f.size() < 13;) f.push_back(s);
    if (f.size() < 13) continue;
    procs[std::stoi(name)] = {std::stoi(f[1]), (std::stod(f[11]) + std::stod(f[12])) / tick};
  }
  return procs;
}

}  // namespace

BusyLoad::BusyLoad(int processes) {
  if (processes > kMaxBusy) throw std::runtime_error("at most 64 busy processes");
  for (int i = 0; i < processes; ++i) {
    const pid_t pid = fork();
    if (pid == 0) spin_forever();
    if (pid < 0) {
      reap_busy();
      throw std::runtime_error("fork() failed for a busy process");
    }
    g_busy[g_busy_count] = pid;
    g_busy_count = g_busy_count + 1;
  }
}

BusyLoad::~BusyLoad() { reap_busy(); }

void stop_busy_on_signals(const std::string& what) {
  std::snprintf(g_stop_line[0], sizeof g_stop_line[0], "%s: interrupted; busy processes killed\n",
                what.c_str());
  std::snprintf(g_stop_line[1], sizeof g_stop_line[1], "%s: time limit reached; busy processes killed\n",
                what.c_str());
  for (int sig : {SIGINT, SIGTERM, SIGALRM}) signal(sig, on_stop_signal);
}

CpuSnapshot cpu_snapshot() {
  CpuSnapshot s;
  s.wall = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  s.machine = (user + nice + system + irq + softirq) / tick;
  const auto procs = all_processes();
  std::map<int, bool> mine = {{getpid(), true}};
  // Descendants: walk each process's parents up to this one (or to the root).
  for (const auto& [pid, p] : procs) {
    std::vector<int> chain;
    int at = pid;
    while (at > 1 && !mine.count(at) && procs.count(at)) chain.push_back(at), at = procs.at(at).ppid;
    const bool ours = mine.count(at) && mine.at(at);
    for (int c : chain) mine[c] = ours;
  }
  for (const auto& [pid, ours] : mine)
    if (ours && procs.count(pid)) s.own += procs.at(pid).seconds;
  return s;
}

double others_cores(const CpuSnapshot& before, const CpuSnapshot& after) {
  const double wall = after.wall - before.wall;
  if (wall <= 0) return 0;
  return std::max(0.0, (after.machine - before.machine) - (after.own - before.own)) / wall;
}

}  // namespace lrtune::bench
