// The TensorBoard export of a fabricated study, read back by an independent
// decoder (crcmod and protoc --decode_raw): file version first, scalars with
// their tags, steps and values, each trial's hyper-parameters and outcome.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/checksum.h"
#include "report/tensorboard.h"
#include "support/fake_store.h"
#include "support/tensorboard_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST(Checksum, Crc32cOfKnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC catalogue's check value
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720, B.4
  // TFRecord's mask: rotate right by 15, add 0xa282ead8.
  EXPECT_EQ(mask_crc32c(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
  EXPECT_EQ(masked_crc32c("123456789", 9), mask_crc32c(0xE3069283u));
}

// The fabricated study, its trials given configurations (threads: a key
// that says where a run goes, never a hyper-parameter).
std::unique_ptr<Store> configured_study() {
  auto store = test::fabricated_study();
  const double lrs[] = {0.1, 0.1, 0.5, 0.01, 0.001, 1, 0.2};
  for (std::size_t i = 0; i < store->records.size(); ++i)
    store->records[i].spec.config = {{"lr", lrs[i]}, {"momentum", 0.9}, {"nesterov", true},
                                     {"schedule", "step"}, {"threads", 2}};
  return store;
}

report::TensorBoardExport export_to(const fs::path& logdir) {
  return report::export_tensorboard(
      {"study-dir"}, [](const std::string&) { return configured_study(); }, logdir.string());
}

struct TensorBoardExport : ::testing::Test {
  test::TempDir tmp;
  fs::path logdir = tmp.path() / "logs";
  report::TensorBoardExport result;

  void SetUp() override {
    if (const std::string why = test::event_decoder_missing(); !why.empty()) GTEST_SKIP() << why;
    result = export_to(logdir);
  }
  std::vector<std::string> decode_run(const std::string& name) {
    const auto files = test::event_files(logdir / name);
    EXPECT_EQ(files.size(), 1u) << name;
    return files.empty() ? std::vector<std::string>{} : test::decode_event_file(files[0], tmp.path() / "records");
  }
};

TEST_F(TensorBoardExport, OneRunPerTrialWithEpochsNamedByLabel) {
  EXPECT_EQ(result.without_epochs, 1);  // "lr=0.001" is pending, with no epochs
  for (const char* name : {"lr=0.1 seed=1", "lr=0.1 seed=2", "lr=0.5", "lr=0.01", "lr=1"})
    EXPECT_TRUE(fs::is_directory(logdir / name)) << name;
  EXPECT_FALSE(fs::exists(logdir / "lr=0.001"));
  // A label with a "/" is one folder, not two.
  EXPECT_EQ(result.runs.size(), 6u);
  for (const auto& run : result.runs) EXPECT_EQ(run.find('/'), std::string::npos) << run;
}

TEST_F(TensorBoardExport, ScalarsPerEpochDecodeWithTheirTagsStepsAndValues) {
  const auto records = decode_run("lr=0.1 seed=2");
  ASSERT_EQ(records.size(), 1u + 1u + 5u + 1u);  // version, session start, 5 epochs, session end
  EXPECT_THAT(records[0], HasSubstr("3: \"brain.Event:2\""));
  const double val_acc[] = {0.42, 0.60, 0.69, 0.75, 0.83}, test_acc[] = {0.40, 0.61, 0.68, 0.74, 0.80};
  for (int e = 1; e <= 5; ++e) {
    const std::string& r = records[1 + e];
    EXPECT_EQ(test::decoded_step(r), e);
    const auto close = [](std::optional<float> got, double want) {
      return got && std::fabs(*got - want) <= 1e-6 * std::fabs(want);
    };
    EXPECT_TRUE(close(test::decoded_scalar(r, "val/acc"), val_acc[e - 1])) << r;
    EXPECT_TRUE(close(test::decoded_scalar(r, "test/acc"), test_acc[e - 1])) << r;
    EXPECT_TRUE(close(test::decoded_scalar(r, "lr"), static_cast<float>(0.1 / e))) << r;
    for (const char* tag : {"train/loss", "train/acc", "val/loss", "test/loss", "images_per_s"})
      EXPECT_TRUE(test::decoded_scalar(r, tag)) << tag;
  }
}

TEST_F(TensorBoardExport, HParamsSessionsCarryValuesAndOutcome) {
  const auto done = decode_run("lr=0.1 seed=1");
  ASSERT_GE(done.size(), 3u);
  const std::string& start = done[1];
  EXPECT_THAT(start, HasSubstr("1: \"_hparams_/session_start_info\""));
  EXPECT_THAT(start, HasSubstr("1: \"hparams\""));
  // hparams map entries: key, then Value {number_value = 2 | string_value = 3 | bool_value = 4}.
  EXPECT_THAT(start, HasSubstr("1: \"lr\""));
  EXPECT_THAT(start, HasSubstr("2: 0x3fb999999999999a"));  // 0.1 as a double
  EXPECT_THAT(start, HasSubstr("2: 0x3feccccccccccccd"));  // momentum 0.9
  EXPECT_THAT(start, HasSubstr("3: \"step\""));
  EXPECT_THAT(start, HasSubstr("4: 1"));                    // nesterov true
  EXPECT_THAT(start, Not(HasSubstr("threads")));           // where a run goes is no hyper-parameter
  EXPECT_THAT(done.back(), HasSubstr("_hparams_/session_end_info"));
  EXPECT_THAT(done.back(), HasSubstr("4 {\n            1: 1\n"));  // STATUS_SUCCESS

  const auto diverged = decode_run("lr=0.5");
  EXPECT_THAT(diverged.back(), HasSubstr("4 {\n            1: 2\n"));  // STATUS_FAILURE
  for (const auto& r : decode_run("lr=0.01"))  // still running: no end
    EXPECT_THAT(r, Not(HasSubstr("session_end_info")));
}

TEST_F(TensorBoardExport, TopLevelExperimentListsHParamsAndMetrics) {
  const auto files = test::event_files(logdir);
  ASSERT_EQ(files.size(), 1u);
  const auto records = test::decode_event_file(files[0], tmp.path() / "records");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0], HasSubstr("brain.Event:2"));
  const std::string& x = records[1];
  EXPECT_THAT(x, HasSubstr("1: \"_hparams_/experiment\""));
  EXPECT_THAT(x, HasSubstr("1: \"hparams\""));
  for (const char* key : {"\"lr\"", "\"momentum\"", "\"nesterov\"", "\"schedule\"", "\"val/acc\"",
                          "\"test/loss\""})
    EXPECT_THAT(x, HasSubstr(key));
  EXPECT_THAT(x, Not(HasSubstr("threads")));
}

