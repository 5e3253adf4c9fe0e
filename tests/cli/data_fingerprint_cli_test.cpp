// The data is not part of a trial's identity, but each trial records which
// copy it trained on, and a study whose trials used different copies says so:
// one warning line in `lrtune study status` and `lrtune report`.
#include <algorithm>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/assets.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr const char* kMixed = "warning: these trials were trained on 2 different copies of the data";

std::string lrtune(const std::string& args) { return test::lrtune_binary() + " " + args; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct DataFingerprint : ::testing::Test {
  test::TempDir tmp;
  fs::path copy_a = tmp.path() / "a", copy_b = tmp.path() / "b", out = tmp.path() / "out";
  void SetUp() override {
    test::write_tiny_cifar(copy_a, 60, 100, /*seed=*/7);
    test::write_tiny_cifar(copy_b, 60, 100, /*seed=*/8);  // another copy: other bytes
  }
  fs::path study_file(const std::string& lrs) {
    const fs::path file = tmp.path() / "fp.toml";
    std::ofstream(file) << "name = \"fp\"\n[base]\nepochs = 1\nbatch_size = 25\nval_size = 50\n"
                           "device = \"cpu\"\n[[sweep]]\ngrid = { lr = [" << lrs << "] }\n";
    return file;
  }
  std::string run(const std::string& args) {
    std::string text;
    EXPECT_EQ(test::run_command(lrtune(args), &text), 0) << args << "\n" << text;
    return text;
  }
};

TEST_F(DataFingerprint, AStudyOnTwoCopiesOfTheDataWarnsOnce) {
  const std::string flags = " --threads-per-job 1 --out " + out.string();
  run("study run " + study_file("0.01").string() + " --data " + copy_a.string() + flags);
  EXPECT_THAT(run("study status " + out.string()), Not(HasSubstr("warning")));

  // The same trial on the other copy keeps its id (it is skipped as done);
  // the new trial trains on copy b.
  const std::string second =
      run("study run " + study_file("0.01, 0.02").string() + " --data " + copy_b.string() + flags);
  EXPECT_THAT(second, HasSubstr("1 already finished"));
  EXPECT_EQ(count(second, kMixed), 1u) << second;  // the table that ends the run

  const std::string status = run("study status " + out.string());
  EXPECT_EQ(count(status, kMixed), 1u) << status;
  EXPECT_THAT(status, HasSubstr(": 1 trial; "));

  // Each trial's folder records its copy in config.json.
  std::vector<std::string> prints;
  for (const auto& entry : fs::directory_iterator(out / "trials")) {
    const auto config = nlohmann::json::parse(test::read_file(entry.path() / "config.json"));
    prints.push_back(config.at("provenance").value("data_fingerprint", ""));
  }
  ASSERT_EQ(prints.size(), 2u);
  EXPECT_EQ(prints[0].size(), 16u);
  EXPECT_NE(prints[0], prints[1]);

  if (report::page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  const std::string report = run("report " + out.string() + " --no-figures");
  EXPECT_EQ(count(report, kMixed), 1u) << report;
}

}  // namespace
}  // namespace lrtune
