// What the benchmark runs on: cores, vector ISA, clock, and the floating-point
// peak those cores can reach (measured with an FMA loop, and nominal).
#pragma once
#include <string>

namespace lrtune::bench {

struct Machine {
  std::string cpu_model;    // /proc/cpuinfo "model name"
  int cores = 1;            // CPUs this process may run on (affinity mask)
  double ghz = 0;           // /proc/cpuinfo "cpu MHz" of the first CPU, in GHz
  bool avx2 = false, fma = false, avx512 = false;
  // Nominal peak: cores x GHz x FLOP/cycle, assuming two FMA units of the widest
  // vector (AVX-512: 64, AVX2+FMA: 32, SSE: 8 FLOP/cycle). Some cores execute
  // 512-bit FMAs in two halves, so the measured peak is the one to trust.
  double nominal_gflops = 0;
  // Measured: every core running independent FMA chains (AVX2 and AVX-512
  // both tried, in short bursts; the best burst counts), each thread's rate
  // over its own CPU time so that a busy machine does not lower it.
  double measured_gflops = 0;
  std::string measured_isa;  // "avx512", "avx2" or "none"
  std::string load;          // /proc/loadavg at the start (1, 5, 15 minutes)
};

// Reads /proc/cpuinfo and the affinity mask; measures the FMA peak for about
// `seconds` seconds (0 skips the measurement).
Machine probe_machine(double seconds);

std::string load_average();

}  // namespace lrtune::bench