TEST_F(TensorBoardExport, ExportingAgainReplacesItsFilesInsteadOfAddingSteps) {
  export_to(logdir);
  EXPECT_EQ(test::event_files(logdir).size(), 1u);
  EXPECT_EQ(test::event_files(logdir / "lr=0.5").size(), 1u);
}

TEST_F(TensorBoardExport, ALogDirThatCannotBeMadeIsOneClearError) {
  std::ofstream(tmp.path() / "file") << "x";
  try {
    export_to(tmp.path() / "file" / "logs");
    FAIL() << "no error";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("file/logs: cannot create the TensorBoard folder"));
  }
}

}  // namespace
}  // namespace lrtune

namespace lrtune {
namespace {

// Labels longer than a file name may be (a folder of an earlier release, or
// a grid over many keys): each run is still one folder, short enough for any
// file system and distinct, and the export does not fail half-way.
TEST(TensorBoardExportNames, LabelsTooLongForAFileNameGetBoundedDistinctFolders) {
  test::TempDir tmp;
  const auto export_long = [&] {
    auto store = test::fabricated_study();
    store->records[0].spec.label = std::string(300, 'a');
    store->records[1].spec.label = std::string(5000, 'a');
    return std::unique_ptr<Store>(std::move(store));
  };
  const auto result = report::export_tensorboard(
      {"study-dir"}, [&](const std::string&) { return export_long(); }, (tmp.path() / "logs").string());
  EXPECT_EQ(result.runs.size(), 6u);
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(tmp.path() / "logs")) {
    const std::string name = entry.path().filename().string();
    EXPECT_LE(name.size(), 120u);
    names.insert(name);
  }
  EXPECT_EQ(names.count(std::string(300, 'a')), 0u);
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.rfind(std::string(100, 'a'), 0) == 0; }),
            2);
}

}  // namespace
}  // namespace lrtune
