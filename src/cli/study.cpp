// `lrtune study run|status|export`: many trials from one study file, N worker
// processes at a time, stopped and resumed at will (and the hidden `worker`).
#include <unistd.h>

#include <cerrno>
#include <cmath>
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
#include "core/files.h"
#include "core/process.h"
#include "core/provenance.h"
#include "report/tensorboard.h"
#include "store/store.h"
#include "study/expand.h"
#include "study/scheduler.h"
#include "study/study_run.h"
#include "study/summary.h"
#include "study/trial_source.h"

namespace lrtune::cli {
namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::string file, out, device, data, precision = "fp32";
  std::string tensorboard;  // log directory followed live ("" = none)
  int jobs = 1;
  int pack = 0;
  std::int64_t threads_per_job = 0;
  std::int64_t epochs = 0, train_subset = -1;
  std::vector<std::string> set;
  bool dry_run = false;
  StudyTiming timing;
};

// `lrtune study worker`'s flags, and its comma-separated trial list.
struct WorkerArgs {
  WorkerSettings settings;
  std::string trials;
};

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
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

// "search: tpe sampler, asha pruner; 64 trials (12 so far) for the best val_acc"
std::string search_line(const search::SearchSpec& s, std::size_t so_far) {
  std::string keys;
  for (const auto& p : s.space) keys += (keys.empty() ? "" : ", ") + p.key;
  return "search: " + s.sampler + " sampler, " + s.pruner + " pruner; " +
         std::to_string(s.trials) + " trials (" + std::to_string(so_far) + " so far) for the " +
         (s.at_last ? "last " : "best ") + s.objective + " over " + keys;
}

