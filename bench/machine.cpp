// CPU description from /proc/cpuinfo and an FMA loop that measures the peak.
#include "machine.h"

#include <immintrin.h>
#include <sched.h>

#include <atomic>
#include <ctime>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace lrtune::bench {
namespace {

constexpr int kChains = 12;  // independent accumulators: > latency (4) x FMA units (2)

// Each function returns FLOPs done; `sink` keeps the result alive.
__attribute__((target("avx2,fma"))) double fma_avx2(std::int64_t iters, float* sink) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (std::int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  *sink = _mm256_cvtss_f32(s);
  return static_cast<double>(iters) * kChains * 8 * 2;
}

__attribute__((target("avx512f"))) double fma_avx512(std::int64_t iters, float* sink) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (std::int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  *sink = _mm512_reduce_add_ps(s);
  return static_cast<double>(iters) * kChains * 16 * 2;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// All cores at once, each running `kernel` in slices until `seconds` pass. Each
// thread's rate is taken over its own CPU time, so that other processes sharing
// the cores do not lower the result; the rates add up to the machine's peak.
double measure(double (*kernel)(std::int64_t, float*), int cores, double seconds) {
  std::atomic<bool> go{false};
  std::vector<double> rate(static_cast<std::size_t>(cores), 0.0);
  std::vector<float> sink(static_cast<std::size_t>(cores) * 16, 0.0f);
  std::vector<std::thread> threads;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (int t = 0; t < cores; ++t)
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      const double cpu0 = thread_cpu_seconds();
      double flops = 0;
      while (std::chrono::steady_clock::now() < until)
        flops += kernel(200'000, &sink[static_cast<std::size_t>(t) * 16]);
      const double cpu = thread_cpu_seconds() - cpu0;
      rate[static_cast<std::size_t>(t)] = cpu > 0 ? flops / cpu / 1e9 : 0;
    });
  go.store(true);
  for (auto& th : threads) th.join();
  double total = 0;
  for (double r : rate) total += r;
  return total;
}

std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  return "";
}

bool has_flag(const std::string& flags, const std::string& f) {
  return (" " + flags + " ").find(" " + f + " ") != std::string::npos;
}

}  // namespace

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

Machine probe_machine(double seconds) {
  Machine m;
  std::ifstream in("/proc/cpuinfo");
  std::stringstream text;
  text << in.rdbuf();
  m.cpu_model = field(text.str(), "model name");
  const std::string flags = field(text.str(), "flags");
  m.avx2 = has_flag(flags, "avx2");
  m.fma = has_flag(flags, "fma");
  m.avx512 = has_flag(flags, "avx512f");
  const std::string mhz = field(text.str(), "cpu MHz");
  m.ghz = mhz.empty() ? 0.0 : std::stod(mhz) / 1000.0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) m.cores = CPU_COUNT(&set);
  else m.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double per_cycle = m.avx512 ? 64 : (m.avx2 && m.fma) ? 32 : 8;
  m.nominal_gflops = m.cores * m.ghz * per_cycle;
  m.load = load_average();
  m.measured_isa = "none";
  // Short bursts, best one kept.
  constexpr int kBursts = 5;
  for (int b = 0; b < kBursts && seconds > 0; ++b) {
    if (m.avx2 && m.fma) {
      const double g = measure(fma_avx2, m.cores, seconds / kBursts / 2);
      if (g > m.measured_gflops) m.measured_gflops = g, m.measured_isa = "avx2";
    }
    if (m.avx512) {
      const double g = measure(fma_avx512, m.cores, seconds / kBursts / 2);
      if (g > m.measured_gflops) m.measured_gflops = g, m.measured_isa = "avx512";
    }
  }
  return m;
}

}  // namespace lrtune::bench
