// Study files: what they accept, and errors that name the file and the key.
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "study/study_file.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::AllOf;
using ::testing::HasSubstr;

class StudyFileTest : public ::testing::Test {
 protected:
  test::TempDir tmp;

  std::string write(const std::string& text) {
    const std::string path = (tmp.path() / "s.toml").string();
    std::ofstream(path) << text;
    return path;
  }

  // The message of the ConfigError reading `text` throws.
  std::string error_of(const std::string& text) {
    const std::string path = write(text);
    try {
      read_study_file(path);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }
};

TEST_F(StudyFileTest, ReadsEveryPart) {
  const Study st = read_study_file(write(R"(
name = "part2-momentum"
description = "momentum off vs on"
repeats = 3
[base]
lr = 0.01
epochs = 100
[[sweep]]
name = "a"
grid = { momentum = [0.0, 0.9], batch_size = [64, 128] }
[[sweep]]
set = { lr = 0.1 }
zip = { momentum = [0.5, 0.9], nesterov = [false, true] }
)"));
  EXPECT_EQ(st.name, "part2-momentum");
  EXPECT_EQ(st.description, "momentum off vs on");
  EXPECT_EQ(st.repeats, 3);
  EXPECT_EQ(st.base["epochs"], 100);
  ASSERT_EQ(st.sweeps.size(), 2u);
  EXPECT_EQ(st.sweeps[0].name, "a");
  ASSERT_EQ(st.sweeps[0].grid.size(), 2u);
  EXPECT_EQ(st.sweeps[0].grid[0].first, "batch_size");  // keys in sorted order
  EXPECT_EQ(st.sweeps[0].grid[1].second.size(), 2u);
  EXPECT_EQ(st.sweeps[1].set["lr"], 0.1);
  ASSERT_EQ(st.sweeps[1].zips.size(), 1u);
  EXPECT_EQ(st.sweeps[1].zips[0].size(), 2u);
  EXPECT_EQ(st.source["name"], "part2-momentum");
}

TEST_F(StudyFileTest, SweepsAreOptional) {
  const Study st = read_study_file(write("name = \"one\"\n[base]\nepochs = 2\n"));
  EXPECT_TRUE(st.sweeps.empty());
  EXPECT_EQ(st.repeats, 1);
}

TEST_F(StudyFileTest, ZipMayBeSeveralGroups) {
  const Study st = read_study_file(write(R"(
name = "z"
[[sweep]]
zip = [ { momentum = [0.5, 0.9], nesterov = [false, true] }, { lr = [0.1], epochs = [3] } ]
)"));
  ASSERT_EQ(st.sweeps[0].zips.size(), 2u);
}

TEST_F(StudyFileTest, UnknownKeysAreErrors) {
  EXPECT_THAT(error_of("name = \"x\"\nfoo = 1\n"), AllOf(HasSubstr("s.toml"), HasSubstr("foo"),
                                                         HasSubstr("unknown key")));
  EXPECT_THAT(error_of("name = \"x\"\n[base]\nlearning_rate = 0.1\n"),
              AllOf(HasSubstr("s.toml: base: learning_rate: unknown key")));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { lr = [0.1] }\ncross = 1\n"),
              HasSubstr("s.toml: sweep[1].cross: unknown key"));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { learning_rate = [0.1] }\n"),
              HasSubstr("s.toml: sweep[1].grid.learning_rate: unknown key"));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid={lr=[0.1]}\n[[sweep]]\nzip = { mom = [1] }\n"),
              HasSubstr("s.toml: sweep[2].zip.mom: unknown key"));
}

TEST_F(StudyFileTest, EmptyGridsAreErrors) {
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { lr = [] }\n"),
              HasSubstr("s.toml: sweep[1].grid.lr: empty list"));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = {}\n"),
              HasSubstr("s.toml: sweep[1].grid: empty"));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\nname = \"nothing\"\n"),
              HasSubstr("s.toml: sweep[1]: empty sweep"));
}

TEST_F(StudyFileTest, WrongTypesAreErrors) {
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { lr = [0.1, \"fast\"] }\n"),
              AllOf(HasSubstr("s.toml: sweep[1].grid"), HasSubstr("lr: expected a number")));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { lr = 0.1 }\n"),
              HasSubstr("sweep[1].grid.lr: expected a list of values"));
  EXPECT_THAT(error_of("name = \"x\"\n[base]\nepochs = \"many\"\n"),
              HasSubstr("s.toml: base: epochs: expected an integer"));
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\nset = { nesterov = 1 }\n"),
              HasSubstr("sweep[1].set: nesterov: expected true or false"));
  EXPECT_THAT(error_of("name = \"x\"\nrepeats = 0\n"), HasSubstr("s.toml: repeats"));
  EXPECT_THAT(error_of("name = \"x\"\nsweep = 3\n"), HasSubstr("s.toml: sweep"));
  EXPECT_THAT(error_of("name = 5\n"), HasSubstr("s.toml: name: expected a string"));
}

