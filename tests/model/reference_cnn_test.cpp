// The reference network's size and shape, and the model registry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/network.h"

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

TEST(ReferenceCnn, DropoutOnlyInTrainingMode) {
  auto m = build_model("reference_cnn");
  auto x = torch::randn({4, 3, 32, 32});
  m->eval();
  EXPECT_TRUE(torch::equal(m->forward(x), m->forward(x)));
  m->train();
  EXPECT_FALSE(torch::equal(m->forward(x), m->forward(x)));
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
