// A study of a TorchScript network keeps the model file in its store when it
// is registered, and workers train the bytes each trial was made with: from
// the file while it holds them, else from the store's copy (a host without
// the file, or a file changed since). Through the real registration, SQLite
// store, worker loop and trainer.
#include <filesystem>
#include <fstream>

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
    std::ofstream(study_file) << "name = \"script\"\n[base]\nmodel = \"torchscript\"\nmodel_file = \""
                              << model.string()
                              << "\"\nepochs = 2\nbatch_size = 50\nval_size = 50\neval_batch_size = 100\n"
                                 "augment = \"none\"\ndevice = \"cpu\"\nthreads = 1\ndata = \""
                              << tiny.dir.str() << "\"\n[[sweep]]\ngrid = { lr = [0.02, 0.05] }\n";
  }

  // Runs every trial of the study with one worker; returns its summary.
  WorkerSummary work(RegisteredStudy& r) {
    GridSource grid(r.expansion.ids());
    TorchPackRunner runner(TorchRunnerOptions{1, "cpu", tiny.dir.str()});
    WorkerOptions wo;
    wo.host = host_name();
    wo.pid = 1;
    return run_worker(*r.store, runner, grid, wo, [] { return false; });
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
