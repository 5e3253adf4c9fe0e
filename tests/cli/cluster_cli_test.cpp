// A study in PostgreSQL through the `lrtune` binary, on a throw-away server
// and tiny generated data: registered with `study create`, finished by two
// `study worker` processes, read back by status, export and report, moved
// to and from a study folder by `store copy`; and the one-line refusals of
// bad stores and study names. (The fault tests with hosts in network
// namespaces are scripts/cluster_faults.sh.)
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/postgres_server.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class PostgresCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path file = tmp.path() / "s.toml";

  void SetUp() override {
    test::write_tiny_cifar(data, /*per_file=*/100, /*n_test=*/100);
    std::ofstream(file) << "name = \"tiny\"\n[base]\nepochs = 3\nbatch_size = 50\n"
                           "val_size = 100\neval_batch_size = 100\ndevice = \"cpu\"\n"
                           "momentum = 0.9\nseed = 3\n"
                           "[[sweep]]\ngrid = { lr = [0.01, 0.03, 0.1] }\n";
  }
  int lrtune(const std::string& args, std::string* output) {
    return test::run_command("'" + test::lrtune_binary() + "' " + args + " 2>&1", output);
  }
  // Every exported row without its timing columns (seconds, images/s), which
  // differ from run to run; the rest must be identical.
  std::string exported(const std::string& what) {
    std::string csv;
    EXPECT_EQ(lrtune("study export " + what + " --format csv", &csv), 0) << csv;
    std::istringstream in(csv);
    std::string out;
    for (std::string line; std::getline(in, line);) {
      for (int cut = 0; cut < 2; ++cut) line = line.substr(0, line.rfind(','));
      out += line + "\n";
    }
    return out;
  }
  // The same study run by `study run` in a folder: what every store must end with.
  std::string reference() {
    std::string output;
    const fs::path dir = tmp.path() / "reference";
    EXPECT_EQ(lrtune("study run '" + file.string() + "' --jobs 1 --threads-per-job 1 --data '" +
                         data.string() + "' --out '" + dir.string() + "'",
                     &output), 0) << output;
    return exported("'" + dir.string() + "'");
  }
  static std::string store(const std::string& url) { return " --store '" + url + "'"; }
};

// A TorchScript network's study in PostgreSQL, finished by a worker on a
// "host" that has no copy of the model file: it trains from the store's copy.
TEST_F(PostgresCli, AWorkerWithoutTheModelFileTrainsTheStoresCopy) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("script");
  std::string output;
  const fs::path nets = tmp.path() / "nets";
  fs::create_directories(nets);
  ASSERT_EQ(test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/make_torchscript.py' '" +
                                  nets.string() + "' 3 32 10 2>&1",
                              &output),
            0)
      << output;
  const fs::path ts = tmp.path() / "ts.toml";
  std::ofstream(ts) << "name = \"ts\"\n[base]\nmodel = \"torchscript\"\nmodel_file = \""
                    << (nets / "scripted.pt").string()
                    << "\"\nepochs = 2\nbatch_size = 50\nval_size = 100\neval_batch_size = 100\n"
                       "augment = \"none\"\ndevice = \"cpu\"\n[[sweep]]\ngrid = { lr = [0.01, 0.03] }\n";
  ASSERT_EQ(lrtune("study create '" + ts.string() + "'" + store(url), &output), 0) << output;
  fs::remove_all(nets);  // the worker's host has no model file
  const fs::path host = tmp.path() / "h1";
  ASSERT_EQ(lrtune("study worker --study ts --threads 1 --data '" + data.string() + "' --dir '" +
                       host.string() + "'" + store(url),
                   &output),
            0)
      << output;
  const std::string csv = exported("ts" + store(url));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2) << csv;  // header, 2 trials x 2 epochs
  EXPECT_THAT(csv, AllOf(HasSubstr(",done,"), Not(HasSubstr("failed")))) << csv;
  ASSERT_TRUE(fs::exists(host / "models")) << output;
  EXPECT_EQ(std::distance(fs::directory_iterator(host / "models"), fs::directory_iterator()), 1);
}

