// A study of a TorchScript network keeps the model file in its store when it
// is registered, and workers train the bytes each trial was made with: from
// the file while it holds them, else from the store's copy (a host without
// the file, or a file changed since). Through the real registration, SQLite
// store, worker loop and trainer; and a study of such a network stopped
// mid-trial resumes to an uninterrupted run's numbers.
#include <filesystem>
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/process.h"
#include "model/torchscript.h"
#include "store/store.h"
#include "study/study_run.h"
#include "study/torch_pack_runner.h"
#include "study/trial_source.h"
#include "study/worker.h"
#include "support/test_support.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

class ModelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    ASSERT_EQ(test::run_command("/usr/bin/python3 '" LRTUNE_SOURCE_DIR "/tests/tools/make_torchscript.py' '" +
                                    nets.str() + "' 3 32 10",
                                &log),
              0)
        << log;
    fs::copy_file(nets.path() / "scripted.pt", model);
    write_study(study_file, 2);
  }

  // The study of the TorchScript network (batch norm, dropout): two learning
  // rates, `epochs` epochs of 3 steps each.
  void write_study(const fs::path& file, int epochs) const {
    std::ofstream(file) << "name = \"script\"\n[base]\nmodel = \"torchscript\"\nmodel_file = \""
                        << model.string() << "\"\nepochs = " << epochs
                        << "\nbatch_size = 50\nval_size = 50\neval_batch_size = 100\n"
                           "augment = \"none\"\ndevice = \"cpu\"\nthreads = 1\ndata = \""
                        << tiny.dir.str() << "\"\n[[sweep]]\ngrid = { lr = [0.02, 0.05] }\n";
  }

  // Runs the study's trials with one worker until they are done or
  // `should_stop` says stop (polled at every training step, as Ctrl-C is).
  WorkerSummary work(RegisteredStudy& r,
                     const std::function<bool()>& should_stop = [] { return false; }) {
    GridSource grid(r.expansion.ids());
    TorchPackRunner runner(TorchRunnerOptions{1, "cpu", tiny.dir.str()});
    WorkerOptions wo;
    wo.host = host_name();
    wo.pid = 1;
    return run_worker(*r.store, runner, grid, wo, should_stop);
  }

  test::TinyCifar tiny{/*per_file=*/40, /*n_test=*/50};
  test::TempDir nets, out;
  fs::path model = out.path() / "net.pt", study_file = out.path() / "script.toml";
};

TEST_F(ModelFiles, WorkersTrainTheKeptBytesAfterTheFileChanged) {
  const std::string hash = model_file_hash(model.string());
  RegisteredStudy r = register_study(study_file.string(), {}, (out.path() / "run").string(), "");
  EXPECT_EQ(r.store->file_hashes(), std::vector<std::string>{hash});
  for (const auto& t : r.expansion.trials) EXPECT_EQ(t.config.at("model_hash"), hash);

  // Another network (one output too few) in the file now: the trials still
  // train the network they were made with, from the store's copy.
  fs::copy_file(nets.path() / "wrong.pt", model, fs::copy_options::overwrite_existing);
  const WorkerSummary done = work(r);
  EXPECT_EQ(done.finished, 2);
  for (const auto& t : r.expansion.trials) {
    const auto rec = r.store->trial(t.id);
    EXPECT_EQ(rec->status, RunStatus::done) << rec->error;
    EXPECT_EQ(r.store->epochs(t.id).size(), 2u);
  }
  EXPECT_TRUE(fs::exists(out.path() / "run" / "models" / (hash + ".pt")));
}

TEST_F(ModelFiles, AStoppedStudyResumesToTheUninterruptedNumbers) {
  const fs::path four = out.path() / "four.toml";
  write_study(four, 4);
  RegisteredStudy straight = register_study(four.string(), {}, (out.path() / "straight").string(), "");
  ASSERT_EQ(work(straight).finished, 2);

  // Stopped at the first step after two epochs were stored (in the first
  // trial's third epoch), then run again.
  RegisteredStudy stopped = register_study(four.string(), {}, (out.path() / "stopped").string(), "");
  auto stored = [&] {
    std::size_t n = 0;
    for (const auto& t : stopped.expansion.trials) n += stopped.store->epochs(t.id).size();
    return n;
  };
  const WorkerSummary first = work(stopped, [&] { return stored() >= 2; });
  EXPECT_TRUE(first.stopped);
  EXPECT_EQ(first.finished, 0);
  for (const auto& t : stopped.expansion.trials)
    EXPECT_NE(stopped.store->trial(t.id)->status, RunStatus::done);
  EXPECT_EQ(stored(), 2u);  // epochs 1 and 2 of the first trial, its checkpoint beside them
  ASSERT_EQ(work(stopped).finished, 2);

  for (const auto& t : straight.expansion.trials) {
    const auto a = straight.store->epochs(t.id), b = stopped.store->epochs(t.id);
    ASSERT_EQ(a.size(), 4u);
    ASSERT_EQ(b.size(), 4u);
    EXPECT_LT(a.back().train_loss, a.front().train_loss);  // it learns
    for (std::size_t i = 0; i < a.size(); ++i) {
      SCOPED_TRACE(t.label + " epoch " + std::to_string(i + 1));
      EXPECT_EQ(b[i].epoch, a[i].epoch);
      EXPECT_EQ(b[i].lr, a[i].lr);
      EXPECT_EQ(b[i].train_loss, a[i].train_loss);
      EXPECT_EQ(b[i].train_acc, a[i].train_acc);
      EXPECT_EQ(b[i].val_loss, a[i].val_loss);  // batch-norm statistics restored
      EXPECT_EQ(b[i].val_acc, a[i].val_acc);
      EXPECT_EQ(b[i].test_loss, a[i].test_loss);
    }
  }
}

TEST_F(ModelFiles, AHostWithNeitherFileNorCopySaysSo) {
  RegisteredStudy r = register_study(study_file.string(), {}, (out.path() / "run").string(), "");
  fs::remove(model);
  // The copy in the store is what a host without the file trains from ...
  EXPECT_EQ(work(r).finished, 2);
  // ... and without one, the trial fails naming the file and the hash.
  TrainConfig cfg;
  apply_json(cfg, r.expansion.trials.front().config, "trial");
  try {
    use_kept_model_file(cfg, (out.path() / "elsewhere").string(), nullptr);
    ADD_FAILURE() << "no file and no copy, yet no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("nor a copy of it in the store"));
  }
}

}  // namespace
}  // namespace lrtune
