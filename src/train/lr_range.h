// The learning-rate range test (Smith 2015; fastai's lr_find): train a fresh
// network for a few hundred steps while the rate ramps from tiny to huge,
// record the loss of every step, and suggest rates from its curve.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/cifar10.h"

namespace lrtune {

struct RangeTestOptions {
  double start_lr = 1e-7;
  double end_lr = 10;
  std::int64_t steps = 100;  // training batches
  bool linear = false;       // ramp linearly instead of exponentially
  double beta = 0.98;        // smoothing of the loss (bias-corrected moving average)
  double stop_factor = 4;    // stop when the smoothed loss exceeds this times its minimum
};

// Throws ConfigError naming the flag when the options cannot make a test.
void check_range_options(const RangeTestOptions& o);

// One test of `lr-find --compare`: its label ("momentum=0.9") and configuration.
struct RangeVariant {
  std::string label;
  TrainConfig cfg;
};

// The tests `--compare KEY=V1,V2,...` asks for: `base` with KEY set to each
// value. ConfigError naming the flag for: no KEY= or no value, an empty value,
// a value given twice (as the configuration reads it: 0.9 and 0.90 are one),
// a bad value, and a key the range test does not read (lr, epochs, the
// schedule and its keys, threads...), whose curves would all be the same.
std::vector<RangeVariant> compare_variants(const TrainConfig& base, const std::string& compare);

// The rate of step i (0-based) of `steps`.
double range_lr(const RangeTestOptions& o, std::int64_t i);

struct RangePoint {
  std::int64_t step = 0;  // 1-based
  double lr = 0, loss = 0, smoothed = 0;
};

// Adds steps' losses and says when the test is over (fastai's rule: the
// smoothed loss is above stop_factor times its minimum, or not finite).
class RangeRecorder {
 public:
  explicit RangeRecorder(const RangeTestOptions& o) : o_(o) {}
  // Records the step; false when the test should stop here.
  bool add(double lr, double loss);
  const std::vector<RangePoint>& points() const { return points_; }

 private:
  RangeTestOptions o_;
  std::vector<RangePoint> points_;
  double average_ = 0, best_ = 0;
};

// The three rates the test suggests (NaN when the curve is too short):
// valley, fastai's default (the middle of the longest falling stretch of the
// smoothed loss, a little past its start); steepest, where the smoothed loss
// falls fastest against log10(lr), computed with the real spacing of the
// points; and the rate of the minimum loss divided by 10. As fastai does, the
// first tenth of the planned steps and the last 5 points are left out.
struct RangeSuggestions {
  double valley = 0, steepest = 0, minimum_tenth = 0;
};
RangeSuggestions suggest_rates(const std::vector<RangePoint>& points, std::int64_t planned_steps);

// Runs the test for `cfg` (its model, optimizer and its keys, batch size,
// augmentation, seed) on `data`. `progress` gets (steps done, steps) now and then.
std::vector<RangePoint> run_range_test(
    const TrainConfig& cfg, const ImageDataset& data, const RangeTestOptions& o,
    const std::function<void(std::int64_t, std::int64_t)>& progress = nullptr);

}  // namespace lrtune
