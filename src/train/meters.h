// Running loss/accuracy kept on the device: adding a batch never synchronises;
// reading the value does (once per epoch, or for an occasional progress line).
#pragma once
#include <chrono>
#include <cstdint>

#include <torch/types.h>

namespace lrtune {

class AccuracyMeter {
 public:
  explicit AccuracyMeter(const torch::Device& device);
  // `loss` is the batch mean; `logits` [B, 10]; `labels` [B].
  void add(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels);
  void reset();
  std::int64_t count() const { return count_; }
  double mean_loss() const;  // NaN when a loss was not finite
  double accuracy() const;

 private:
  torch::Tensor loss_sum_;  // float64 scalar
  torch::Tensor correct_;   // int64 scalar
  std::int64_t count_ = 0;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lrtune
