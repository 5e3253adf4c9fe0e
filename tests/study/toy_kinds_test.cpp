// Extending lrtune from outside src/: this file alone defines a toy optimizer,
// a toy schedule and a toy network, registers them, and trains TOML studies
// with them through the real worker loop, store and trainer. Nothing in src/
// knows them.
#include <cmath>
#include <fstream>

#include <torch/optim/sgd.h>

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/process.h"
#include "model/network.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "store/store.h"
#include "study/expand.h"
#include "study/torch_pack_runner.h"
#include "study/trial_source.h"
#include "study/worker.h"
#include "support/test_support.h"
#include "train/builtin_kinds.h"

namespace lrtune {
namespace {

// "scaled_sgd": plain SGD whose step is lr times its own key `toy_scale`.
class ScaledSgd final : public TrainOptimizer {
 public:
  ScaledSgd(std::vector<torch::Tensor> params, const TrainConfig& cfg)
      : scale_(cfg.real("toy_scale")), opt_(std::move(params), torch::optim::SGDOptions(cfg.lr)) {
    set_lr(cfg.lr);
  }
  torch::optim::Optimizer& torch() override { return opt_; }
  void set_lr(double lr) override {
    for (auto& g : opt_.param_groups())
      static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr * scale_);
  }
  void restore_hyper_parameters() override {}  // set_lr runs before every step

 private:
  double scale_;
  torch::optim::SGD opt_;
};

OptimizerKind scaled_sgd() {
  KindDecl decl{"optimizer", "scaled_sgd", "toy: SGD with its step scaled by toy_scale", {}, {}};
  decl.keys = {{"toy_scale", KeyType::real, 1.0, "", "toy: multiplies every step", true,
                in_range(0, 10, /*lo_open=*/true)}};
  return {decl, [](std::vector<torch::Tensor> params, const TrainConfig& cfg) {
            return std::unique_ptr<TrainOptimizer>(new ScaledSgd(std::move(params), cfg));
          }};
}

// "halving": lr halved every `toy_halve_every` epochs.
ScheduleKind halving() {
  KindDecl decl{"schedule", "halving", "toy: lr halved every toy_halve_every epochs", {}, {}};
  decl.keys = {{"toy_halve_every", KeyType::integer, 1, "epochs", "toy: epochs between halvings",
                true, positive()}};
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr, every = cfg.integer("toy_halve_every")](
                                     std::int64_t epoch, std::int64_t) {
              return lr * std::pow(0.5, static_cast<double>(epoch / every));
            });
          }};
}

// "toy_linear": one linear layer over the pixels, for any shape; it has no packed form.
class ToyLinear final : public Network {
 public:
  explicit ToyLinear(const DataShape& s)
      : fc_(register_module("fc", torch::nn::Linear(s.channels * s.height * s.width, s.classes))) {}
  torch::Tensor forward(torch::Tensor x) override { return fc_->forward(x.flatten(1)); }

 private:
  torch::nn::Linear fc_;
};

ModelKind toy_linear() {
  return {{"model", "toy_linear", "toy: one linear layer", {}, {}},
          [](const TrainConfig&, const DataShape& shape) { return std::make_shared<ToyLinear>(shape); }};
}

void register_toys() {
  static const bool done = [] {
    register_builtin_kinds();
    register_optimizer(scaled_sgd());
    register_schedule(halving());
    register_model(toy_linear());
    return true;
  }();
  (void)done;
}

class ToyKinds : public ::testing::Test {
 protected:
  void SetUp() override { register_toys(); }
  test::TinyCifar tiny{/*per_file=*/100, /*n_test=*/100};
  test::TempDir out;

  Study study(const std::string& sweep) {
    const auto file = out.path() / "toy.toml";
    std::ofstream(file) << "name = \"toy\"\n[base]\n"
                           "optimizer = \"scaled_sgd\"\nschedule = \"halving\"\n"
                           "lr = 0.05\nepochs = 4\nbatch_size = 50\nval_size = 50\n"
                           "eval_batch_size = 100\naugment = \"none\"\ndevice = \"cpu\"\n"
                           "threads = 1\ndata = \"" << tiny.dir.str() << "\"\n"
                        << sweep;
    return read_study_file(file.string());
  }
};

