// Stratified split and normalisation statistics.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/split.h"

namespace lrtune {
namespace {

torch::Tensor cyclic_labels(int64_t n) { return torch::arange(n, torch::kInt64).remainder(10); }

std::vector<int64_t> class_counts(const torch::Tensor& labels, const std::vector<int64_t>& idx,
                                  int64_t classes = 10) {
  std::vector<int64_t> counts(static_cast<std::size_t>(classes), 0);
  auto l = labels.accessor<int64_t, 1>();
  for (auto i : idx) ++counts[l[i]];
  return counts;
}

TEST(Split, FullSizeIsStratifiedAndDisjoint) {
  auto labels = cyclic_labels(50000);
  Split s = stratified_split(labels, 10, 5000, 0, 1);
  ASSERT_EQ(s.train.size(), 45000u);
  ASSERT_EQ(s.val.size(), 5000u);
  for (auto c : class_counts(labels, s.train)) EXPECT_EQ(c, 4500);
  for (auto c : class_counts(labels, s.val)) EXPECT_EQ(c, 500);
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  EXPECT_EQ(all.size(), 50000u);
}

TEST(Split, SameSeedSameSplitOtherSeedOther) {
  auto labels = cyclic_labels(2000);
  Split a = stratified_split(labels, 10, 200, 0, 5);
  Split b = stratified_split(labels, 10, 200, 0, 5);
  Split c = stratified_split(labels, 10, 200, 0, 6);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_NE(a.val, c.val);
}

TEST(Split, SubsetKeepsClassesBalancedAndComesFromTraining) {
  auto labels = cyclic_labels(5000);
  Split s = stratified_split(labels, 10, 500, 1003, 2);
  ASSERT_EQ(s.train.size(), 1003u);
  auto counts = class_counts(labels, s.train);
  EXPECT_LE(*std::max_element(counts.begin(), counts.end()) -
                *std::min_element(counts.begin(), counts.end()),
            1);
  std::set<int64_t> val(s.val.begin(), s.val.end());
  for (auto i : s.train) EXPECT_EQ(val.count(i), 0u);
}

TEST(Split, TooFewImagesIsADataError) {
  EXPECT_THROW(stratified_split(cyclic_labels(100), 10, 100, 0, 1), DataError);
  EXPECT_THROW(stratified_split(cyclic_labels(1000), 10, 100, 5000, 1), DataError);
}

TEST(Split, PermutationIsAPermutationAndDeterministic) {
  auto p = permutation(1000, 42);
  EXPECT_EQ(p, permutation(1000, 42));
  EXPECT_NE(p, permutation(1000, 43));
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(Split, ChannelStatsMatchTorch) {
  torch::manual_seed(0);
  auto images = torch::randint(0, 256, {50, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  std::vector<int64_t> idx = {1, 4, 9, 20, 33};
  ChannelStats st = channel_stats(images, idx);
  auto x = images.index_select(0, torch::tensor(idx)).to(torch::kFloat64) / 255.0;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(st.mean[c], x.select(1, c).mean().item<double>(), 1e-6);
    EXPECT_NEAR(st.std[c], x.select(1, c).std(/*unbiased=*/false).item<double>(), 1e-5);
  }
}

// Any class count, and a validation size that is not a multiple of it: each
// class gives val_size / classes, the first ones one more for the remainder.
TEST(Split, AnyClassCountAndAnyValidationSize) {
  auto labels = torch::arange(3000, torch::kInt64).remainder(100);
  Split s = stratified_split(labels, 100, 250, 0, 4);
  ASSERT_EQ(s.val.size(), 250u);
  ASSERT_EQ(s.train.size(), 2750u);
  const auto val = class_counts(labels, s.val, 100);
  for (int c = 0; c < 100; ++c) EXPECT_EQ(val[c], c < 50 ? 3 : 2) << "class " << c;
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  EXPECT_EQ(all.size(), 3000u);

  const auto ten = class_counts(cyclic_labels(1000), stratified_split(cyclic_labels(1000), 10, 15, 0, 1).val);
  EXPECT_EQ(ten, (std::vector<int64_t>{2, 2, 2, 2, 2, 1, 1, 1, 1, 1}));
}

TEST(Split, ALabelOutsideTheClassesIsNamed) {
  auto labels = cyclic_labels(100);
  labels[17] = 10;
  try {
    stratified_split(labels, 10, 20, 0, 1);
    FAIL() << "label 10 of 10 classes accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 of training image 17"), std::string::npos) << e.what();
  }
}

TEST(Split, ChannelStatsOfOneChannel) {
  torch::manual_seed(1);
  auto images = torch::randint(0, 256, {20, 1, 28, 28}, torch::kInt64).to(torch::kUInt8);
  std::vector<int64_t> idx = {0, 3, 7, 19};
  ChannelStats st = channel_stats(images, idx);
  ASSERT_EQ(st.mean.size(), 1u);
  auto x = images.index_select(0, torch::tensor(idx)).to(torch::kFloat64) / 255.0;
  EXPECT_NEAR(st.mean[0], x.mean().item<double>(), 1e-6);
  EXPECT_NEAR(st.std[0], x.std(/*unbiased=*/false).item<double>(), 1e-5);
}

}  // namespace
}  // namespace lrtune
