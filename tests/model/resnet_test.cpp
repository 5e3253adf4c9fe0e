// ResNet-18 against its peer, torchvision's resnet18 in CIFAR form (Debian's
// python3-torchvision: 3x3 stem, no max-pool): the same parameter and buffer
// names and shapes, the same count, and the same evaluation-mode logits from
// the same weights and batch-norm statistics. Then it trains: it learns
// generated data, and a run stopped and resumed from its checkpoint (batch
// norm's running statistics included) equals one that never stopped.
#include <fstream>
#include <iterator>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "model/resnet.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

// The peer's file: {"state": {name: tensor}, "x": input, "y": logits, "parameters": count}.
c10::Dict<c10::IValue, c10::IValue> peer(const test::TempDir& dir) {
  const std::string file = (dir.path() / "resnet18.pt").string();
  std::string out;
  const int rc = test::run_command(
      "/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/resnet18_reference.py' '" + file + "'", &out);
  EXPECT_EQ(rc, 0) << out;
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

TEST(ResNet18, IsTorchvisionsCifarResNet18) {
  test::TempDir dir;
  const auto file = peer(dir);
  ASSERT_FALSE(file.empty());
  ResNet18 net;
  EXPECT_EQ(parameter_count(net), 11173962);
  EXPECT_EQ(parameter_count(net), file.at("parameters").toInt());

  std::map<std::string, torch::Tensor> ours;
  for (const auto& p : net.named_parameters()) ours[p.key()] = p.value();
  for (const auto& b : net.named_buffers()) ours[b.key()] = b.value();
  const auto state = file.at("state").toGenericDict();
  EXPECT_EQ(ours.size(), state.size());
  torch::NoGradGuard no_grad;
  for (const auto& item : state) {
    const std::string name = item.key().toStringRef();
    const auto it = ours.find(name);
    ASSERT_NE(it, ours.end()) << "no " << name;
    const torch::Tensor theirs = item.value().toTensor();
    ASSERT_EQ(it->second.sizes(), theirs.sizes()) << name;
    it->second.copy_(theirs);
  }
  net.eval();
  const torch::Tensor logits = net.forward(file.at("x").toTensor());
  const torch::Tensor expected = file.at("y").toTensor();
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-4, 1e-4))
      << (logits - expected).abs().max().item<float>();
}

TEST(ResNet18, TakesTheDataShapeAndRefusesTinyImages) {
  ResNet18 grey(DataShape{1, 28, 28, 100});
  torch::NoGradGuard no_grad;
  grey.eval();
  EXPECT_EQ(grey.forward(torch::randn({2, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{2, 100}));
  EXPECT_THROW(ResNet18(DataShape{3, 4, 4, 10}), ConfigError);
  TrainConfig cfg;
  cfg.model = "resnet18";
  EXPECT_EQ(parameter_count(*build_model(cfg, DataShape{3, 32, 32, 100})), 11173962 + 90 * 513);
}

// 8x8 colour images of 4 classes (1x1 after the last stage): small enough for
// ResNet-18 to train in seconds on one thread.
TrainConfig resnet_config() {
  TrainConfig cfg = test::tiny_train_config();
  cfg.model = "resnet18";
  cfg.augment = "none";
  cfg.val_size = 40;
  cfg.batch_size = 16;
  cfg.epochs = 3;
  cfg.lr = 0.01;
  return cfg;
}

TEST(ResNet18, LearnsAndResumesWithItsBatchNormStatistics) {
  test::TempDir dir;
  const ImageDataset data = test::generated_blocks({3, 8, 8, 4}, 40);
  const TrainConfig cfg = resnet_config();
  const auto straight = test::train_epochs(cfg, data, (dir.path() / "a.pt").string());
  ASSERT_EQ(straight.size(), 3u);
  EXPECT_GT(straight.back().val_acc, 0.9);
  EXPECT_GT(straight.back().test_acc, 0.9);

  // Stopped during epoch 2 (8 steps an epoch), then resumed from the checkpoint
  // of epoch 1: the same numbers only if the running statistics came back too.
  const std::string ckpt = (dir.path() / "b.pt").string();
  int polls = 0;
  RunOutcome first;
  auto part = test::train_epochs(cfg, data, ckpt, [&] { return ++polls > 8 + 3; }, &first);
  ASSERT_EQ(first.status, RunStatus::running);
  ASSERT_EQ(part.size(), 1u);
  const auto rest = test::train_epochs(cfg, data, ckpt);
  part.insert(part.end(), rest.begin(), rest.end());
  ASSERT_EQ(part.size(), straight.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].train_loss, straight[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(part[i].val_loss, straight[i].val_loss) << "epoch " << i + 1;
    EXPECT_EQ(part[i].test_acc, straight[i].test_acc) << "epoch " << i + 1;
  }
}

}  // namespace
}  // namespace lrtune
