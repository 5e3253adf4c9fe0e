// AccuracyMeter.
#include "train/meters.h"

#include <torch/torch.h>

namespace lrtune {

AccuracyMeter::AccuracyMeter(const torch::Device& device)
    : loss_sum_(torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device))),
      correct_(torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device))) {}

void AccuracyMeter::add(const torch::Tensor& loss, const torch::Tensor& logits,
                        const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const auto n = labels.size(0);
  loss_sum_.add_(loss.detach().to(torch::kFloat64) * static_cast<double>(n));
  correct_.add_(logits.argmax(1).eq(labels).sum());
  count_ += n;
}

void AccuracyMeter::reset() {
  loss_sum_.zero_();
  correct_.zero_();
  count_ = 0;
}

double AccuracyMeter::mean_loss() const {
  return count_ ? loss_sum_.item<double>() / static_cast<double>(count_) : 0.0;
}

double AccuracyMeter::accuracy() const {
  return count_ ? static_cast<double>(correct_.item<std::int64_t>()) / static_cast<double>(count_)
                : 0.0;
}

}  // namespace lrtune
