// bf16 autocast for forward passes, on the CPU and on CUDA, as a scope
// (LibTorch's C++ API has only switches, renamed in 2.4; this file is the one
// place that knows both), and whether this CPU runs bf16 natively.
#pragma once
#include <string>

#include <torch/torch.h>

namespace lrtune {

// Inside the scope, convolutions and matrix products on `device` run in bf16
// (PyTorch's autocast lists); weights, gradients, optimizer state and the loss
// stay fp32. With `on` false the scope does nothing.
class Bf16Autocast {
 public:
  Bf16Autocast(const torch::Device& device, bool on);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool on_;
  bool cuda_;
  bool was_enabled_ = false;
};

// Whether CPU autocast is on here (networks choose their evaluation path by it).
bool cpu_autocast_enabled();

// The instruction sets a CPU offers for bf16 arithmetic. Without either,
// oneDNN emulates bf16 with fp32 instructions and conversions.
struct CpuBf16Support {
  bool avx512_bf16 = false;
  bool amx_bf16 = false;
  bool native() const { return avx512_bf16 || amx_bf16; }
};

// From the text of /proc/cpuinfo (its "flags" lines: avx512_bf16, amx_bf16).
CpuBf16Support cpu_bf16_support(const std::string& cpuinfo);
// This machine's, read once.
const CpuBf16Support& this_cpu_bf16_support();

// ConfigError, in one line, for precision bf16 on a CPU that would emulate it
// (device "cpu" and `cpu` not native): slower than fp32, so refused. Nothing
// for fp32, or a GPU.
void check_precision(const std::string& precision, const std::string& device,
                     const CpuBf16Support& cpu = this_cpu_bf16_support());

}  // namespace lrtune
