// `lrtune study run|status|export`: many trials from one study file, N worker
// processes at a time, stopped and resumed at will (and the hidden `worker`).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/errors.h"
#include "core/process.h"
#include "core/provenance.h"
#include "store/store.h"
#include "study/expand.h"
#include "study/scheduler.h"
#include "study/summary.h"
#include "study/pack_worker.h"
#include "study/torch_pack_runner.h"
#include "study/torch_runner.h"
#include "study/worker.h"

namespace lrtune::cli {
namespace fs = std::filesystem;

namespace {

struct Timing {
  double stale_after_s = 60;
  double heartbeat_every_s = 5;
};

struct RunArgs {
  std::string file, out, device, data, precision = "fp32";
  int jobs = 1;
  int pack = 0;
  std::int64_t threads_per_job = 0;
  std::int64_t epochs = 0, train_subset = -1;
  std::vector<std::string> set;
  bool dry_run = false;
  Timing timing;
};

struct WorkerArgs {
  std::string dir, trials, device, data, precision = "fp32";
  std::int64_t threads = 0;
  int pack = 0;
  Timing timing;
};

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

std::string db_path(const fs::path& dir) { return (dir / "results.sqlite").string(); }

std::unique_ptr<Store> open_existing(const std::string& dir) {
  if (!fs::exists(db_path(dir)))
    throw StoreError(dir + ": no results.sqlite here; `lrtune study run FILE` makes a study "
                     "directory (default studies-out/<name>)");
  return open_sqlite_store(db_path(dir));
}

std::string self_binary() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the lrtune binary to start workers: " + ec.message());
  return p.string();
}

Overrides overrides_of(const RunArgs& a) {
  Overrides o;
  if (a.epochs > 0) o.epochs = a.epochs;
  if (a.train_subset >= 0) o.train_subset = a.train_subset;
  for (const auto& kv : a.set) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("--set " + kv + ": expected key=value, e.g. --set lr=0.05");
    o.set.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return o;
}

// The child of the scheduler's fork: becomes `lrtune study worker ...`.
int exec_worker(const std::string& binary, const RunArgs& a, const fs::path& dir,
                const std::vector<std::string>& ids, std::int64_t threads) {
  std::string trials;
  for (const auto& id : ids) trials += (trials.empty() ? "" : ",") + id;
  std::vector<std::string> args = {binary, "study", "worker", "--dir", dir.string(),
                                   "--trials", trials, "--threads", std::to_string(threads),
                                   "--stale-after", std::to_string(a.timing.stale_after_s),
                                   "--heartbeat-every", std::to_string(a.timing.heartbeat_every_s),
                                   "--pack", std::to_string(a.pack), "--precision", a.precision};
  if (!a.device.empty()) args.insert(args.end(), {"--device", a.device});
  if (!a.data.empty()) args.insert(args.end(), {"--data", a.data});
  // One thread per worker: OpenBLAS's own pool would only compete (LIBTORCH-NOTES).
  if (threads == 1) setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/0);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  execv(binary.c_str(), argv.data());
  std::fprintf(stderr, "lrtune: cannot start %s: %s\n", binary.c_str(), std::strerror(errno));
  return kWorkerExitSetup;
}

void print_header(const Study& st, const RunArgs& a, const fs::path& dir, const Expansion& e,
                  Store& store, int retried, std::int64_t threads) {
  int finished = 0, partial = 0;
  for (const auto& t : summarize(store, e.ids())) {
    finished += t.trial.status == RunStatus::done || t.trial.status == RunStatus::diverged;
    partial += t.trial.status != RunStatus::done && t.trial.status != RunStatus::diverged &&
               t.trial.epochs_done > 0;
  }
  TrainConfig base;
  apply_json(base, st.base, st.file);
  say(version_line());
  say("study " + st.name + " (" + a.file + ") -> " + dir.string());
  if (!st.description.empty()) say("  " + st.description);
  say("base configuration:\n" + describe_config(base));
  say(std::to_string(e.trials.size()) + " trials (" + std::to_string(finished) +
      " already finished, " + std::to_string(partial) + " to resume" +
      (retried ? ", " + std::to_string(retried) + " failed ones retried" : "") + "); " +
      std::to_string(a.jobs) + " worker(s) with " + std::to_string(threads) + " thread(s) each");
}

