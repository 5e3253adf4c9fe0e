// TorchScript networks saved by Python (tests/tools/make_torchscript.py, with
// Debian's python3-torch): they train and learn, resume to the numbers of an
// uninterrupted run (batch-norm statistics included), switch dropout and batch
// norm with train()/eval(), take their file's content (not its path) into the
// trial's identity, and each mistake is one line: a wrong output shape, a file
// that is not TorchScript, an operation without a deterministic kernel.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "model/reference_cnn.h"
#include "model/torchscript.h"
#include "study/expand.h"
#include "support/test_support.h"
#include "support/train_support.h"
#include "train/trainer.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

const DataShape kShape{3, 8, 8, 4};

// The networks of make_torchscript.py for kShape, written once per test binary.
std::string script(const std::string& name) {
  static test::TempDir dir;
  static const bool made = [] {
    std::string out;
    const int rc = test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/make_torchscript.py' '" +
                                         dir.str() + "' 3 8 4",
                                     &out);
    EXPECT_EQ(rc, 0) << out;
    return rc == 0;
  }();
  (void)made;
  return (dir.path() / (name + ".pt")).string();
}

TrainConfig script_config(const std::string& file) {
  TrainConfig cfg = test::tiny_train_config();
  cfg.model = "torchscript";
  cfg.set("model_file", file);
  cfg.augment = "none";
  cfg.val_size = 40;
  cfg.batch_size = 16;
  cfg.epochs = 4;
  cfg.lr = 0.05;
  return cfg;
}

TEST(TorchScript, TrainsAndResumesToTheUninterruptedNumbers) {
  test::TempDir dir;
  const ImageDataset data = test::generated_blocks(kShape, 40);
  const TrainConfig cfg = script_config(script("scripted"));
  const auto straight = test::train_epochs(cfg, data, (dir.path() / "a.pt").string());
  ASSERT_EQ(straight.size(), 4u);
  EXPECT_GT(straight.back().val_acc, 0.9);
  EXPECT_GT(straight.back().test_acc, 0.9);
  EXPECT_LT(straight.back().train_loss, 0.5 * straight.front().train_loss);

  // Stopped during epoch 3 (8 steps an epoch), resumed from epoch 2's checkpoint.
  const std::string ckpt = (dir.path() / "b.pt").string();
  int polls = 0;
  RunOutcome first;
  auto part = test::train_epochs(cfg, data, ckpt, [&] { return ++polls > 2 * 8 + 3; }, &first);
  ASSERT_EQ(first.status, RunStatus::running);
  ASSERT_EQ(part.size(), 2u);
  const auto rest = test::train_epochs(cfg, data, ckpt);
  part.insert(part.end(), rest.begin(), rest.end());
  ASSERT_EQ(part.size(), straight.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].train_loss, straight[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(part[i].val_loss, straight[i].val_loss) << "epoch " << i + 1;
  }

  // A traced network trains too.
  TrainConfig traced = script_config(script("traced"));
  traced.epochs = 1;
  RunOutcome out;
  test::train_epochs(traced, data, (dir.path() / "t.pt").string(), nullptr, &out);
  EXPECT_EQ(out.status, RunStatus::done) << out.message;
}

TEST(TorchScript, ItsTensorsAndModesAreTheScripts) {
  TorchScriptNet net(script("scripted"), kShape);
  // conv (2), batch norm (2), fc (2) parameters; batch norm's 3 buffers.
  EXPECT_EQ(net.parameters().size(), 6u);
  EXPECT_EQ(net.buffers().size(), 3u);
  EXPECT_EQ(net.named_parameters().contains("features.1.weight"), true);
  torch::manual_seed(1);
  const auto x = torch::randn({5, 3, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast);
  torch::NoGradGuard no_grad;
  net.train();  // dropout draws new masks; batch norm uses the batch
  EXPECT_FALSE(torch::equal(net.forward(x), net.forward(x)));
  net.eval();
  const auto y = net.forward(x);
  EXPECT_TRUE(torch::equal(y, net.forward(x)));
  // Our tensors are the script's: changing one changes what the script computes.
  net.named_parameters()["fc.bias"].add_(1.0);
  EXPECT_TRUE(torch::allclose(net.forward(x), y + 1.0, 1e-5, 1e-5));
  net.named_buffers()["features.1.running_mean"].fill_(100.0);
  EXPECT_FALSE(torch::allclose(net.forward(x), y + 1.0, 1e-3, 1e-3));
}

// A script that view()s its activations cannot take channels-last tensors:
// it keeps contiguous weights and gets contiguous batches. One that reshapes
// takes the CPU's faster channels-last layout, weights and batches.
TEST(TorchScript, TakesChannelsLastOnlyWhereTheScriptAcceptsIt) {
  TorchScriptNet viewing(script("scripted"), kShape);
  EXPECT_FALSE(viewing.channels_last());
  for (const auto& p : viewing.parameters())
    if (p.dim() == 4) EXPECT_TRUE(p.is_contiguous());
  TorchScriptNet reshaping(script("reference"), kShape);
  EXPECT_TRUE(reshaping.channels_last());
  for (const auto& p : reshaping.parameters())
    if (p.dim() == 4) EXPECT_TRUE(p.is_contiguous(torch::MemoryFormat::ChannelsLast));
  // Both train from the trainer's batches, in any layout.
  const auto x = torch::randn({4, 3, 8, 8});
  for (Network* net : {static_cast<Network*>(&viewing), static_cast<Network*>(&reshaping)}) {
    net->train();
    net->forward(x).sum().backward();
    net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)).sum().backward();
  }
}

