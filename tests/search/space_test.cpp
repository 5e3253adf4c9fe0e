// The [search] table: what it accepts, and one clear message for each mistake.
#include "search/space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"

namespace lrtune::search {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json example() {
  return json::parse(R"({
    "sampler": "tpe", "pruner": "asha", "trials": 64, "objective": "val_acc", "seed": 1,
    "space": {
      "lr": {"log_uniform": [1e-4, 1.0]},
      "momentum": {"uniform": [0.0, 0.99]},
      "nesterov": {"choice": [false, true], "when": "momentum > 0"},
      "batch_size": {"choice": [64, 128, 256]},
      "warmup_epochs": {"uniform": [0, 5], "step": 0.5},
      "epochs": {"uniform": [2, 10], "step": 2}
    }})");
}

std::string error_of(const json& table) {
  try {
    parse_search(table, "s.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

json with_space(const json& space, json table = json::object()) {
  table["trials"] = table.value("trials", 20);
  table["space"] = space;
  return table;
}

TEST(SearchSpace, TheExampleReadsWithEveryKind) {
  const SearchSpec s = parse_search(example(), "s.toml");
  EXPECT_EQ(s.sampler, "tpe");
  EXPECT_EQ(s.pruner, "asha");
  EXPECT_EQ(s.trials, 64);
  EXPECT_TRUE(s.maximize());
  EXPECT_EQ(s.seed, 1u);
  ASSERT_EQ(s.space.size(), 6u);
  EXPECT_EQ(s.space.back().key, "nesterov") << "conditional keys come last";
  const Param* lr = s.find("lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_TRUE(lr->log());
  const Param* epochs = s.find("epochs");
  EXPECT_TRUE(epochs->integer);
  EXPECT_EQ(epochs->step, 2);
  EXPECT_EQ(epochs->value(4.0), json(4));
  EXPECT_EQ(s.find("batch_size")->value(2), json(256));
  EXPECT_EQ(s.find("nesterov")->when->text(), "momentum > 0");
}

TEST(SearchSpace, AnIntegerKeyGetsWholeSteps) {
  const SearchSpec s = parse_search(with_space({{"batch_size", {{"uniform", {32, 256}}}}}), "s.toml");
  EXPECT_TRUE(s.space[0].integer);
  EXPECT_EQ(s.space[0].step, 1);
}

TEST(SearchSpace, AStepThatDoesNotDivideTheRangeEndsBelowHigh) {
  const SearchSpec s =
      parse_search(with_space({{"momentum", {{"uniform", {0.0, 0.95}}, {"step", 0.2}}}}), "s.toml");
  EXPECT_NEAR(s.space[0].high, 0.8, 1e-12);
}

TEST(SearchSpace, EachMistakeHasItsMessage) {
  EXPECT_THAT(error_of(with_space({{"lr", {{"normal", {0, 1}}}}})),
              HasSubstr("s.toml: search.space.lr: unknown distribution 'normal' (known: uniform, "
                        "log_uniform, choice"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.1, 0.1}}}}})),
              HasSubstr("search.space.lr.uniform: an empty or reversed range [0.1,0.1]"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {1.0, 0.1}}}}})),
              HasSubstr("an empty or reversed range"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"log_uniform", {0.0, 1.0}}}}})),
              HasSubstr("search.space.lr.log_uniform: a log range needs bounds above 0"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"log_uniform", {-1.0, 1.0}}}}})),
              HasSubstr("a log range needs bounds above 0"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"log_uniform", {1e-3, 1.0}}}}}, {{"sampler", "tpe"}, {"trials", 5}})),
              HasSubstr("search.trials: 5 is fewer than TPE's 10 random start-up trials (its default)"));
  EXPECT_THAT(error_of(with_space({{"learning_rate", {{"uniform", {0, 1}}}}})),
              HasSubstr("search.space.learning_rate: not a configuration key"));
  EXPECT_THAT(error_of(with_space({{"threads", {{"uniform", {1, 4}}}}})),
              HasSubstr("search.space.threads: does not change results"));
  EXPECT_THAT(error_of(with_space({{"momentum", {{"uniform", {0.0, 1.5}}}}})),
              HasSubstr("search.space.momentum.uniform[1]: must be in"));
  EXPECT_THAT(error_of(with_space({{"batch_size", {{"uniform", {16.5, 64}}}}})),
              HasSubstr("batch_size is an integer key: bounds must be whole"));
  EXPECT_THAT(error_of(with_space({{"nesterov", {{"uniform", {0, 1}}}}})),
              HasSubstr("a BOOL key takes choice = [...], not uniform"));
  EXPECT_THAT(error_of(with_space({{"nesterov", {{"choice", {false, true}}, {"when", "lr >> 0"}}}})),
              HasSubstr("search.space.nesterov.when: expected KEY OP NUMBER"));
  EXPECT_THAT(error_of(with_space({{"nesterov", {{"choice", {false, true}}, {"when", "momentum > 0"}}}})),
              HasSubstr("'momentum' must be a searched key without a condition of its own"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.1, 1}}, {"choice", {0.1}}}}})),
              HasSubstr("give one distribution, not"));
  EXPECT_THAT(error_of(with_space({{"batch_size", {{"choice", {64, 64}}}}})),
              HasSubstr("64 is listed twice"));
  EXPECT_THAT(error_of(with_space(json::object())), HasSubstr("search.space: missing or empty"));
  EXPECT_THAT(error_of({{"space", {{"lr", {{"uniform", {0.1, 1}}}}}}}),
              HasSubstr("search.trials: missing"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.1, 1}}}}}, {{"sampler", "grid"}})),
              HasSubstr("a grid is written as [[sweep]] tables"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.1, 1}}}}}, {{"pruner", "wilcoxon"}})),
              HasSubstr("search.pruner: unknown value 'wilcoxon' (known: none, median, asha, hyperband)"));
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.1, 1}}}}}, {{"budget", 3}})),
              HasSubstr("search.budget: unknown key"));
}