int run_study(const RunArgs& a) {
  install_stop_handlers();
  const Study st = read_study_file(a.file);
  const Overrides overrides = overrides_of(a);
  const Expansion e = expand_study(st, overrides);
  if (a.jobs < 1) throw ConfigError("--jobs: must be >= 1");
  if (a.dry_run) {
    for (const auto& t : e.trials) say(t.id + "  " + t.label);
    return 0;
  }
  const fs::path dir = a.out.empty() ? fs::path("studies-out") / st.name : fs::path(a.out);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StoreError(dir.string() + ": cannot create: " + ec.message());
  auto store = open_sqlite_store(db_path(dir));
  if (auto old = store->study(); old && old->name != st.name)
    throw ConfigError(dir.string() + " holds study '" + old->name + "', not '" + st.name +
                      "'; choose another --out");
  store->put_study(study_info(st, overrides, e));
  for (const auto& t : e.trials) store->add_trial(t);
  const int retried = store->retry_failed(e.ids());

  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t threads =
      a.threads_per_job > 0 ? a.threads_per_job : std::max<std::int64_t>(1, cores / a.jobs);
  print_header(st, a, dir, e, *store, retried, threads);

  SchedulerOptions so;
  so.jobs = a.jobs;
  so.ids = e.ids();
  so.host = host_name();
  so.stale_after_s = a.timing.stale_after_s;
  so.log = [](const std::string& line) { say("[study] " + line); };
  const std::string binary = self_binary();
  const auto worker = [&](int) { return exec_worker(binary, a, dir, so.ids, threads); };
  const SchedulerResult r = run_scheduler(*store, worker, so, stop_requests);

  std::cout << "\n" << status_table(summarize(*store, so.ids), a.jobs);
  say("results: " + db_path(dir) + "  (lrtune study status " + dir.string() +
      "; lrtune study export " + dir.string() + " --format csv)");
  if (r.setup_failed) {
    say("workers could not start; see the error above");
    return 1;
  }
  if (r.interrupted) {
    say("stopped; run the same command again to continue where it left off");
    return 130;
  }
  if (r.running_elsewhere)
    say(std::to_string(r.running_elsewhere) + " trial(s) still running in another process");
  if (r.progress.failed) {
    say(std::to_string(r.progress.failed) + " trial(s) failed; rerunning the command retries them");
    return 1;
  }
  return 0;
}

int run_worker_process(const WorkerArgs& a) {
  install_stop_handlers();
  auto store = open_existing(a.dir);
  std::vector<std::string> ids;
  std::stringstream ss(a.trials);
  for (std::string id; std::getline(ss, id, ',');)
    if (!id.empty()) ids.push_back(id);
  if (ids.empty()) ids = current_ids(*store);
  if (ids.empty()) return kWorkerExitOk;

  const auto first = store->trial(ids.front());
  const nlohmann::json first_config = first ? first->spec.config : nlohmann::json::object();
  WorkerOptions wo;
  wo.ids = ids;
  wo.host = host_name();
  wo.pid = static_cast<std::int64_t>(getpid());
  wo.stale_after_s = a.timing.stale_after_s;
  wo.heartbeat_every_s = a.timing.heartbeat_every_s;
  wo.log = say;
  const auto stop = [] { return stop_requests() > 0; };
  const TorchRunnerOptions ro{a.threads, a.device, a.data};

  // Everything that can fail before a trial is claimed (no data, no GPU) ends
  // the worker with kWorkerExitSetup, so the run does not start it again.
  int pack = a.pack;
  std::unique_ptr<TorchTrialRunner> single;
  std::unique_ptr<TorchPackRunner> packed;
  try {
    if (pack <= 0)
      pack = default_pack_size(a.device.empty() ? first_config.value("device", std::string("auto"))
                                                : a.device);
    if (pack > 1 || a.precision != "fp32") {
      packed = std::make_unique<TorchPackRunner>(ro, a.precision);
      packed->prepare(first_config);
    } else {
      single = std::make_unique<TorchTrialRunner>(ro);
      single->prepare(first_config);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lrtune: worker: error: %s\n", e.what());
    return kWorkerExitSetup;
  }
  if (packed) run_pack_worker(*store, *packed, wo, pack, stop);
  else run_worker(*store, *single, wo, stop);
  return kWorkerExitOk;
}

int run_status(const std::string& dir, bool all) {
  auto store = open_existing(dir);
  const auto ids = all ? std::vector<std::string>{} : current_ids(*store);
  const auto trials = summarize(*store, ids);
  int running = 0;
  for (const auto& t : trials) running += t.trial.status == RunStatus::running;
  if (auto info = store->study())
    std::cout << "study " << info->name << " (" << info->spec.value("file", std::string("?"))
              << ")\n";
  std::cout << status_table(trials, std::max(1, running));
  return 0;
}

int run_export(const std::string& dir, const std::string& format, const std::string& out,
               bool all) {
  auto store = open_existing(dir);
  const auto info = store->study();
  const auto ids = all || !info ? std::vector<std::string>{} : info->trial_ids;
  std::vector<std::string> keys;
  if (info && info->spec.contains("swept_keys"))
    keys = info->spec["swept_keys"].get<std::vector<std::string>>();
  std::ofstream file;
  if (!out.empty()) {
    file.open(out);
    if (!file) throw StoreError(out + ": cannot write");
  }
  std::ostream& os = out.empty() ? std::cout : file;
  if (format == "csv") write_epochs_csv(*store, ids, keys, os);
  else write_epochs_json(*store, ids, keys, os);
  if (!os) throw StoreError((out.empty() ? "standard output" : out) + ": write failed");
  return 0;
}

void add_timing_flags(CLI::App& app, Timing& t) {
  app.add_option("--stale-after", t.stale_after_s,
                 "seconds without a heartbeat after which a running trial is taken over")
      ->capture_default_str();
  app.add_option("--heartbeat-every", t.heartbeat_every_s, "seconds between heartbeats")
      ->capture_default_str();
}

}  // namespace

