// Counting the reference network's FLOPs, and the sizes of a benchmark row.
#include "timing.h"

#include <cmath>

namespace lrtune::bench {
namespace {

constexpr std::int64_t kFullTrain = 45'000;
constexpr std::int64_t kFullEval = 15'000;  // 5,000 validation + 10,000 test

}  // namespace

Flops reference_flops(const DataShape& s) {
  // (out channels, in channels, kernel, output pixels) of conv1..3; then fc1, fc2.
  struct Conv { double out, in, k, pixels; };
  const double h = static_cast<double>(s.height), w = static_cast<double>(s.width);
  const Conv convs[] = {{16, static_cast<double>(s.channels), 3, h * w},
                        {32, 16, 3, std::floor(h / 2) * std::floor(w / 2)},
                        {64, 32, 3, std::floor(h / 4) * std::floor(w / 4)}};
  double macs = 0;
  for (const auto& c : convs) macs += c.out * c.in * c.k * c.k * c.pixels;
  macs += 64 * std::floor(h / 8) * std::floor(w / 8) * 500 + 500.0 * static_cast<double>(s.classes);
  Flops f;
  f.forward = 2 * macs;
  f.train = 3 * f.forward;
  return f;
}

double Timing::epoch_s() const {
  const double t = train_ips(), e = eval_ips();
  return (t > 0 ? kFullTrain / t : 0) + (e > 0 ? kFullEval / e : 0);
}

std::int64_t Work::train_images() const {
  return train_steps > 0 ? train_steps * batch : kFullTrain;
}
std::int64_t Work::eval_images() const {
  return eval_batches > 0 ? eval_batches * eval_batch : kFullEval;
}

}  // namespace lrtune::bench
