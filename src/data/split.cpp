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

Split stratified_split(const torch::Tensor& labels, std::int64_t classes, std::int64_t val_size,
                       std::int64_t subset, std::uint64_t seed) {
  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(classes));
  auto lab = labels.contiguous();
  const auto* l = lab.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < lab.size(0); ++i) {
    if (l[i] < 0 || l[i] >= classes)
      throw DataError("label " + std::to_string(l[i]) + " of training image " + std::to_string(i) +
                      " is outside the data set's " + std::to_string(classes) + " classes");
    by_class[static_cast<std::size_t>(l[i])].push_back(i);
  }

  std::mt19937_64 rng(mix_seed(seed, 0x5B117));
  Split s;
  std::vector<std::vector<std::int64_t>> train_by_class(by_class.size());
  for (std::int64_t c = 0; c < classes; ++c) {
    // val_size / classes each; the remainder one more each to the first classes.
    const std::int64_t take = val_size / classes + (c < val_size % classes ? 1 : 0);
    auto& idx = by_class[static_cast<std::size_t>(c)];
    if (static_cast<std::int64_t>(idx.size()) <= take)
      throw DataError("class " + std::to_string(c) + " has " + std::to_string(idx.size()) +
                      " training images, too few to give " + std::to_string(take) +
                      " to validation (val_size " + std::to_string(val_size) + ")");
    shuffle(idx, rng);
    s.val.insert(s.val.end(), idx.begin(), idx.begin() + take);
    train_by_class[static_cast<std::size_t>(c)].assign(idx.begin() + take, idx.end());
  }
  std::int64_t available = 0;
  for (auto& t : train_by_class) available += static_cast<std::int64_t>(t.size());
  const std::int64_t want = subset > 0 ? subset : available;
  if (want > available)
    throw DataError("train_subset " + std::to_string(subset) + " is larger than the " +
                    std::to_string(available) + " training images left after validation");
  // Round-robin over classes so any subset size stays stratified.
  for (std::size_t k = 0; static_cast<std::int64_t>(s.train.size()) < want; ++k)
    for (auto& t : train_by_class)
      if (static_cast<std::int64_t>(s.train.size()) < want && k < t.size()) s.train.push_back(t[k]);
  return s;
}

ChannelStats channel_stats(const torch::Tensor& images_u8, const std::vector<std::int64_t>& idx) {
  // Sums over raw bytes: a float copy of 45,000 images would take over 500 MB.
  auto images = images_u8.contiguous();
  const auto* px = images.data_ptr<std::uint8_t>();
  const std::int64_t channels = images.size(1), plane = images.size(2) * images.size(3);
  std::vector<double> sum(static_cast<std::size_t>(channels)), sq(sum.size());
  for (auto i : idx)
    for (std::int64_t c = 0; c < channels; ++c) {
      const std::uint8_t* p = px + (i * channels + c) * plane;
      std::uint64_t s = 0, s2 = 0;
      for (std::int64_t k = 0; k < plane; ++k) {
        s += p[k];
        s2 += static_cast<std::uint64_t>(p[k]) * p[k];
      }
      sum[static_cast<std::size_t>(c)] += static_cast<double>(s);
      sq[static_cast<std::size_t>(c)] += static_cast<double>(s2);
    }
  ChannelStats st;
  const double n = static_cast<double>(idx.size()) * static_cast<double>(plane);
  for (std::size_t c = 0; c < sum.size(); ++c) {
    const double mean = sum[c] / n / 255.0;
    const double var = sq[c] / n / (255.0 * 255.0) - mean * mean;
    st.mean.push_back(static_cast<float>(mean));
    st.std.push_back(static_cast<float>(std::sqrt(std::max(var, 1e-12))));
  }
  return st;
}

}  // namespace lrtune
