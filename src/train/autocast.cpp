// CudaAutocast on LibTorch 1.x-2.3 (set_enabled) and 2.4+ (set_autocast_enabled(device)).
#include "train/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LRTUNE_AUTOCAST_BY_DEVICE 1
#endif

namespace lrtune {
namespace {

bool enabled() {
#ifdef LRTUNE_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

void enable(bool on) {
#ifdef LRTUNE_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(on);
#endif
}

}  // namespace

CudaAutocast::CudaAutocast(bool on) : on_(on) {
  if (!on_) return;
  was_enabled_ = enabled();
  at::autocast::increment_nesting();
  enable(true);
}

CudaAutocast::~CudaAutocast() {
  if (!on_) return;
  enable(was_enabled_);
  // Leaving the outermost scope drops the bf16 copies of the weights, which
  // change at every optimiser step (as Python's autocast does).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

}  // namespace lrtune