TEST_F(ToyKinds, KeysAreKnownToConfigurationValidationAndIdentity) {
  const DeclaredKey* key = find_declared_key("toy_scale");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->owners, std::vector<std::string>{"optimizer scaled_sgd"});
  TrainConfig cfg;
  apply_json(cfg, {{"optimizer", "scaled_sgd"}, {"toy_scale", 0.0}}, "toy.toml");
  EXPECT_THROW(cfg.validate("toy.toml"), ConfigError);  // out of its declared range
  // A default toy key leaves identity alone; another value is another trial.
  TrainConfig a, b;
  a.optimizer = b.optimizer = "scaled_sgd";
  b.set("toy_scale", 2.0);
  EXPECT_FALSE(identity_json(a).contains("toy_scale"));
  EXPECT_NE(trial_id(a), trial_id(b));
}

TEST_F(ToyKinds, AStudyOverToyKeysTrainsAndLearns) {
  const Expansion e = expand_study(study("[[sweep]]\ngrid = { toy_scale = [1.0, 2.0] }\n"));
  ASSERT_EQ(e.trials.size(), 2u);
  EXPECT_EQ(e.trials[0].label.rfind("toy_scale=", 0), 0u) << e.trials[0].label;
  EXPECT_NE(e.trials[0].id, e.trials[1].id);
  auto store = open_sqlite_store((out.path() / "results.sqlite").string());
  for (const auto& t : e.trials) store->add_trial(t);
  GridSource grid(e.ids());
  TorchPackRunner runner(TorchRunnerOptions{1, "cpu", tiny.dir.str()});
  WorkerOptions wo;
  wo.host = host_name();
  wo.pid = 1;
  const auto summary = run_worker(*store, runner, grid, wo, [] { return false; });
  EXPECT_EQ(summary.finished, 2);
  for (const auto& t : e.trials) {
    const auto rec = store->trial(t.id);
    EXPECT_EQ(rec->status, RunStatus::done) << rec->error;
    EXPECT_EQ(rec->spec.config.at("optimizer"), "scaled_sgd");
    // Provenance: the trial's config.json holds the toy keys with their values.
    const auto config = nlohmann::json::parse(
        test::read_file(std::filesystem::path(store->trial_dir(t.id)) / "config.json"));
    EXPECT_EQ(config.dump().find("toy_halve_every") != std::string::npos, true) << config.dump();
    EXPECT_EQ(config.dump().find("toy_scale") != std::string::npos, true) << config.dump();
    const auto rows = store->epochs(t.id);
    ASSERT_EQ(rows.size(), 4u);
    for (const auto& m : rows)  // the toy schedule's rate, epoch by epoch
      EXPECT_DOUBLE_EQ(m.lr, 0.05 * std::pow(0.5, static_cast<double>(m.epoch - 1)));
    EXPECT_LT(rows.back().train_loss, rows.front().train_loss);
    EXPECT_GT(rows.back().val_acc, 0.3);  // chance is 0.1
  }
}

// A worker asked for packs of 2 trains a network without a packed form one
// trial at a time, says so once, and the trials learn.
TEST_F(ToyKinds, ANetworkWithoutAPackedFormTrainsAsPacksOfOne) {
  const Expansion e = expand_study(study("[[sweep]]\nset = { model = \"toy_linear\", optimizer = \"sgd\", "
                                         "schedule = \"constant\" }\ngrid = { lr = [0.01, 0.02, 0.03] }\n"));
  ASSERT_EQ(e.trials.size(), 3u);
  auto store = open_sqlite_store((out.path() / "results.sqlite").string());
  for (const auto& t : e.trials) store->add_trial(t);
  GridSource grid(e.ids());
  TorchRunnerOptions ro{1, "cpu", tiny.dir.str()};
  ro.pack_size = 2;
  TorchPackRunner runner(ro);
  WorkerOptions wo;
  wo.host = host_name();
  wo.pid = 1;
  wo.pack_size = 2;
  std::vector<std::string> lines;
  wo.log = [&](const std::string& line) { lines.push_back(line); };
  const auto summary = run_worker(*store, runner, grid, wo, [] { return false; });
  EXPECT_EQ(summary.finished, 3);
  int told = 0;
  for (const auto& line : lines)
    told += line.find("model 'toy_linear' has no packed form: its trials train as packs of one") !=
            std::string::npos;
  EXPECT_EQ(told, 1) << ::testing::PrintToString(lines);
  for (const auto& t : e.trials) {
    const auto rec = store->trial(t.id);
    EXPECT_EQ(rec->status, RunStatus::done) << rec->error;
    EXPECT_FALSE(rec->info.contains("pack")) << rec->info.dump();  // trained alone
    const auto rows = store->epochs(t.id);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_LT(rows.back().train_loss, rows.front().train_loss);
    EXPECT_GT(rows.back().val_acc, 0.3);  // chance is 0.1
  }
}

}  // namespace
}  // namespace lrtune
