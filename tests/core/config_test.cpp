// TrainConfig: key table, validation messages, JSON/TOML/flag conversion.
#include <atomic>
#include <fstream>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/errors.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Config, DefaultsAreValid) { EXPECT_NO_THROW(TrainConfig{}.validate()); }

TEST(Config, ValidateNamesSourceAndKey) {
  TrainConfig c;
  c.lr = -0.1;
  EXPECT_THAT(error_of([&] { c.validate("run.toml"); }), HasSubstr("run.toml: lr: must be a positive"));
  c = TrainConfig{};
  c.schedule = "sawtooth";
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("unknown schedule 'sawtooth'"));
  c = TrainConfig{};
  c.set("nesterov", true);  // momentum 0
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("nesterov"));
  c = TrainConfig{};
  c.set("milestones", nlohmann::json::array({100, 50}));
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("milestones"));
  c = TrainConfig{};
  c.device = "tpu";
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("unknown device 'tpu'"));
}

// An epoch count no one trains would overflow the schedule's step count.
TEST(Config, EpochsAreBetweenOneAndAMillion) {
  TrainConfig c;
  c.epochs = 1000000;
  EXPECT_NO_THROW(c.validate());
  c.epochs = 1000001;
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("epochs: must be at most 1,000,000, got 1000001"));
  c.epochs = 0;
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("epochs: must be > 0, got 0"));
}

TEST(Config, ApplyJsonRejectsUnknownKeysAndWrongTypes) {
  TrainConfig c;
  EXPECT_THAT(error_of([&] { apply_json(c, {{"learning_rate", 0.1}}, "f.toml"); }),
              HasSubstr("f.toml: learning_rate: unknown key"));
  EXPECT_THAT(error_of([&] { apply_json(c, {{"lr", "fast"}}, "f.toml"); }),
              HasSubstr("lr: expected a number"));
  EXPECT_THAT(error_of([&] { apply_json(c, {{"epochs", 2.5}}, "f.toml"); }),
              HasSubstr("epochs: expected an integer"));
  EXPECT_THAT(error_of([&] { apply_json(c, {{"nesterov", 1}}, "f.toml"); }),
              HasSubstr("nesterov: expected true or false"));
}

TEST(Config, JsonRoundTripKeepsEveryField) {
  TrainConfig c;
  c.lr = 0.2;
  c.set("nesterov", true);
  c.set("momentum", 0.9);
  c.set("milestones", nlohmann::json::array({3, 7}));
  c.augment = "none";
  c.threads = 3;
  TrainConfig d;
  apply_json(d, to_json(c), "test");
  EXPECT_EQ(to_json(c), to_json(d));
}

TEST(Config, IdentityLeavesOutWhereItRuns) {
  TrainConfig a, b;
  b.threads = 7;
  b.device = "cpu";
  b.data = "/elsewhere";
  EXPECT_EQ(to_json(a, true), to_json(b, true));
  b.lr = 0.5;
  EXPECT_NE(to_json(a, true), to_json(b, true));
  EXPECT_FALSE(to_json(a, true).contains("threads"));
}