TEST(SearchSpace, IdentityLeavesOutTheBudget) {
  json a = example(), b = example();
  b["trials"] = 128;
  EXPECT_EQ(parse_search(a, "s").identity(), parse_search(b, "s").identity());
  b["space"]["lr"]["log_uniform"] = {1e-5, 1.0};
  EXPECT_NE(parse_search(a, "s").identity(), parse_search(b, "s").identity());
}

}  // namespace
}  // namespace lrtune::search

namespace lrtune::search {
namespace {

// Spaces that would search nothing, or say something false: one line each.
TEST(SearchSpace, ConditionsThatCanNeverHoldOrCompareWithNonNumbersAreRefused) {
  const json momentum = {{"uniform", {0.1, 0.9}}};
  const auto with_when = [&](const std::string& when) {
    return with_space({{"momentum", momentum},
                       {"nesterov", {{"choice", {false, true}}, {"when", when}}}});
  };
  EXPECT_THAT(error_of(with_when("momentum > 5")),
              HasSubstr("'momentum > 5' never holds over momentum's values"));
  EXPECT_THAT(error_of(with_when("momentum < 0.1")), HasSubstr("never holds"));
  EXPECT_THAT(error_of(with_when("momentum == 2")), HasSubstr("never holds"));
  for (const char* number : {"nan", "inf", "-inf"})
    EXPECT_THAT(error_of(with_when(std::string("momentum > ") + number)),
                HasSubstr("give a finite number")) << number;
  EXPECT_EQ(error_of(with_when("momentum >= 0.9")), "(no error)");
  EXPECT_EQ(error_of(with_when("momentum != 0.5")), "(no error)");
  // Over choices: some choice must meet it.
  EXPECT_THAT(error_of(with_space({{"momentum", {{"choice", {0.0, 0.5}}}},
                                   {"nesterov", {{"choice", {false, true}}, {"when", "momentum > 0.5"}}}})),
              HasSubstr("never holds"));
  // On a step grid, == must hit a grid value.
  EXPECT_THAT(error_of(with_space({{"warmup_epochs", {{"uniform", {0, 4}}, {"step", 2}}},
                                   {"lr", {{"uniform", {0.01, 0.1}}, {"when", "warmup_epochs == 1"}}}})),
              HasSubstr("never holds"));
}

TEST(SearchSpace, AStepWiderThanItsRangeAndIntegerBoundsPastInt64AreRefused) {
  EXPECT_THAT(error_of(with_space({{"lr", {{"uniform", {0.01, 0.02}}, {"step", 0.5}}}})),
              HasSubstr("a step of 0.5 is wider than the range [0.01,0.02]: every trial would take 0.01"));
  EXPECT_EQ(error_of(with_space({{"lr", {{"uniform", {0.01, 0.02}}, {"step", 0.01}}}})), "(no error)");
  EXPECT_THAT(error_of(with_space({{"seed", {{"uniform", {0, 1e19}}}}})),
              HasSubstr("bounds must fit a 64-bit integer"));
  EXPECT_THAT(error_of(with_space({{"seed", {{"uniform", {0, 1e19}}}}})),
              ::testing::Not(HasSubstr("-9223372036854775808")));
}

}  // namespace
}  // namespace lrtune::search
