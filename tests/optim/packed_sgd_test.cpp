// A pack's step against K separate ReferenceCnn + torch::optim::SGD steps on
// the same batches: same losses, gradients and updated weights per copy, with
// different learning rates, momentum, dampening, Nesterov and weight decay.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/packed_cnn.h"
#include "model/reference_cnn.h"
#include "optim/packed_sgd.h"

namespace lrtune {
namespace {
namespace F = torch::nn::functional;

struct CopySetting {
  double lr;
  SgdSettings sgd;
};

const std::vector<CopySetting> kSettings = {
    {0.1, {0.0, 0.0, false, 0.0}},       // plain SGD
    {0.05, {0.9, 0.0, true, 5e-4}},      // Nesterov + weight decay
    {0.2, {0.5, 0.1, false, 1e-3}},      // momentum with dampening
    {0.01, {0.9, 0.0, false, 0.0}},      // classic momentum
};

// K single networks with their own optimisers, and the same K as one pack.
struct Twins {
  std::int64_t K = static_cast<std::int64_t>(kSettings.size());
  std::vector<std::shared_ptr<ReferenceCnn>> singles;
  std::vector<std::unique_ptr<torch::optim::SGD>> optimizers;
  PackedCnn pack{K, /*dropout=*/0.0};
  std::unique_ptr<PackedSgd> packed;

  Twins() {
    std::vector<SgdSettings> settings;
    for (std::int64_t k = 0; k < K; ++k) {
      torch::manual_seed(40 + k);
      singles.push_back(std::make_shared<ReferenceCnn>(0.0));
      pack->load_copy(k, *singles.back());
      const auto& s = kSettings[k];
      optimizers.push_back(std::make_unique<torch::optim::SGD>(
          singles.back()->parameters(),
          torch::optim::SGDOptions(s.lr).momentum(s.sgd.momentum).dampening(s.sgd.dampening)
              .nesterov(s.sgd.nesterov).weight_decay(s.sgd.weight_decay)));
      settings.push_back(s.sgd);
    }
    pack->set_channels_last(true);
    packed = std::make_unique<PackedSgd>(pack->parameters(), settings);
  }

  // Forward and backward on both sides; returns the pack's per-copy losses.
  // Copies outside `stepping` add nothing to the pack's loss (as in the trainer).
  torch::Tensor backward(const torch::Tensor& x, const torch::Tensor& y,
                         const torch::Tensor& stepping, std::vector<float>* single_losses) {
    packed->zero_grad();
    const auto logits = pack->forward(x);
    const auto loss = F::cross_entropy(logits.reshape({-1, 10}), y.reshape({-1}),
                                       F::CrossEntropyFuncOptions().reduction(torch::kNone))
                          .view({K, -1})
                          .mean(1);
    torch::where(stepping, loss, torch::zeros_like(loss)).sum().backward();
    for (std::int64_t k = 0; k < K; ++k) {
      optimizers[k]->zero_grad();
      auto l = F::cross_entropy(singles[k]->forward(x[k]), y[k]);
      l.backward();
      single_losses->push_back(l.item<float>());
    }
    return loss.detach();
  }