TEST_F(PostgresCli, TwoWorkersJoiningACreatedStudyEndWithTheResultsOfStudyRun) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("cli");
  std::string output;
  ASSERT_EQ(lrtune("study create '" + file.string() + "'" + store(url), &output), 0) << output;
  EXPECT_THAT(output, AllOf(HasSubstr("registered in postgresql://"), HasSubstr("3 trial(s)"),
                            HasSubstr("lrtune study worker --store"), HasSubstr("--study tiny")));
  // Two hosts' workers: one names the store, the other has it in $LRTUNE_STORE.
  const std::string worker = "'" + test::lrtune_binary() + "' study worker --study tiny" +
                             " --threads 1 --data '" + data.string() + "'";
  ASSERT_EQ(test::run_command(
                "(" + worker + store(url) + " --dir '" + (tmp.path() / "h1").string() +
                    "' & p1=$!; LRTUNE_STORE='" + url + "' " + worker + " --dir '" +
                    (tmp.path() / "h2").string() + "' & p2=$!; wait $p1 && wait $p2) 2>&1",
                &output),
            0) << output;
  ASSERT_EQ(lrtune("study status tiny" + store(url), &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("3/3 trials finished"));
  EXPECT_EQ(exported("tiny" + store(url)), reference());
}

TEST_F(PostgresCli, StoreCopyMovesAFolderStudyToPostgresAndBackUnchanged) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("copy");
  const std::string expected = reference();
  const std::string folder = "'" + (tmp.path() / "reference").string() + "'";
  std::string output;
  ASSERT_EQ(lrtune("store copy " + folder + " '" + url + "'", &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("copied study 'tiny'"));
  EXPECT_THAT(output, HasSubstr("3 trials, 9 epochs, 3 checkpoints"));
  EXPECT_EQ(exported("tiny" + store(url)), expected);
  const std::string back = "'" + (tmp.path() / "back").string() + "'";
  ASSERT_EQ(lrtune("store copy '" + url + "' " + back, &output), 0) << output;
  EXPECT_EQ(exported(back), expected);
  // The same copy again would mix two studies: refused.
  EXPECT_EQ(lrtune("store copy " + folder + " '" + url + "'", &output), 1);
  EXPECT_THAT(output, HasSubstr("already holds study 'tiny'"));
  // And the report reads the study from the database.
  const fs::path report = tmp.path() / "report";
  ASSERT_EQ(lrtune("report tiny" + store(url) + " --no-figures --out '" + report.string() + "'",
                   &output), 0) << output;
  EXPECT_THAT(test::read_file(report / "index.html"), HasSubstr("lr=0.03"));
}

TEST_F(PostgresCli, BadStoresAndStudyNamesAreOneLineAndWriteNothing) {
  LRTUNE_REQUIRE_POSTGRES(server);
  const std::string url = server->create_database("bad");
  std::string output;
  // Not a PostgreSQL URL: a usage error.
  EXPECT_EQ(lrtune("study status tiny --store results.sqlite", &output), 2);
  EXPECT_THAT(output, HasSubstr("--store: expected a PostgreSQL URL"));
  // An empty database has no study to read, and stays empty.
  EXPECT_EQ(lrtune("study status tiny" + store(url), &output), 1);
  EXPECT_THAT(output, HasSubstr("holds no lrtune study yet"));
  ASSERT_EQ(lrtune("study create '" + file.string() + "'" + store(url), &output), 0) << output;
  for (const std::string& command :
       {"study status nope", "study export nope", "study worker --study nope"}) {
    EXPECT_EQ(lrtune(command + store(url), &output), 1) << command;
    EXPECT_THAT(output, AllOf(HasSubstr("has no study named 'nope' (its studies: 'tiny')"),
                              Not(HasSubstr("\n\n"))))
        << command;
  }
  const std::string closed = "postgresql://lrtune:secret@127.0.0.1:" +
                             std::to_string(test::free_local_port()) + "/results";
  EXPECT_EQ(lrtune("study create '" + file.string() + "'" + store(closed), &output), 1);
  EXPECT_THAT(output, AllOf(HasSubstr("cannot connect to PostgreSQL at 127.0.0.1:"),
                            Not(HasSubstr("secret"))));
  EXPECT_EQ(lrtune("study worker --threads 1" + store(url), &output), 2);
  EXPECT_THAT(output, HasSubstr("--study NAME"));
}

}  // namespace
}  // namespace lrtune
