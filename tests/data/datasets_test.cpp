// The dataset registry: cifar10 is a kind, its folder comes from `data`, then
// $LRTUNE_DATA, then its default, and what it loads carries its kind, class
// names and shape. Each kind states its default augmentation, which
// augment = "auto" (the default) uses and a trial's identity leaves out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "support/test_support.h"

namespace lrtune {
namespace {

TEST(Datasets, Cifar10IsAKindWithItsFolder) {
  ASSERT_FALSE(dataset_kinds().empty());
  EXPECT_EQ(dataset_kinds().front()->decl.name, "cifar10");
  TrainConfig cfg;
  EXPECT_EQ(cfg.dataset, "cifar10");
  ::setenv("LRTUNE_DATA", "/from/env", 1);
  EXPECT_EQ(data_folder(cfg), "/from/env");
  cfg.data = "/from/flag";
  EXPECT_EQ(data_folder(cfg), "/from/flag");
  ::unsetenv("LRTUNE_DATA");
  cfg.data = "";
  EXPECT_EQ(data_folder(cfg), "data/cifar-10-batches-bin");
  cfg.dataset = "nope";
  EXPECT_THROW(data_folder(cfg), ConfigError);
}

TEST(Datasets, ALoadedSetCarriesItsKindClassesAndShape) {
  test::TempDir dir;
  test::write_tiny_cifar(dir.path(), 20, 30);
  TrainConfig cfg;
  const ImageDataset d = load_dataset(cfg, dir.str());
  EXPECT_EQ(d.kind, "cifar10");
  EXPECT_EQ(d.shape(), (DataShape{3, 32, 32, 10}));
  EXPECT_EQ(d.class_names.front(), "airplane");
  EXPECT_EQ(d.class_names.back(), "truck");
  EXPECT_EQ(d.train.size(), 100);
  EXPECT_EQ(d.test.size(), 30);
  EXPECT_EQ(dataset_key(cfg), "cifar10");
}

TEST(Datasets, AutoAugmentationIsTheKindsDefault) {
  for (const auto* kind : dataset_kinds())
    EXPECT_TRUE(kind->decl.defaults.contains("augment")) << kind->decl.name << " states no default";
  TrainConfig cifar;
  EXPECT_EQ(cifar.augment, "auto");
  EXPECT_EQ(cifar.augmentation(), "flipcrop");
  TrainConfig digits;
  digits.dataset = "mnist";
  EXPECT_EQ(digits.augmentation(), "crop");  // a mirrored digit is another digit
  digits.augment = "flipcrop";
  EXPECT_EQ(digits.augmentation(), "flipcrop");
  EXPECT_EQ(to_json(digits)["augment"], "flipcrop");

  // The default, written or not, is not part of the identity: CIFAR-10's
  // trials keep their ids, and "auto" reads as what it means.
  TrainConfig written = cifar;
  written.augment = "flipcrop";
  EXPECT_EQ(identity_json(written), identity_json(cifar));
  EXPECT_EQ(to_json(cifar)["augment"], "flipcrop");
  TrainConfig none = cifar;
  none.augment = "none";
  EXPECT_EQ(identity_json(none), nlohmann::json({{"augment", "none"}}));
  TrainConfig digits_auto;
  digits_auto.dataset = "mnist";
  TrainConfig digits_crop = digits_auto;
  digits_crop.augment = "crop";
  EXPECT_EQ(identity_json(digits_auto), identity_json(digits_crop));
  EXPECT_FALSE(identity_json(digits_auto).contains("augment"));
  EXPECT_EQ(identity_json(digits)["augment"], "flipcrop");

  TrainConfig bad;
  bad.augment = "mirror";
  EXPECT_THROW(bad.validate(), ConfigError);
}

}  // namespace
}  // namespace lrtune