TEST(Config, ApplyTextParsesEachType) {
  TrainConfig c;
  apply_text(c, "lr", "0.05", "flag");
  apply_text(c, "nesterov", "on", "flag");
  apply_text(c, "milestones", "10,20,30", "flag");
  apply_text(c, "schedule", "cosine", "flag");
  apply_text(c, "epochs", "4", "flag");
  EXPECT_DOUBLE_EQ(c.lr, 0.05);
  EXPECT_TRUE(c.flag("nesterov"));
  EXPECT_EQ(c.int_list("milestones"), (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_EQ(c.schedule, "cosine");
  EXPECT_EQ(c.epochs, 4);
  EXPECT_THAT(error_of([&] { apply_text(c, "lr", "abc", "flag --lr"); }), HasSubstr("flag --lr: lr"));
}

TEST(Config, TomlFileLoadsAndReportsSyntaxErrorsWithLine) {
  test::TempDir dir;
  const auto good = dir.path() / "good.toml";
  std::ofstream(good) << "lr = 0.1\nmomentum = 0.9\nnesterov = true\nmilestones = [5, 9]\n";
  TrainConfig c;
  apply_toml_file(c, good.string());
  EXPECT_DOUBLE_EQ(c.lr, 0.1);
  EXPECT_TRUE(c.flag("nesterov"));
  EXPECT_EQ(c.int_list("milestones"), (std::vector<std::int64_t>{5, 9}));

  const auto bad = dir.path() / "bad.toml";
  std::ofstream(bad) << "lr = 0.1\nmomentum = \n";
  EXPECT_THAT(error_of([&] { apply_toml_file(c, bad.string()); }), HasSubstr("bad.toml:2:"));
  const auto unknown = dir.path() / "unknown.toml";
  std::ofstream(unknown) << "lrate = 0.1\n";
  EXPECT_THAT(error_of([&] { apply_toml_file(c, unknown.string()); }),
              HasSubstr("unknown.toml: lrate: unknown key"));
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

// A key the chosen kinds do not read would be shown and stored, and enter the
// trial's identity, yet train nothing different: refused, naming its readers.
TEST(Config, AKeyNoChosenKindReadsIsRefusedNamingTheKindsThatDo) {
  TrainConfig c;
  c.optimizer = "adam";
  c.set("momentum", 0.9);
  c.set("nesterov", true);
  EXPECT_EQ(keys_not_read(c), (std::vector<std::string>{"momentum", "nesterov"}));
  const std::string msg = error_of([&] { c.validate("run.toml"); });
  EXPECT_THAT(msg, HasSubstr("run.toml: momentum: is set, but optimizer adam, schedule constant"));
  EXPECT_THAT(msg, HasSubstr("read by optimizer sgd and optimizer rmsprop"));
  c = TrainConfig{};
  c.set("gamma", 0.5);  // a step schedule's key, with the constant schedule
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("gamma: is set, but"));
  c.schedule = "step";
  EXPECT_NO_THROW(c.validate());
  // Set to its default it changes nothing and is no error (a sweep that
  // resets momentum = 0 for adamw).
  c = TrainConfig{};
  c.optimizer = "adamw";
  c.set("momentum", 0.0);
  c.set("nesterov", false);
  EXPECT_TRUE(keys_not_read(c).empty());
  EXPECT_NO_THROW(c.validate());
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

// A kind declared after configurations were read (a plugin registering late,
// readers on other threads): its key becomes known, and what was read before
// (a field pointer, the table) stays valid and unchanged.
TEST(Config, AKindDeclaredAfterALookupIsKnownAndEarlierReadsStayValid) {
  const ConfigField* lr = find_config_field("lr");
  const std::vector<ConfigField>& before = config_fields();
  const std::size_t fields_before = before.size();
  std::atomic<bool> done{false};
  std::atomic<long> lookups{0};
  std::thread reader([&] {
    while (!done) {
      if (find_config_field("momentum") && find_declared_key("momentum")) ++lookups;
    }
  });
  // Declarations while the reader is at work, and the reader still at work after.
  ASSERT_TRUE(test::wait_until([&] { return lookups.load() > 0; }, 60));
  for (int i = 0; i < 20; ++i)
    declare_kind({"late", "late_" + std::to_string(i), "declared after a lookup",
                  {{"late_key_" + std::to_string(i), KeyType::real, 0.5, "", "a late key", true, {}}},
                  {}});
  const long after = lookups.load();
  const bool still_reading = test::wait_until([&] { return lookups.load() > after; }, 60);
  done = true;
  reader.join();
  EXPECT_TRUE(still_reading);
  EXPECT_EQ(lr->key(), "lr");
  EXPECT_EQ(before.size(), fields_before);
  ASSERT_NE(find_config_field("late_key_19"), nullptr);
  EXPECT_EQ(find_config_field("late_key_19")->owner, "late late_19");
  TrainConfig c;
  c.set("late_key_3", 0.25);
  EXPECT_DOUBLE_EQ(c.real("late_key_3"), 0.25);
}

}  // namespace
}  // namespace lrtune
