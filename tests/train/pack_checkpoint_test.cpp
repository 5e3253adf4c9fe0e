// A copy's checkpoint is a run_training checkpoint: its weights and momentum
// buffers land in a ReferenceCnn and a torch::optim::SGD, and come back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/packed_cnn.h"
#include "model/reference_cnn.h"
#include "optim/packed_sgd.h"
#include "support/test_support.h"
#include "train/checkpoint.h"
#include "train/pack_checkpoint.h"

#include <nlohmann/json.hpp>

namespace lrtune {
namespace {

struct SmallPack {
  PackedCnn model{3, 0.0};
  std::unique_ptr<PackedSgd> sgd;
  std::vector<TrainConfig> configs = std::vector<TrainConfig>(3);
  SmallPack() {
    configs[0].set("momentum", 0.9);
    configs[1].set("momentum", 0.0);
    configs[2].set("momentum", 0.5);
    configs[2].set("dampening", 0.1);
    std::vector<SgdSettings> s;
    for (std::int64_t k = 0; k < 3; ++k) {
      torch::manual_seed(k);
      ReferenceCnn single(0.0);
      model->load_copy(k, single);
      s.push_back({configs[k].real("momentum"), configs[k].real("dampening"), false, 0.0});
    }
    sgd = std::make_unique<PackedSgd>(model->parameters(), s);
  }
  // One step on random data: momentum buffers get content.
  void step() {
    sgd->zero_grad();
    const auto logits = model->forward(torch::randn({3, 4, 3, 32, 32}));
    logits.pow(2).mean().backward();
    sgd->step(torch::full({3}, 0.01), torch::ones({3}, torch::kBool));
  }
};

TEST(PackCheckpoint, CopiesBecomeRunTrainingCheckpointsAndComeBack) {
  test::TempDir dir;
  SmallPack a;
  a.step();
  const std::string path = (dir.path() / "copy0.pt").string();
  save_copy_checkpoint(path, a.model, *a.sgd, 0, a.configs[0], 7);

  // Read as run_training would: one momentum buffer per parameter.
  ReferenceCnn single(0.0);
  torch::optim::SGD plain(single.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const auto loaded = load_checkpoint(path, single, plain, a.configs[0], torch::kCPU);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->epoch, 7);
  EXPECT_EQ(plain.state().size(), 10u);

  // Into copy 2 of another pack: weights and momentum arrive unchanged.
  SmallPack b;
  b.configs[2] = a.configs[0];
  ASSERT_EQ(load_copy_checkpoint(path, b.model, *b.sgd, 2, b.configs[2], torch::kCPU), 7);
  const auto pa = a.model->parameters(), pb = b.model->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(copy_view(pa[i], 3)[0], copy_view(pb[i], 3)[2]));
    EXPECT_TRUE(torch::equal(copy_view(a.sgd->buffers()[i], 3)[0], copy_view(b.sgd->buffers()[i], 3)[2]));
  }
  EXPECT_TRUE(b.sgd->started()[2].item<bool>());
  EXPECT_FALSE(b.sgd->started()[0].item<bool>());

  // A copy without momentum writes no buffers and reads as "not started".
  save_copy_checkpoint(path, a.model, *a.sgd, 1, a.configs[1], 3);
  SmallPack c;
  ASSERT_EQ(load_copy_checkpoint(path, c.model, *c.sgd, 1, a.configs[1], torch::kCPU), 3);
  EXPECT_FALSE(c.sgd->started()[1].item<bool>());
  EXPECT_FALSE(load_copy_checkpoint((dir.path() / "none.pt").string(), c.model, *c.sgd, 0,
                                    a.configs[0], torch::kCPU));
}

TEST(PackCheckpoint, RefusesAnotherConfiguration) {
  test::TempDir dir;
  SmallPack a;
  const std::string path = (dir.path() / "c.pt").string();
  save_copy_checkpoint(path, a.model, *a.sgd, 0, a.configs[0], 1);
  TrainConfig other = a.configs[0];
  other.lr = 0.5;
  EXPECT_THROW(load_copy_checkpoint(path, a.model, *a.sgd, 0, other, torch::kCPU), StoreError);
}

}  // namespace
}  // namespace lrtune