RunFn setup_study(CLI::App& sub) {
  sub.require_subcommand(1);
  auto ra = std::make_shared<RunArgs>();
  auto* run = sub.add_subcommand("run", "Run (or continue) every trial of a study file");
  run->add_option("file", ra->file, "study file (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--jobs", ra->jobs, "trials at a time, each in its own process")
      ->capture_default_str();
  run->add_option("--out", ra->out, "study directory (default: studies-out/<name>)");
  run->add_option("--epochs", ra->epochs, "override epochs in every trial (new trial ids)");
  run->add_option("--train-subset", ra->train_subset,
                  "override train_subset in every trial (new trial ids)");
  run->add_option("--set", ra->set, "override any key in every trial: key=value (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("--threads-per-job", ra->threads_per_job,
                  "LibTorch threads per worker (default: cores / jobs, at least 1)");
  run->add_option("--device", ra->device, "cpu|cuda|auto (default: the study file's)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  run->add_option("--data", ra->data, "CIFAR-10 folder (default: $LRTUNE_DATA, else "
                                      "data/cifar-10-batches-bin)");
  run->add_option("--pack", ra->pack,
                  "trials trained together as one model by each worker (0 = 1 on a CPU, "
                  "32 on a GPU; see docs/gpu.md)")
      ->capture_default_str();
  run->add_option("--precision", ra->precision, "fp32|bf16 (bf16: CUDA packs only)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  run->add_flag("--dry-run", ra->dry_run, "list the trials (id and label) and stop");
  add_timing_flags(*run, ra->timing);

  auto wa = std::make_shared<WorkerArgs>();
  auto* worker = sub.add_subcommand("worker", "one worker process (started by `study run`)");
  worker->group("");  // hidden from --help
  worker->add_option("--dir", wa->dir)->required();
  worker->add_option("--trials", wa->trials);
  worker->add_option("--threads", wa->threads);
  worker->add_option("--device", wa->device);
  worker->add_option("--data", wa->data);
  worker->add_option("--pack", wa->pack);
  worker->add_option("--precision", wa->precision);
  add_timing_flags(*worker, wa->timing);

  auto dir = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto* status = sub.add_subcommand("status", "Table of a study's trials and their progress");
  status->add_option("dir", *dir, "study directory")->required();
  status->add_flag("--all", *all, "include trials of earlier versions of the study file");

  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  auto* exp = sub.add_subcommand("export", "Every trial's epochs as CSV or JSON (one row each)");
  exp->add_option("dir", *dir, "study directory")->required();
  exp->add_option("--format", *format, "csv|json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exp->add_option("--out", *out, "file to write (default: standard output)");
  exp->add_flag("--all", *all, "include trials of earlier versions of the study file");

  return [=]() -> int {
    if (run->parsed()) return run_study(*ra);
    if (worker->parsed()) return run_worker_process(*wa);
    if (status->parsed()) return run_status(*dir, *all);
    return run_export(*dir, *format, *out, *all);
  };
}

}  // namespace lrtune::cli
