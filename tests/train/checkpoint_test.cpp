// Checkpoint files: a damaged one is refused naming the file; one written
// without a checksum (lrtune before 0.3) still loads.
#include "train/checkpoint.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"
#include "optim/optimizer.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

struct CheckpointChecksum : ::testing::Test {
  test::TempDir tmp;
  TrainConfig cfg;
  std::shared_ptr<Network> model;
  std::unique_ptr<TrainOptimizer> optimizer;
  void SetUp() override {
    cfg.device = "cpu";
    cfg.set("momentum", 0.9);
    model = build_model(cfg);
    optimizer = build_optimizer(model->parameters(), cfg);
  }
  std::string path(const std::string& name) const { return (tmp.path() / name).string(); }
};

std::string bytes_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_F(CheckpointChecksum, InvertedBytesAreRefusedNamingTheFile) {
  const std::string file = path("checkpoint.pt");
  save_checkpoint(file, *model, optimizer->torch(), 2, cfg);
  std::string bytes = bytes_of(file);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 400; ++i) bytes[i] = ~bytes[i];
  write_bytes(file, bytes);
  try {
    load_checkpoint(file, *model, optimizer->torch(), cfg, torch::kCPU);
    FAIL() << "a damaged checkpoint loaded";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file + ": damaged checkpoint (checksum mismatch)", 0), 0u)
        << e.what();
  }
}

TEST_F(CheckpointChecksum, CutShortIsRefused) {
  const std::string file = path("checkpoint.pt");
  save_checkpoint(file, *model, optimizer->torch(), 2, cfg);
  const std::string bytes = bytes_of(file);
  write_bytes(file, bytes.substr(0, bytes.size() - 1000));
  EXPECT_THROW(load_checkpoint(file, *model, optimizer->torch(), cfg, torch::kCPU), StoreError);
}

TEST_F(CheckpointChecksum, IntactCheckpointLoadsItsEpochAndLeavesNoTemporary) {
  const std::string file = path("checkpoint.pt");
  save_checkpoint(file, *model, optimizer->torch(), 3, cfg);
  EXPECT_FALSE(fs::exists(file + ".tmp"));
  const auto loaded = load_checkpoint(file, *model, optimizer->torch(), cfg, torch::kCPU);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->epoch, 3);
}

// What lrtune 0.1 and 0.2 wrote: the torch archive alone, no checksum.
TEST_F(CheckpointChecksum, ArchiveWithoutChecksumStillLoads) {
  const std::string file = path("old.pt");
  torch::serialize::OutputArchive archive, m, o;
  model->save(m);
  optimizer->torch().save(o);
  archive.write("model", m);
  archive.write("optimizer", o);
  archive.write("epoch", torch::tensor(std::int64_t{4}, torch::kInt64));
  archive.write("config", c10::IValue(identity_json(cfg).dump()));
  archive.save_to(file);
  const auto loaded = load_checkpoint(file, *model, optimizer->torch(), cfg, torch::kCPU);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->epoch, 4);
}

}  // namespace
}  // namespace lrtune
