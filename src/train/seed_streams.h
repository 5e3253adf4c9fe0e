// Seed streams of a training run: each epoch draws its order, augmentation and
// dropout from generators seeded by mix_seed(seed, stream + epoch), and the
// initial weights from mix_seed(seed, kInit). run_training and the pack trainer
// both use these, so a trial starts from the same weights and sees the same
// batches whether it trains alone or in a pack.
#pragma once
#include <cstdint>

namespace lrtune::streams {

constexpr std::uint64_t kOrder = 1'000'000;
constexpr std::uint64_t kAugment = 2'000'000;
constexpr std::uint64_t kDropout = 3'000'000;
constexpr std::uint64_t kInit = 4'000'000;

}  // namespace lrtune::streams
