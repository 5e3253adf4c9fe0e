// The reference network's size and shape, and the model registry.
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "model/reference_cnn.h"

namespace lrtune {
namespace {

TEST(ReferenceCnn, HasTheReferenceParameterCount) {
  auto m = build_model("reference_cnn");
  EXPECT_EQ(parameter_count(*m), 541094);
}

TEST(ReferenceCnn, MapsABatchToTenLogits) {
  auto m = build_model("reference_cnn");
  m->eval();
  auto out = m->forward(torch::randn({7, 3, 32, 32}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{7, 10}));
  // Channels-last input gives the same answer.
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(m->forward(x), m->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)),
                              1e-5, 1e-5));
}

// Today's network for CIFAR-10 as it was written before the shape came from
// the data set: its layers in its order.
struct FrozenCifarCnn : torch::nn::Module {
  FrozenCifarCnn() {
    auto conv = [](int in, int out) {
      return torch::nn::Conv2dOptions(in, out, 3).padding(1);
    };
    register_module("conv1", torch::nn::Conv2d(conv(3, 16)));
    register_module("conv2", torch::nn::Conv2d(conv(16, 32)));
    register_module("conv3", torch::nn::Conv2d(conv(32, 64)));
    register_module("fc1", torch::nn::Linear(4 * 4 * 64, 500));
    register_module("fc2", torch::nn::Linear(500, 10));
    register_module("dropout", torch::nn::Dropout(0.3));
  }
};

TEST(ReferenceCnn, ForCifar10ItIsTodaysNetworkWithTodaysInitialWeights) {
  torch::manual_seed(21);
  FrozenCifarCnn frozen;
  torch::manual_seed(21);
  auto m = build_model(TrainConfig{}, DataShape{3, 32, 32, 10});
  const auto a = frozen.named_parameters(), b = m->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key(), b[i].key());
    EXPECT_TRUE(torch::equal(a[i].value(), b[i].value())) << a[i].key();
  }
}

TEST(ReferenceCnn, TakesItsShapeFromTheData) {
  struct Case {
    DataShape shape;
    std::int64_t parameters;
  };
  // conv: 3*3*C*16+16 + 4,640 + 18,496; fc1: 64*(H/8)*(W/8)*500+500; fc2: 500*classes+classes
  const auto count = [](const DataShape& s) {
    return 9 * s.channels * 16 + 16 + 4640 + 18496 + 64 * (s.height / 8) * (s.width / 8) * 500 + 500 +
           500 * s.classes + s.classes;
  };
  for (const DataShape& s : {DataShape{1, 28, 28, 10}, DataShape{3, 32, 32, 100}, DataShape{3, 24, 24, 5},
                             DataShape{3, 32, 32, 20}}) {
    auto m = build_model(TrainConfig{}, s);
    EXPECT_EQ(parameter_count(*m), count(s)) << s.text();
    m->eval();
    EXPECT_EQ(m->forward(torch::randn({3, s.channels, s.height, s.width})).sizes(),
              (std::vector<int64_t>{3, s.classes}))
        << s.text();
    m->train();
    EXPECT_EQ(m->forward(torch::randn({2, s.channels, s.height, s.width})).sizes(),
              (std::vector<int64_t>{2, s.classes}))
        << s.text();
  }
  EXPECT_EQ(count(DataShape{}), 541094);
  EXPECT_THROW(build_model(TrainConfig{}, DataShape{3, 7, 32, 10}), ConfigError);
}

TEST(ReferenceCnn, DropoutOnlyInTrainingMode) {
  auto m = build_model("reference_cnn");
  auto x = torch::randn({4, 3, 32, 32});
  m->eval();
  EXPECT_TRUE(torch::equal(m->forward(x), m->forward(x)));
  m->train();
  EXPECT_FALSE(torch::equal(m->forward(x), m->forward(x)));
}

// The textbook forward pass, max_pool(relu(conv)), on the model's own parameters:
// the reference the model's faster relu(max_pool(conv)) must match.
torch::Tensor textbook_forward(torch::nn::Module& m, torch::Tensor x) {
  auto p = m.named_parameters();
  auto stage = [&](const torch::Tensor& in, const std::string& conv) {
    auto c = torch::conv2d(in, p[conv + ".weight"], p[conv + ".bias"], /*stride=*/1, /*padding=*/1);
    return torch::max_pool2d(torch::relu(c), /*kernel_size=*/2);
  };
  x = stage(stage(stage(x, "conv1"), "conv2"), "conv3");
  // The same dropout (and seed) as the model: the masks are equal, and
  // hashed_dropout itself is checked below.
  x = hashed_dropout(x.reshape({x.size(0), 64 * 4 * 4}), 0.3, m.is_training());
  x = hashed_dropout(torch::relu(torch::linear(x, p["fc1.weight"], p["fc1.bias"])), 0.3,
                     m.is_training());
  return torch::linear(x, p["fc2.weight"], p["fc2.bias"]);
}