  void expect_copy_matches(std::int64_t k, bool grads, const std::string& when) const {
    const auto mine = pack->named_parameters();
    for (const auto& item : singles[k]->named_parameters()) {
      const auto& p = mine[item.key()];
      const auto& ref = item.value();
      const auto slot = copy_view(p, K)[k].reshape(ref.sizes());
      EXPECT_TRUE(torch::allclose(slot, ref, 1e-4, 1e-6))
          << when << ": copy " << k << " " << item.key() << " max diff "
          << (slot - ref).abs().max().item<float>();
      if (!grads) continue;
      const auto g = copy_view(p.grad(), K)[k].reshape(ref.sizes());
      EXPECT_TRUE(torch::allclose(g, ref.grad(), 1e-4, 1e-5))
          << when << ": gradient of copy " << k << " " << item.key() << " max diff "
          << (g - ref.grad()).abs().max().item<float>();
    }
  }
};

torch::Tensor all_true(std::int64_t K) { return torch::ones({K}, torch::kBool); }

TEST(PackedSgd, StepsMatchTorchSgdPerCopy) {
  Twins t;
  torch::manual_seed(5);
  for (int step = 0; step < 3; ++step) {
    const auto x = torch::randn({t.K, 8, 3, 32, 32});
    const auto y = torch::randint(0, 10, {t.K, 8}, torch::kInt64);
    std::vector<float> single;
    const auto loss = t.backward(x, y, all_true(t.K), &single);
    std::vector<double> lr;
    for (std::int64_t k = 0; k < t.K; ++k) {
      EXPECT_NEAR(loss[k].item<float>(), single[k], 1e-5 * (1 + std::abs(single[k])));
      lr.push_back(kSettings[k].lr * (1.0 + 0.5 * step));  // a schedule: rates change per step
      for (auto& g : t.optimizers[k]->param_groups())
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr.back());
    }
    for (std::int64_t k = 0; k < t.K; ++k)
      t.expect_copy_matches(k, /*grads=*/true, "step " + std::to_string(step));
    for (auto& o : t.optimizers) o->step();
    t.packed->step(torch::tensor(lr, torch::kFloat64).to(torch::kFloat32), all_true(t.K));
    for (std::int64_t k = 0; k < t.K; ++k)
      t.expect_copy_matches(k, false, "after step " + std::to_string(step));
  }
}

TEST(PackedSgd, InactiveCopiesKeepWeightsAndMomentum) {
  Twins t;
  torch::manual_seed(6);
  const auto lr = torch::tensor({0.1, 0.05, 0.2, 0.01}, torch::kFloat32);
  std::vector<float> ignored;
  t.backward(torch::randn({t.K, 4, 3, 32, 32}), torch::randint(0, 10, {t.K, 4}), all_true(t.K),
             &ignored);
  t.packed->step(lr, all_true(t.K));
  std::vector<torch::Tensor> before;
  for (const auto& p : t.pack->parameters()) before.push_back(copy_view(p, t.K)[1].clone());
  std::vector<torch::Tensor> buffers_before;
  for (const auto& b : t.packed->buffers()) buffers_before.push_back(copy_view(b, t.K)[1].clone());

  const auto stepping = torch::tensor({true, false, true, true});
  t.backward(torch::randn({t.K, 4, 3, 32, 32}), torch::randint(0, 10, {t.K, 4}), stepping, &ignored);
  t.packed->step(lr, stepping);
  const auto params = t.pack->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(copy_view(params[i], t.K)[1], before[i]));
    EXPECT_TRUE(torch::equal(copy_view(t.packed->buffers()[i], t.K)[1], buffers_before[i]));
  }
}

TEST(PackedSgd, NanInOneCopyReachesNoOther) {
  Twins t;
  {
    torch::NoGradGuard no_grad;
    copy_view(t.pack->named_parameters()["fc2.weight"], t.K)[1].fill_(NAN);
  }
  torch::manual_seed(8);
  const auto x = torch::randn({t.K, 6, 3, 32, 32});
  const auto y = torch::randint(0, 10, {t.K, 6}, torch::kInt64);
  std::vector<float> single;
  // As the trainer does: a copy whose loss is not finite stops stepping.
  const auto loss = t.backward(x, y, all_true(t.K), &single);
  ASSERT_TRUE(std::isnan(loss[1].item<float>()));
  std::vector<float> dummy;
  const auto stepping = torch::isfinite(loss);
  t.backward(x, y, stepping, &dummy);
  const auto fc1_before = copy_view(t.pack->named_parameters()["fc1.weight"], t.K)[1].clone();
  std::vector<double> lr;
  for (const auto& s : kSettings) lr.push_back(s.lr);
  for (std::int64_t k : {0, 2, 3}) t.optimizers[k]->step();
  t.packed->step(torch::tensor(lr, torch::kFloat64).to(torch::kFloat32), stepping);
  for (std::int64_t k : {0, 2, 3}) t.expect_copy_matches(k, false, "after the NaN step");
  for (const auto& p : t.pack->parameters())
    for (std::int64_t k : {0, 2, 3})
      EXPECT_TRUE(torch::isfinite(copy_view(p, t.K)[k]).all().item<bool>());
  // The diverged copy is frozen: its finite weights did not move.
  EXPECT_TRUE(torch::equal(copy_view(t.pack->named_parameters()["fc1.weight"], t.K)[1], fc1_before));
}

}  // namespace
}  // namespace lrtune