// lrtune's reference CNN written in PyTorch and scripted, given the native
// network's initial weights, takes the native network's first SGD step: the
// same loss, the same gradients and the same updated weights.
TEST(TorchScript, TheReferenceCnnAsAScriptTakesTheNativeFirstStep) {
  torch::manual_seed(5);
  ReferenceCnn native(kShape, /*dropout=*/0.0);
  TorchScriptNet script_net(script("reference"), kShape);
  auto theirs = script_net.named_parameters();
  ASSERT_EQ(theirs.size(), native.named_parameters().size());
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : native.named_parameters()) theirs[p.key()].copy_(p.value());
  }
  const auto x = torch::randn({16, 3, 8, 8});
  const auto y = torch::randint(0, 4, {16});
  auto step = [&](Network& net) {
    net.train();
    torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    sgd.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    sgd.step();
    return loss.item<double>();
  };
  EXPECT_NEAR(step(native), step(script_net), 1e-6);
  for (const auto& p : native.named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), theirs[p.key()], 1e-5, 1e-6))
        << p.key() << " " << (p.value() - theirs[p.key()]).abs().max().item<float>();
}

TEST(TorchScript, TheFilesContentIsTheTrialsIdentity) {
  test::TempDir dir;
  const fs::path a = dir.path() / "net.pt", b = dir.path() / "elsewhere" / "copy.pt";
  fs::create_directories(b.parent_path());
  fs::copy_file(script("scripted"), a);
  fs::copy_file(script("scripted"), b);
  const TrainConfig at_a = script_config(a.string()), at_b = script_config(b.string());
  EXPECT_EQ(trial_id(at_a), trial_id(at_b));  // the path is not identity
  EXPECT_EQ(identity_json(at_a).at("model_hash"), model_file_hash(a.string()));
  EXPECT_FALSE(identity_json(at_a).contains("model_file"));
  const nlohmann::json stored = to_json(at_a);

  // Another network in the same file: another trial, and the first trial's
  // stored configuration refuses to train what the file holds now.
  fs::copy_file(script("traced"), a, fs::copy_options::overwrite_existing);
  EXPECT_NE(trial_id(script_config(a.string())), trial_id(at_b));
  TrainConfig worker;
  apply_json(worker, stored, "stored");
  EXPECT_EQ(trial_id(worker), trial_id(at_b));  // the stored hash, not the file's
  try {
    build_model(worker, kShape);
    ADD_FAILURE() << "a changed model file was trained";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("its content changed since this trial was made"));
  }
}

TEST(TorchScript, EachMistakeIsOneLine) {
  auto message = [](const TrainConfig& cfg, const DataShape& shape) -> std::string {
    try {
      cfg.validate();
      build_model(cfg, shape);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(message(script_config(script("wrong")), kShape),
              HasSubstr("the network returned [2, 3]; expected [2, 4]"));
  // A 1-channel data set for a network made for 3 channels: LibTorch's reason, in one line.
  const std::string channels = message(script_config(script("scripted")), DataShape{1, 8, 8, 4});
  EXPECT_THAT(channels, HasSubstr("a batch of [2, 1, 8, 8] (1x8x8, 4 classes) fails in the network"));
  EXPECT_EQ(channels.find('\n'), std::string::npos) << channels;
  EXPECT_THAT(message(script_config(script("no_forward")), kShape), HasSubstr("has no forward method"));
  test::TempDir dir;
  std::ofstream(dir.path() / "not.pt") << "not a model";
  EXPECT_THAT(message(script_config((dir.path() / "not.pt").string()), kShape),
              HasSubstr("cannot load it as TorchScript"));
  EXPECT_THAT(message(script_config((dir.path() / "missing.pt").string()), kShape), HasSubstr("no such file"));
  TrainConfig none = script_config("");
  EXPECT_THAT(message(none, kShape), HasSubstr("model_file: is needed by model torchscript"));
}

TEST(TorchScript, AnOperationWithoutADeterministicKernelNamesTheKey) {
  test::TempDir dir;
  const ImageDataset data = test::generated_blocks(kShape, 40);
  TrainConfig cfg = script_config(script("put"));
  cfg.epochs = 1;
  try {
    test::train_epochs(cfg, data, (dir.path() / "a.pt").string());
    ADD_FAILURE() << "put_ ran under deterministic = true";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("put_ has no deterministic implementation"));
    EXPECT_THAT(e.what(), HasSubstr("set deterministic = false"));
  }
  cfg.deterministic = false;
  RunOutcome out;
  test::train_epochs(cfg, data, (dir.path() / "b.pt").string(), nullptr, &out);
  EXPECT_EQ(out.status, RunStatus::done) << out.message;
  cfg.deterministic = true;  // leave LibTorch's global setting as the other tests expect
  TrainConfig reset = script_config(script("scripted"));
  reset.epochs = 1;
  test::train_epochs(reset, data, (dir.path() / "c.pt").string());
}

}  // namespace
}  // namespace lrtune