std::vector<torch::Tensor> step_gradients(torch::nn::Module& m, const torch::Tensor& loss) {
  m.zero_grad();
  loss.backward();
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone());
  return g;
}

TEST(ReferenceCnn, TrainingStepMatchesTheTextbookPassInBothLayouts) {
  for (bool channels_last : {false, true}) {
    torch::manual_seed(3);
    auto m = build_model("reference_cnn");
    auto x = torch::randn({16, 3, 32, 32});
    if (channels_last) {
      torch::NoGradGuard no_grad;
      for (auto& p : m->parameters())
        if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
      x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    }
    auto y = torch::randint(10, {16}, torch::kInt64);
    m->train();
    torch::manual_seed(5);  // the same dropout masks for both passes
    auto fast = torch::nn::functional::cross_entropy(m->forward(x), y);
    auto fast_grads = step_gradients(*m, fast);
    torch::manual_seed(5);
    auto plain = torch::nn::functional::cross_entropy(textbook_forward(*m, x), y);
    auto plain_grads = step_gradients(*m, plain);
    EXPECT_TRUE(torch::allclose(fast, plain, /*rtol=*/1e-6, /*atol=*/1e-7)) << channels_last;
    ASSERT_EQ(fast_grads.size(), plain_grads.size());
    for (std::size_t i = 0; i < fast_grads.size(); ++i)
      EXPECT_TRUE(torch::allclose(fast_grads[i], plain_grads[i], /*rtol=*/1e-5, /*atol=*/1e-7))
          << "parameter " << i << (channels_last ? " (channels-last)" : "");
  }
}

TEST(ReferenceCnn, EvaluationWithoutGradientsMatchesTheTextbookPass) {
  // Without gradients, evaluation on the CPU runs in oneDNN's blocked layout:
  // the same logits within float32 rounding, for any batch size and layout.
  torch::manual_seed(4);
  auto m = build_model("reference_cnn");
  m->eval();
  for (bool channels_last : {false, true})
    for (std::int64_t batch : {1, 7, 250}) {
      auto x = torch::randn({batch, 3, 32, 32});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor expected;
      {
        torch::AutoGradMode grad(true);  // gradients on: the plain layers
        expected = textbook_forward(*m, x).detach();
      }
      torch::NoGradGuard no_grad;
      auto got = m->forward(x);
      EXPECT_FALSE(got.is_mkldnn());
      EXPECT_TRUE(torch::allclose(got, expected, /*rtol=*/1e-4, /*atol=*/1e-5))
          << "batch " << batch << (channels_last ? " channels-last" : "") << ": max difference "
          << (got - expected).abs().max().item<float>();
      c10::InferenceMode inference;
      EXPECT_TRUE(torch::allclose(m->forward(x), expected, 1e-4, 1e-5));
    }
}

TEST(HashedDropout, KeepsOneMinusPAndScalesThem) {
  torch::manual_seed(1);
  auto x = torch::rand({256, 1024}) + 0.5;  // no zeros of its own
  auto y = hashed_dropout(x, 0.3, /*train=*/true);
  auto kept = y.ne(0);
  // 262,144 draws: the kept fraction is within 5 standard deviations of 0.7.
  EXPECT_NEAR(kept.to(torch::kFloat64).mean().item<double>(), 0.7, 5 * std::sqrt(0.21 / 262144));
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / 0.7, 1e-6, 0));
  EXPECT_TRUE(torch::equal(hashed_dropout(x, 0.3, /*train=*/false), x));
  EXPECT_TRUE(torch::equal(hashed_dropout(x, 0.0, /*train=*/true), x));
  EXPECT_EQ(hashed_dropout(x, 1.0, /*train=*/true).ne(0).sum().item<std::int64_t>(), 0);
}

TEST(HashedDropout, GradientIsThePlainProductsGradient) {
  torch::manual_seed(2);
  auto x = (torch::rand({64, 500}) + 0.5).requires_grad_();
  auto g = torch::randn({64, 500});
  auto y = hashed_dropout(x, 0.3, /*train=*/true);
  y.backward(g);
  // The plain path: x times the same mask, read off the output.
  auto mask = (y.detach() / x.detach()).detach();
  auto x2 = x.detach().clone().requires_grad_();
  (x2 * mask).backward(g);
  EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-6, 1e-7));
}

TEST(HashedDropout, SeedFixesTheMaskAndThreadsDoNot) {
  auto x = torch::ones({128, 1024});
  const int threads = torch::get_num_threads();
  torch::manual_seed(7);
  auto a = hashed_dropout(x, 0.3, true);
  auto b = hashed_dropout(x, 0.3, true);
  torch::set_num_threads(threads == 1 ? 2 : 1);
  torch::manual_seed(7);
  auto c = hashed_dropout(x, 0.3, true);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a, c));
  EXPECT_FALSE(torch::equal(a, b));  // consecutive calls draw new masks
}

TEST(ModelRegistry, UnknownNameListsKnownOnes) {
  try {
    build_model("resnet9000");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("known: reference_cnn"));
  }
}

}  // namespace
}  // namespace lrtune
