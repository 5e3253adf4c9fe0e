// Bf16Autocast on LibTorch 1.x-2.3 (per-device switches) and 2.4+ (by device
// type); the CPU's bf16 instruction sets from /proc/cpuinfo.
#include "model/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

#include "core/errors.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LRTUNE_AUTOCAST_BY_DEVICE 1
#endif

namespace lrtune {
namespace {

bool enabled(bool cuda) {
#ifdef LRTUNE_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void enable(bool cuda, bool on) {
#ifdef LRTUNE_AUTOCAST_BY_DEVICE
  const auto type = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
  at::autocast::set_autocast_enabled(type, on);
#else
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  }
#endif
}

}  // namespace

Bf16Autocast::Bf16Autocast(const torch::Device& device, bool on)
    : on_(on), cuda_(device.is_cuda()) {
  if (!on_) return;
  was_enabled_ = enabled(cuda_);
  at::autocast::increment_nesting();
  enable(cuda_, true);
}

Bf16Autocast::~Bf16Autocast() {
  if (!on_) return;
  enable(cuda_, was_enabled_);
  // Leaving the outermost scope drops the bf16 copies of the weights, which
  // change at every optimiser step (as Python's autocast does).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

bool cpu_autocast_enabled() { return enabled(false); }

CpuBf16Support cpu_bf16_support(const std::string& cpuinfo) {
  CpuBf16Support out;
  std::istringstream lines(cpuinfo);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1));
    for (std::string w; words >> w;) {
      if (w == "avx512_bf16") out.avx512_bf16 = true;
      if (w == "amx_bf16") out.amx_bf16 = true;
    }
  }
  return out;
}

const CpuBf16Support& this_cpu_bf16_support() {
  static const CpuBf16Support support = [] {
    std::ifstream in("/proc/cpuinfo");
    std::stringstream text;
    text << in.rdbuf();
    return cpu_bf16_support(text.str());
  }();
  return support;
}

void check_precision(const std::string& precision, const std::string& device,
                     const CpuBf16Support& cpu) {
  if (precision != "bf16" || device != "cpu" || cpu.native()) return;
  throw ConfigError(
      "precision bf16: this CPU has neither AVX512-BF16 nor AMX-BF16 (no avx512_bf16 or amx_bf16 "
      "in /proc/cpuinfo), so bf16 would be emulated, slower than fp32; use --precision fp32");
}

}  // namespace lrtune
