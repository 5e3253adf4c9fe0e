// A busy machine on demand: K child processes each running a tight CPU loop,
// killed on exit, on exceptions and on Ctrl-C; and how much CPU others used.
#pragma once
#include <string>

namespace lrtune::bench {

// K busy children for as long as the object lives.
class BusyLoad {
 public:
  explicit BusyLoad(int processes);
  ~BusyLoad();
  BusyLoad(const BusyLoad&) = delete;
  BusyLoad& operator=(const BusyLoad&) = delete;
};

// SIGINT, SIGTERM and SIGALRM kill the busy children, say so in one line
// (`what` names the program) and end the process as the signal would have.
void stop_busy_on_signals(const std::string& what);

// CPU time so far, in seconds: the whole machine's (all CPUs, idle and the
// hypervisor's steal excluded) and this process's with all its descendants.
struct CpuSnapshot {
  double wall = 0, machine = 0, own = 0;
};
CpuSnapshot cpu_snapshot();

// Cores' worth of CPU that processes outside this process tree used between
// two snapshots.
double others_cores(const CpuSnapshot& before, const CpuSnapshot& after);

}  // namespace lrtune::bench
