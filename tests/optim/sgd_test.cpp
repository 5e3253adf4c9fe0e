// SGD with PyTorch semantics, checked against hand computation on one weight.
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace lrtune {
namespace {

// Loss = 0.5 * a * w^2 so the gradient is a * w. Two steps exercise the
// momentum buffer: PyTorch's rule is b1 = g1, b2 = mu*b1 + (1-d)*g2;
// plain momentum steps by b, Nesterov by g + mu*b.
struct Hand {
  double lr, mu, wd;
  bool nesterov;
  double run(double w, double a) const {
    double b = 0;
    for (int t = 0; t < 2; ++t) {
      double g = a * w + wd * w;
      b = t == 0 ? g : mu * b + g;
      w -= lr * (nesterov ? g + mu * b : b);
    }
    return w;
  }
};

double torch_run(const Hand& h, double w0, double a) {
  auto w = torch::tensor({w0}, torch::dtype(torch::kFloat64).requires_grad(true));
  torch::optim::SGD opt({w}, torch::optim::SGDOptions(h.lr).momentum(h.mu).nesterov(h.nesterov).weight_decay(h.wd));
  for (int t = 0; t < 2; ++t) {
    opt.zero_grad();
    auto loss = 0.5 * a * w * w;
    loss.sum().backward();
    opt.step();
  }
  return w.item<double>();
}

TEST(Sgd, MomentumMatchesHandComputation) {
  Hand h{0.1, 0.9, 0.0, false};
  // By hand: g1 = 2*1.5 = 3, w1 = 1.5 - 0.3 = 1.2; g2 = 2.4, b2 = 2.7 + 2.4 = 5.1, w2 = 1.2 - 0.51 = 0.69
  EXPECT_NEAR(h.run(1.5, 2.0), 0.69, 1e-12);
  EXPECT_NEAR(torch_run(h, 1.5, 2.0), 0.69, 1e-12);
}

TEST(Sgd, NesterovMatchesHandComputation) {
  Hand h{0.1, 0.9, 0.0, true};
  // g1 = 3, b1 = 3, w1 = 1.5 - 0.1*(3 + 2.7) = 0.93; g2 = 1.86, b2 = 2.7 + 1.86 = 4.56,
  // w2 = 0.93 - 0.1*(1.86 + 4.104) = 0.3336
  EXPECT_NEAR(h.run(1.5, 2.0), 0.3336, 1e-12);
  EXPECT_NEAR(torch_run(h, 1.5, 2.0), 0.3336, 1e-12);
}

TEST(Sgd, WeightDecayAddsToTheGradient) {
  Hand h{0.05, 0.5, 0.1, false};
  EXPECT_NEAR(torch_run(h, -2.0, 3.0), h.run(-2.0, 3.0), 1e-12);
}

}  // namespace
}  // namespace lrtune
