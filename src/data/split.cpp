// Stratified split, deterministic shuffles and normalisation statistics.
#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <torch/torch.h>

#include "core/errors.h"

namespace lrtune {

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  // splitmix64 of the pair: neighbouring seeds and streams give unrelated values.
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + stream + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace {
// Uniform integer in [0, n) without the platform-dependent std distributions.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do x = rng(); while (x >= limit);
  return x % n;
}
void shuffle(std::vector<std::int64_t>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(rng, i)]);
}
}  // namespace

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  shuffle(p, rng);
  return p;
}

Split stratified_split(const torch::Tensor& labels, std::int64_t val_size, std::int64_t subset,
                       std::uint64_t seed) {
  std::vector<std::vector<std::int64_t>> by_class(10);
  auto lab = labels.contiguous();
  const auto* l = lab.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < lab.size(0); ++i) by_class[l[i]].push_back(i);

  std::mt19937_64 rng(mix_seed(seed, 0x5B117));
  const std::int64_t val_per_class = val_size / 10;
  Split s;
  std::vector<std::vector<std::int64_t>> train_by_class(10);
  for (int c = 0; c < 10; ++c) {
    auto& idx = by_class[c];
    if (static_cast<std::int64_t>(idx.size()) <= val_per_class)
      throw DataError("class " + std::to_string(c) + " has " + std::to_string(idx.size()) +
                      " training images, too few to give " + std::to_string(val_per_class) +
                      " to validation (val_size " + std::to_string(val_size) + ")");
    shuffle(idx, rng);
    s.val.insert(s.val.end(), idx.begin(), idx.begin() + val_per_class);
    train_by_class[c].assign(idx.begin() + val_per_class, idx.end());
  }
  std::int64_t available = 0;
  for (auto& t : train_by_class) available += static_cast<std::int64_t>(t.size());
  const std::int64_t want = subset > 0 ? subset : available;
  if (want > available)
    throw DataError("train_subset " + std::to_string(subset) + " is larger than the " +
                    std::to_string(available) + " training images left after validation");
  // Round-robin over classes so any subset size stays stratified.
  for (std::size_t k = 0; static_cast<std::int64_t>(s.train.size()) < want; ++k)
    for (int c = 0; c < 10 && static_cast<std::int64_t>(s.train.size()) < want; ++c)
      if (k < train_by_class[c].size()) s.train.push_back(train_by_class[c][k]);
  return s;
}

ChannelStats channel_stats(const torch::Tensor& images_u8, const std::vector<std::int64_t>& idx) {
  // Sums over raw bytes: a float copy of 45,000 images would take over 500 MB.
  auto images = images_u8.contiguous();
  const auto* px = images.data_ptr<std::uint8_t>();
  constexpr std::int64_t kPlane = 32 * 32;
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  for (auto i : idx)
    for (int c = 0; c < 3; ++c) {
      const std::uint8_t* p = px + (i * 3 + c) * kPlane;
      std::uint64_t s = 0, s2 = 0;
      for (std::int64_t k = 0; k < kPlane; ++k) {
        s += p[k];
        s2 += static_cast<std::uint64_t>(p[k]) * p[k];
      }
      sum[c] += static_cast<double>(s);
      sq[c] += static_cast<double>(s2);
    }
  ChannelStats st{};
  const double n = static_cast<double>(idx.size()) * kPlane;
  for (int c = 0; c < 3; ++c) {
    const double mean = sum[c] / n / 255.0;
    const double var = sq[c] / n / (255.0 * 255.0) - mean * mean;
    st.mean[c] = static_cast<float>(mean);
    st.std[c] = static_cast<float>(std::sqrt(std::max(var, 1e-12)));
  }
  return st;
}

}  // namespace lrtune