void print_header(const Study& st, const RunArgs& a, const fs::path& dir,
                  const std::vector<std::string>& ids, Store& store, int retried,
                  std::int64_t threads) {
  int finished = 0, partial = 0;
  for (const auto& t : summarize(store, ids)) {
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
  if (st.search) say(search_line(*st.search, ids.size()));
  say(std::to_string(ids.size()) + " trials (" + std::to_string(finished) +
      " already finished, " + std::to_string(partial) + " to resume" +
      (retried ? ", " + std::to_string(retried) + " failed ones retried" : "") + "); " +
      std::to_string(a.jobs) + " worker(s) with " + std::to_string(threads) + " thread(s) each");
}

// What the run ends with: the table, where the results are, and the exit code.
int finish_run(const RegisteredStudy& r, Store& store, TrialSource& source, const RunArgs& a,
               const SchedulerResult& result) {
  std::cout << "\n" << status_table(summarize(store, source.trial_ids(store)), a.jobs);
  const std::string dir = r.dir.string();
  say("results: " + results_path(r.dir) + "  (lrtune study status " + dir +
      "; lrtune study export " + dir + " --format csv)");
  if (result.setup_failed) {
    say("workers stopped (they could not start, or the disk is full); see the error above");
    return 1;
  }
  if (result.interrupted) {
    say("stopped; run the same command again to continue where it left off");
    return 130;
  }
  if (result.running_elsewhere)
    say(std::to_string(result.running_elsewhere) + " trial(s) still running in another process");
  if (result.progress.failed) {
    say(std::to_string(result.progress.failed) +
        " trial(s) failed; rerunning the command retries them");
    return 1;
  }
  return 0;
}

int run_study(const RunArgs& a) {
  if (a.jobs < 1) throw ConfigError("--jobs: must be >= 1");
  const Overrides overrides = overrides_of(a);
  check_study_precision(a.precision, a.device, a.file, overrides);
  if (a.dry_run) {  // nothing to save: Ctrl-C and SIGTERM end it at once
    const Study study = read_study_file(a.file);
    const Expansion e = expand_study(study, overrides);
    if (study.search)
      say(search_line(*study.search, 0) + "; trials are drawn while the study runs");
    for (const auto& t : e.trials) say(t.id + "  " + t.label);
    return 0;
  }
  // From here a first signal stops the workers at their next safe point; one
  // during registration (a transaction) is seen by the scheduler's first poll.
  install_stop_handlers();
  RegisteredStudy r = register_study(a.file, overrides, a.out);
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  WorkerSettings ws;
  ws.dir = r.dir.string();
  ws.ids = r.expansion.ids();  // this version of the study file, even if another run changes it
  ws.threads = a.threads_per_job > 0 ? a.threads_per_job
                                     : std::max<std::int64_t>(1, cores / a.jobs);
  ws.adapt_threads = a.threads_per_job == 0;  // the default count yields to a busy machine
  ws.device = a.device;
  ws.data = a.data;
  ws.precision = a.precision;
  ws.pack = a.pack;
  ws.timing = a.timing;
  print_header(r.study, a, r.dir, r.store->study()->trial_ids, *r.store, r.retried, ws.threads);

  const auto source = source_for(*r.store->study());
  SchedulerOptions so;
  so.jobs = a.jobs;
  so.host = host_name();
  so.stale_after_s = a.timing.stale_after_s;
  so.log = [](const std::string& line) { say("[study] " + line); };
  std::unique_ptr<report::TensorBoardLive> tb;
  if (!a.tensorboard.empty()) {
    tb = std::make_unique<report::TensorBoardLive>(report::TensorBoardLive::Options{a.tensorboard});
    so.on_poll = [&] { tb->follow(*r.store, say); };
  }
  const std::string binary = self_binary();
  const auto worker = [&](int) { return exec_worker(binary, ws); };
  const SchedulerResult result = run_scheduler(*r.store, *source, worker, so, stop_requests);
  return finish_run(r, *r.store, *source, a, result);
}

int run_worker_command(WorkerArgs& a) {
  std::stringstream ss(a.trials);
  for (std::string id; std::getline(ss, id, ',');)
    if (!id.empty()) a.settings.ids.push_back(id);
  check_worker_precision(a.settings);
  return run_worker_process(a.settings, say);
}

int run_status(const std::string& dir, bool all) {
  auto store = open_study_store(dir);
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

// A file the user named: written whole or not at all (a partial export never
// replaces a good one); a device or pipe (/dev/stdout) is written directly.
void write_output_file(const std::string& path, const std::string& text) {
  std::error_code ec;
  const auto type = fs::status(path, ec).type();
  if (type == fs::file_type::not_found || type == fs::file_type::regular) {
    write_text_atomically(path, text);
    return;
  }
  std::ofstream file(path, std::ios::binary);
  errno = 0;
  if (file) file << text << std::flush;
  const int err = errno;
  if (file) file.close();
  if (!file) throw StoreError(path + ": cannot write: " + std::strerror(err ? err : EIO));
}

int run_export(const std::string& dir, const std::string& format, const std::string& out,
               bool all) {
  auto store = open_study_store(dir);
  const auto info = store->study();
  const auto ids = all || !info ? std::vector<std::string>{} : info->trial_ids;
  std::vector<std::string> keys;
  if (info && info->spec.contains("swept_keys"))
    keys = info->spec["swept_keys"].get<std::vector<std::string>>();
  std::ostringstream text;
  if (format == "csv") write_epochs_csv(*store, ids, keys, text);
  else write_epochs_json(*store, ids, keys, text);
  if (out.empty()) std::cout << text.str();  // main checks that standard output took it
  else write_output_file(out, text.str());
  return 0;
}

// Whole numbers at least `lo`, in words a user reads (CLI11's own ranges print
// the largest double in full).
CLI::Validator whole_at_least(long long lo, const std::string& what) {
  return CLI::Validator(
      [lo, what](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long x = std::strtoll(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || errno == ERANGE || x < lo)
          return "expected " + what + ", got " + text;
        return "";
      },
      what);
}

// Seconds that must be a finite positive number (CLI11's PositiveNumber lets nan through).
const CLI::Validator kPositiveSeconds(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0' || !std::isfinite(x) || x <= 0)
        return "expected a positive number of seconds, got " + text;
      return "";
    },
    "SECONDS>0");

void add_timing_flags(CLI::App& app, StudyTiming& t) {
  app.add_option("--stale-after", t.stale_after_s,
                 "seconds without a heartbeat after which a running trial is taken over")
      ->check(kPositiveSeconds)
      ->capture_default_str();
  app.add_option("--heartbeat-every", t.heartbeat_every_s, "seconds between heartbeats")
      ->check(kPositiveSeconds)
      ->capture_default_str();
}

CLI::App* add_run_command(CLI::App& sub, const std::shared_ptr<RunArgs>& ra) {
  auto* run = sub.add_subcommand("run", "Run (or continue) every trial of a study file");
  run->add_option("file", ra->file, "study file (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--jobs", ra->jobs, "trials at a time, each in its own process")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  run->add_option("--out", ra->out, "study directory (default: studies-out/<name>)");
  run->add_option("--epochs", ra->epochs, "override epochs in every trial (new trial ids)")
      ->check(whole_at_least(1, "a whole number of epochs >= 1"));
  run->add_option("--train-subset", ra->train_subset,
                  "override train_subset in every trial (0 = all; new trial ids)")
      ->check(whole_at_least(0, "a number of images >= 0 (0 = all)"));
  run->add_option("--set", ra->set, "override any key in every trial: key=value (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("--threads-per-job", ra->threads_per_job,
                  "LibTorch threads per worker, fixed (default: cores / jobs, at least 1, "
                  "and fewer while fewer train faster on a busy machine)")
      ->check(CLI::Range(std::int64_t{1}, kMaxThreads));
  run->add_option("--device", ra->device, "cpu|cuda|auto (default: the study file's)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  run->add_option("--data", ra->data, "CIFAR-10 folder (default: $LRTUNE_DATA, else "
                                      "data/cifar-10-batches-bin)");
  run->add_option("--pack", ra->pack,
                  "trials trained together as one model by each worker (0 = 1 on a CPU, "
                  "32 on a GPU; see docs/gpu.md)")
      ->check(whole_at_least(0, "a number of trials >= 0 (0 = the device's default)"))
      ->capture_default_str();
  run->add_option("--precision", ra->precision, "fp32|bf16 (bf16: CUDA packs only)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  run->add_option("--tensorboard", ra->tensorboard,
                  "also write TensorBoard runs here as epochs are stored (docs/export.md)");
  run->add_flag("--dry-run", ra->dry_run, "list the trials (id and label) and stop");
  add_timing_flags(*run, ra->timing);
  return run;
}

CLI::App* add_worker_command(CLI::App& sub, const std::shared_ptr<WorkerArgs>& wa) {
  auto* worker = sub.add_subcommand("worker", "one worker process (started by `study run`)");
  worker->group("");  // hidden from --help
  worker->add_option("--dir", wa->settings.dir)->required();
  worker->add_option("--trials", wa->trials);
  worker->add_option("--threads", wa->settings.threads);
  worker->add_flag("--adapt-threads", wa->settings.adapt_threads);
  worker->add_option("--device", wa->settings.device);
  worker->add_option("--data", wa->settings.data);
  worker->add_option("--pack", wa->settings.pack);
  worker->add_option("--precision", wa->settings.precision);
  add_timing_flags(*worker, wa->settings.timing);
  return worker;
}

}  // namespace

RunFn setup_study(CLI::App& sub) {
  sub.require_subcommand(1);
  auto ra = std::make_shared<RunArgs>();
  auto* run = add_run_command(sub, ra);
  auto wa = std::make_shared<WorkerArgs>();
  auto* worker = add_worker_command(sub, wa);

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
    if (worker->parsed()) return run_worker_command(*wa);
    if (status->parsed()) return run_status(*dir, *all);
    return run_export(*dir, *format, *out, *all);
  };
}

}  // namespace lrtune::cli