TEST_F(StudyFileTest, ZipListsMustHaveEqualLengths) {
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\nzip = { momentum = [0.5, 0.9], nesterov = [true] }\n"),
              AllOf(HasSubstr("s.toml: sweep[1].zip."), HasSubstr("equal lengths")));
}

TEST_F(StudyFileTest, NameIsRequiredAndMakesAFolderName) {
  EXPECT_THAT(error_of("[base]\nlr = 0.1\n"), HasSubstr("s.toml: name: missing"));
  EXPECT_THAT(error_of("name = \"../escape\"\n"), HasSubstr("s.toml: name"));
}

TEST_F(StudyFileTest, SweepingWhatDoesNotChangeResultsIsAnError) {
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\ngrid = { threads = [1, 2] }\n"),
              AllOf(HasSubstr("sweep[1].grid.threads"), HasSubstr("not part of a trial's identity")));
}

TEST_F(StudyFileTest, AKeySweptTwiceInOneSweepIsAnError) {
  EXPECT_THAT(error_of("name = \"x\"\n[[sweep]]\nset = { lr = 0.1 }\ngrid = { lr = [0.2] }\n"),
              HasSubstr("sweep[1].lr: appears more than once"));
}

TEST_F(StudyFileTest, TomlSyntaxErrorsNameFileAndLine) {
  EXPECT_THAT(error_of("name = \"x\"\n[base\n"), HasSubstr("s.toml:2:"));
}

TEST_F(StudyFileTest, ASearchTableMakesASearchStudy) {
  const Study st = read_study_file(write(R"(
name = "s"
[base]
epochs = 3
[search]
trials = 12
[search.space]
lr = { log_uniform = [1e-4, 1.0] }
)"));
  ASSERT_TRUE(st.search);
  EXPECT_EQ(st.search->trials, 12);
  EXPECT_TRUE(st.sweeps.empty());
  ASSERT_EQ(st.search->space.size(), 1u);
  EXPECT_TRUE(st.search->space[0].log());
}

TEST_F(StudyFileTest, AKeySweptAndSearchedIsAnErrorNamingIt) {
  EXPECT_THAT(error_of(R"(
name = "s"
[[sweep]]
grid = { lr = [0.1, 0.01] }
[search]
trials = 12
[search.space]
lr = { log_uniform = [1e-4, 1.0] }
)"), AllOf(HasSubstr("s.toml: sweep[1].lr"), HasSubstr("also searched")));
}

TEST_F(StudyFileTest, SweepsBesideASearchAndRepeatsAreErrors) {
  EXPECT_THAT(error_of(R"(
name = "s"
[[sweep]]
grid = { momentum = [0.0, 0.9] }
[search]
trials = 12
[search.space]
lr = { log_uniform = [1e-4, 1.0] }
)"), AllOf(HasSubstr("s.toml: sweep"), HasSubstr("either sweeps")));
  EXPECT_THAT(error_of(R"(
name = "s"
repeats = 3
[search]
trials = 12
[search.space]
lr = { log_uniform = [1e-4, 1.0] }
)"), AllOf(HasSubstr("s.toml: repeats"), HasSubstr("seed to [search.space]")));
}

// Names become folders and the start of labels (file names in exports and
// reports): dots alone, and names past 100 characters, are refused up front.
TEST_F(StudyFileTest, NamesOfDotsOnlyOrTooLongForAFolderAreRefused) {
  EXPECT_THAT(error_of("name = \"..\"\n"), HasSubstr("is the current or parent folder"));
  EXPECT_THAT(error_of("name = \"...\"\n"), HasSubstr("'...' is only dots"));
  EXPECT_THAT(error_of("name = \"" + std::string(300, 'a') + "\"\n"),
              HasSubstr("name: is 300 characters long; at most 100"));
  EXPECT_THAT(error_of("name = \"s\"\n[[sweep]]\nname = \"" + std::string(5000, 'b') +
                       "\"\ngrid = { lr = [0.1, 0.2] }\n"),
              HasSubstr("sweep[1].name: is 5000 characters long; at most 100"));
  EXPECT_EQ(error_of("name = \"" + std::string(100, 'a') + "\"\n"), "(no error)");
}

}  // namespace
}  // namespace lrtune
