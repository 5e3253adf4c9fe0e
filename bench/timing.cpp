// Counting the reference network's FLOPs, and the sizes of a benchmark row.
#include "timing.h"

namespace lrtune::bench {
namespace {

constexpr std::int64_t kFullTrain = 45'000;
constexpr std::int64_t kFullEval = 15'000;  // 5,000 validation + 10,000 test

}  // namespace

Flops reference_flops() {
  // (out channels, in channels, kernel, output side) of conv1..3; then fc1, fc2.
  struct Conv { double out, in, k, side; };
  const Conv convs[] = {{16, 3, 3, 32}, {32, 16, 3, 16}, {64, 32, 3, 8}};
  double macs = 0;
  for (const auto& c : convs) macs += c.out * c.in * c.k * c.k * c.side * c.side;
  macs += 1024.0 * 500 + 500.0 * 10;
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
