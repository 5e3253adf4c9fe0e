// The packed model against K separate reference networks: same logits, and
// weights copied in and out unchanged.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "model/packed_cnn.h"
#include "model/reference_cnn.h"

namespace lrtune {
namespace {

TEST(PackedCnn, ForwardMatchesSeparateNetworks) {
  constexpr std::int64_t K = 3, B = 5;
  // CIFAR-10's shape, grey digits, and an odd size with 7 classes (fc1 from 3x2 features).
  for (const DataShape shape : {DataShape{}, DataShape{1, 28, 28, 10}, DataShape{3, 24, 20, 7}}) {
    std::vector<std::shared_ptr<ReferenceCnn>> singles;
    PackedCnn pack(K, shape, /*dropout=*/0.0);
    for (std::int64_t k = 0; k < K; ++k) {
      torch::manual_seed(100 + k);
      singles.push_back(std::make_shared<ReferenceCnn>(shape, 0.0));
      pack->load_copy(k, *singles.back());
    }
    torch::manual_seed(7);
    const auto x = torch::randn({K, B, shape.channels, shape.height, shape.width});
    for (bool channels_last : {false, true}) {
      pack->set_channels_last(channels_last);
      const auto logits = pack->forward(x);
      ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{K, B, shape.classes}));
      for (std::int64_t k = 0; k < K; ++k) {
        const auto expected = singles[k]->forward(x[k]);
        EXPECT_TRUE(torch::allclose(logits[k], expected, /*rtol=*/1e-4, /*atol=*/1e-5))
            << shape.text() << " copy " << k << " channels_last " << channels_last << " max diff "
            << (logits[k] - expected).abs().max().item<float>();
      }
    }
  }
  // The reference network's refusal, not a LibTorch error later.
  EXPECT_THROW(PackedCnn(2, DataShape{1, 6, 6, 10}), ConfigError);
}

TEST(PackedCnn, CopiesGoInAndOutUnchanged) {
  constexpr std::int64_t K = 4;
  PackedCnn pack(K);
  pack->set_channels_last(true);
  torch::manual_seed(3);
  ReferenceCnn source;
  pack->load_copy(2, source);
  ReferenceCnn target;
  pack->store_copy(2, target);
  const auto a = source.named_parameters(), b = target.named_parameters();
  ASSERT_EQ(a.size(), 10u);
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  // Other copies were not touched (still the zero placeholders).
  ReferenceCnn other;
  pack->store_copy(1, other);
  for (const auto& p : other.parameters()) EXPECT_EQ(p.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(parameter_count(*pack), K * 541094);
}

TEST(PackedCnn, CopyViewSplitsTheFirstDimension) {
  const auto conv = torch::arange(2 * 16 * 27).view({32, 3, 3, 3}).to(torch::kFloat32);
  EXPECT_EQ(copy_view(conv, 2).sizes(), (std::vector<std::int64_t>{2, 16, 3, 3, 3}));
  EXPECT_TRUE(torch::equal(copy_view(conv, 2)[1], conv.slice(0, 16, 32)));
  const auto cl = conv.contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(torch::equal(copy_view(cl, 2)[1], conv.slice(0, 16, 32)));
  const auto fc = torch::zeros({2, 500, 1024});
  EXPECT_EQ(copy_view(fc, 2).sizes(), (std::vector<std::int64_t>{2, 1, 500, 1024}));
}

}  // namespace
}  // namespace lrtune
