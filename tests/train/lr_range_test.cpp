// The LR range test: the ramp, fastai's stop rule and suggestions on curves
// whose answer is known, and a real test on tiny data whose loss falls, then
// blows up, with the valley before the blow-up.
#include <cmath>
#include <functional>
#include <limits>

#include <gmock/gmock.h>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "support/test_support.h"
#include "train/lr_range.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

TEST(LrRange, RampsExponentiallyOrLinearlyFromStartToEnd) {
  RangeTestOptions o;  // 1e-7 to 10 over 100 steps
  EXPECT_DOUBLE_EQ(range_lr(o, 0), 1e-7);
  EXPECT_NEAR(range_lr(o, 99), 10.0, 1e-9);
  EXPECT_NEAR(range_lr(o, 33) / range_lr(o, 32), std::pow(1e8, 1.0 / 99), 1e-12);
  o.linear = true;
  o.start_lr = 0.0;
  o.end_lr = 1.0;
  o.steps = 11;
  EXPECT_NEAR(range_lr(o, 4), 0.4, 1e-15);
}

TEST(LrRange, SmoothsWithBiasCorrectionAndStopsAtFourTimesTheMinimum) {
  RangeTestOptions o;
  RangeRecorder r(o);
  EXPECT_TRUE(r.add(1e-7, 2.0));
  EXPECT_DOUBLE_EQ(r.points()[0].smoothed, 2.0);  // bias-corrected: the first value itself
  EXPECT_TRUE(r.add(1e-6, 1.0));
  const double avg2 = 0.98 * 0.02 * 2.0 + 0.02 * 1.0;
  EXPECT_NEAR(r.points()[1].smoothed, avg2 / (1 - 0.98 * 0.98), 1e-12);
  // A huge loss lifts the smoothed loss past 4x its minimum: stop.
  bool go_on = true;
  for (int i = 0; i < 50 && go_on; ++i) go_on = r.add(1e-5, 100.0);
  EXPECT_FALSE(go_on);
  RangeRecorder nan(o);
  EXPECT_FALSE(nan.add(1e-7, std::nan("")));
}

// A made-up curve: flat, then falling fastest around lr 1e-3, lowest at 1e-1,
// then rising. The suggestions land where they should.
TEST(LrRange, SuggestionsOnAKnownCurve) {
  RangeTestOptions o;
  o.start_lr = 1e-6;
  o.end_lr = 1.0;
  o.steps = 121;
  std::vector<RangePoint> points;
  for (std::int64_t i = 0; i < o.steps; ++i) {
    const double lr = range_lr(o, i), x = std::log10(lr);  // -6 .. 0
    const double loss = 2.0 - std::tanh((x + 3.0) * 1.5) + (x > -1 ? 8 * (x + 1) * (x + 1) : 0);
    points.push_back({i + 1, lr, loss, loss});
  }
  const RangeSuggestions s = suggest_rates(points, o.steps);
  EXPECT_NEAR(std::log10(s.steepest), -3.0, 0.06);
  EXPECT_NEAR(std::log10(s.minimum_tenth), std::log10(range_lr(o, 100)) - 1, 0.3);
  EXPECT_GT(std::log10(s.valley), -4.5);  // in the falling stretch, before the bottom
  EXPECT_LT(std::log10(s.valley), -1.0);
  EXPECT_TRUE(std::isnan(suggest_rates({points.begin(), points.begin() + 4}, 4).valley));
}

TEST(LrRange, ARealTestFallsThenDivergesAndSuggestsARateBeforeIt) {
  test::TinyCifar tiny(/*per_file=*/100, /*n_test=*/20);
  TrainConfig cfg;
  cfg.val_size = 100;
  cfg.batch_size = 32;
  cfg.device = "cpu";
  cfg.threads = 1;
  cfg.set("momentum", 0.9);
  RangeTestOptions o;
  o.start_lr = 1e-4;
  o.end_lr = 10;
  o.steps = 200;
  apply_threads(1);
  std::int64_t last_progress = 0;
  const auto points = run_range_test(cfg, tiny.data, o, [&](std::int64_t done, std::int64_t n) {
    EXPECT_EQ(n, 200);
    last_progress = done;
  });
  ASSERT_GT(points.size(), 30u);
  EXPECT_LT(points.size(), 200u);  // a rate of 10 blows the loss up: the test stops early
  EXPECT_EQ(last_progress, static_cast<std::int64_t>(points.size()));
  double lowest = points.front().smoothed;
  for (const auto& p : points) lowest = std::min(lowest, p.smoothed);
  EXPECT_LT(lowest, points.front().smoothed - 0.2);  // it learnt on the way
  const RangeSuggestions s = suggest_rates(points, o.steps);
  EXPECT_GT(s.valley, o.start_lr);
  EXPECT_LT(s.valley, points.back().lr);
  EXPECT_LT(s.minimum_tenth, points.back().lr);
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

std::string range_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// Both ends are float32 rates above zero, checked before anything starts.
TEST(LrRange, RatesThatAre32BitFloatsOnlyAndMessagesShowTheValues) {
  RangeTestOptions o;
  o.end_lr = std::numeric_limits<double>::infinity();
  EXPECT_THAT(range_error([&] { check_range_options(o); }),
              ::testing::HasSubstr("--end-lr: must be a positive number that fits a 32-bit float"));
  o = RangeTestOptions{};
  o.start_lr = 1e-300;
  o.end_lr = 1e300;
  EXPECT_THAT(range_error([&] { check_range_options(o); }), ::testing::HasSubstr("got 1e-300"));
  o.start_lr = 1e-7;
  EXPECT_THAT(range_error([&] { check_range_options(o); }), ::testing::HasSubstr("got 1e+300"));
  o = RangeTestOptions{};
  o.end_lr = std::nan("");
  EXPECT_THAT(range_error([&] { check_range_options(o); }), ::testing::HasSubstr("got nan"));
  o.end_lr = 1e-8;  // below the start: the start shown as the user wrote it
  EXPECT_THAT(range_error([&] { check_range_options(o); }),
              ::testing::HasSubstr("(got 1e-07 and 1e-08)"));
}

TEST(LrRange, CompareMakesOneTestPerDistinctValueOfAKeyTheTestReads) {
  const auto tests = compare_variants(TrainConfig{}, "momentum=0,0.9");
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[1].label, "momentum=0.9");
  EXPECT_DOUBLE_EQ(tests[1].cfg.real("momentum"), 0.9);
  for (const char* bad : {"momentum=", "momentum=,", "momentum=0.9,", "=1", "momentum"})
    EXPECT_THAT(range_error([&] { compare_variants(TrainConfig{}, bad); }),
                ::testing::HasSubstr("--compare")) << bad;
  EXPECT_THAT(range_error([&] { compare_variants(TrainConfig{}, "momentum=0.9,0.90"); }),
              ::testing::HasSubstr("momentum=0.90 is given twice"));
  for (const char* ignored : {"lr=0.1,1", "epochs=1,2", "schedule=constant,cosine",
                              "warmup_epochs=0,1", "gamma=0.1,0.5", "threads=1,2"})
    EXPECT_THAT(range_error([&] { compare_variants(TrainConfig{}, ignored); }),
                ::testing::HasSubstr("the range test does not read")) << ignored;
  EXPECT_THAT(range_error([&] { compare_variants(TrainConfig{}, "colour=1,2"); }),
              ::testing::HasSubstr("'colour' is not a configuration key"));
}

}  // namespace
}  // namespace lrtune
