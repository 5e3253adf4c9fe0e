// bf16 autocast for CUDA forward passes as a scope (LibTorch's C++ API has only
// switches, renamed in 2.4; this file is the one place that knows both).
#pragma once

namespace lrtune {

// CUDA only: nothing here casts CPU work, and a CPU run trains in fp32, so
// the command line refuses `--precision bf16` for trials on the CPU
// (cli/config_flags.h, check_study_precision) rather than ignore it.
class CudaAutocast {
 public:
  // With `on` false the scope does nothing.
  explicit CudaAutocast(bool on);
  ~CudaAutocast();
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool on_;
  bool was_enabled_ = false;
};

}  // namespace lrtune
