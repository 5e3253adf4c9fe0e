// PackBatches: per-copy splits and epoch draws, gathered into [K, n] batches.
#include "train/pack_batches.h"

#include <torch/torch.h>

#include "core/errors.h"
#include "train/seed_streams.h"

namespace lrtune {
namespace {

torch::Tensor to_device_matrix(const std::vector<std::vector<std::int64_t>>& rows,
                               const torch::Device& device) {
  const auto K = static_cast<std::int64_t>(rows.size());
  const auto n = static_cast<std::int64_t>(rows.front().size());
  auto m = torch::empty({K, n}, torch::kInt64);
  for (std::int64_t k = 0; k < K; ++k)
    std::copy(rows[k].begin(), rows[k].end(), m.data_ptr<std::int64_t>() + k * n);
  return m.to(device);
}

}  // namespace

PackBatches::PackBatches(const std::vector<TrainConfig>& configs, const ImageDataset& data,
                         const torch::Device& device, bool on_device)
    : configs_(configs), device_(device), on_device_(on_device) {
  std::vector<ChannelStats> stats;
  for (const auto& cfg : configs_) {
    const auto seed = static_cast<std::uint64_t>(cfg.seed);
    splits_.push_back(
        stratified_split(data.train.labels, data.shape().classes, cfg.val_size, cfg.train_subset, seed));
    stats.push_back(channel_stats(data.train.images, splits_.back().train));
    val_order_.push_back(splits_.back().val);
  }
  n_train_ = static_cast<std::int64_t>(splits_.front().train.size());
  n_val_ = static_cast<std::int64_t>(splits_.front().val.size());
  n_test_ = data.test.size();
  for (const auto& s : splits_)
    if (static_cast<std::int64_t>(s.train.size()) != n_train_ ||
        static_cast<std::int64_t>(s.val.size()) != n_val_)
      throw ConfigError("pack: every trial of a pack needs the same train_subset and val_size");
  std::vector<std::int64_t> all_test(static_cast<std::size_t>(n_test_));
  for (std::int64_t i = 0; i < n_test_; ++i) all_test[i] = i;
  test_order_.assign(configs_.size(), all_test);
  order_.assign(configs_.size(), {});

  if (on_device_) {
    train_dev_ = std::make_unique<DeviceBatcher>(data.train, stats, device_);
    test_dev_ = std::make_unique<DeviceBatcher>(data.test, stats, device_);
    val_dev_ = to_device_matrix(val_order_, device_);
    test_dev_idx_ = to_device_matrix(test_order_, device_);
  } else {
    for (const auto& st : stats) {
      // Plain layout: the packed model rearranges copies into channels anyway.
      train_makers_.emplace_back(data.train, st, /*channels_last=*/false);
      test_makers_.emplace_back(data.test, st, /*channels_last=*/false);
    }
  }
}

void PackBatches::start_epoch(std::int64_t epoch) {
  const auto e = static_cast<std::uint64_t>(epoch);
  std::vector<std::vector<std::int64_t>> codes;
  rngs_.clear();
  for (std::size_t k = 0; k < configs_.size(); ++k) {
    const auto seed = static_cast<std::uint64_t>(configs_[k].seed);
    const auto perm = permutation(n_train_, mix_seed(seed, streams::kOrder + e));
    auto& order = order_[k];
    order.resize(static_cast<std::size_t>(n_train_));
    for (std::int64_t i = 0; i < n_train_; ++i) order[i] = splits_[k].train[perm[i]];
    rngs_.emplace_back(mix_seed(seed, streams::kAugment + e));
    if (on_device_) {
      // BatchMaker takes one draw per image, in order, from this generator.
      std::vector<std::int64_t> c(static_cast<std::size_t>(n_train_), kNoAugment);
      const std::string& augment = configs_[k].augmentation();
      if (augment != "none")
        for (auto& x : c) x = augment_code(rngs_.back()(), /*flip=*/augment == "flipcrop");
      codes.push_back(std::move(c));
    }
  }
  if (on_device_) {
    order_dev_ = to_device_matrix(order_, device_);
    codes_dev_ = to_device_matrix(codes, device_);
  }
}

Batch PackBatches::from_makers(const std::vector<BatchMaker>& makers,
                               const std::vector<std::vector<std::int64_t>>& order,
                               std::int64_t begin, std::int64_t end,
                               std::vector<std::mt19937_64>* rngs) const {
  std::vector<torch::Tensor> images, labels;
  for (std::size_t k = 0; k < makers.size(); ++k) {
    const std::string& augment = configs_[k].augmentation();
    Batch b = makers[k].make(order[k], begin, end,
                             rngs && augment != "none" ? &(*rngs)[k] : nullptr,
                             /*flip_too=*/augment == "flipcrop");
    images.push_back(b.images);
    labels.push_back(b.labels);
  }
  return {torch::stack(images).to(device_), torch::stack(labels).to(device_)};
}

Batch PackBatches::train(std::int64_t begin, std::int64_t end) {
  if (on_device_)
    return train_dev_->make(order_dev_.narrow(1, begin, end - begin),
                            codes_dev_.narrow(1, begin, end - begin));
  return from_makers(train_makers_, order_, begin, end, &rngs_);
}

Batch PackBatches::val(std::int64_t begin, std::int64_t end) const {
  if (on_device_) return train_dev_->make(val_dev_.narrow(1, begin, end - begin), {});
  return from_makers(train_makers_, val_order_, begin, end, nullptr);
}

Batch PackBatches::test(std::int64_t begin, std::int64_t end) const {
  if (on_device_) return test_dev_->make(test_dev_idx_.narrow(1, begin, end - begin), {});
  return from_makers(test_makers_, test_order_, begin, end, nullptr);
}

}  // namespace lrtune
