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
#include "store/postgres_store.h"
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
  std::string file, out, device, data, precision;
  std::string store;        // --store URL ("" = $LRTUNE_STORE, else the folder's SQLite)
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
  std::string trials, store;
};

// `lrtune study status|export`'s arguments.
struct ReadArgs {
  std::string dir, store, format = "csv", out;
  bool all = false;
};

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

Overrides overrides_of(const RunArgs& a) {
  Overrides o;
  if (a.epochs > 0) o.epochs = a.epochs;
  if (a.train_subset >= 0) o.train_subset = a.train_subset;
  if (!a.precision.empty()) o.set.emplace_back("precision", a.precision);
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

void print_header(const Study& st, const RunArgs& a, const std::string& where,
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
  say("study " + st.name + " (" + a.file + ") -> " + where);
  if (!st.description.empty()) say("  " + st.description);
  say("base configuration:\n" + describe_config(base));
  if (st.search) say(search_line(*st.search, ids.size()));
  say(std::to_string(ids.size()) + " trials (" + std::to_string(finished) +
      " already finished, " + std::to_string(partial) + " to resume" +
      (retried ? ", " + std::to_string(retried) + " failed ones retried" : "") + "); " +
      std::to_string(a.jobs) + " worker(s) with " + std::to_string(threads) + " thread(s) each");
}

// Where the results are, and the commands that read them.
std::string results_line(const RegisteredStudy& r, const std::string& url) {
  if (url.empty()) {
    const std::string dir = r.dir.string();
    return "results: " + results_path(r.dir) + "  (lrtune study status " + dir +
           "; lrtune study export " + dir + " --format csv)";
  }
  const std::string& name = r.study.name;
  const std::string store = " --store " + postgres_display_url(url);
  return "results: study '" + name + "' in " + postgres_display_url(url) +
         "  (lrtune study status " + name + store + "; lrtune study export " + name + store +
         " --format csv)";
}

// What the run ends with: the table, where the results are, and the exit code.
int finish_run(const RegisteredStudy& r, Store& store, TrialSource& source, const RunArgs& a,
               const SchedulerResult& result) {
  std::cout << "\n"
            << status_table(summarize(store, source.trial_ids(store)), a.jobs,
                            source.remaining(store));
  // A search's budget and best trial as they end (the progress lines are
  // printed only as often as the scheduler polls, so the last may be older).
  if (const std::string note = source.progress_note(store); !note.empty()) say(note);
  say(results_line(r, store_url(a.store)));
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
  check_study_precision(a.device, a.file, overrides);
  const std::string url = store_url(a.store);  // a bad --store is refused, dry run or not
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
  RegisteredStudy r = register_study(a.file, overrides, a.out, url);
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  WorkerSettings ws;
  ws.dir = r.dir.string();
  ws.store_url = url;
  ws.study = r.study.name;
  ws.wait_for_running = false;  // the scheduler takes a dead worker's trials back
  ws.ids = r.expansion.ids();  // this version of the study file, even if another run changes it
  ws.threads = a.threads_per_job > 0 ? a.threads_per_job
                                     : std::max<std::int64_t>(1, cores / a.jobs);
  ws.adapt_threads = a.threads_per_job == 0;  // the default count yields to a busy machine
  ws.device = a.device;
  ws.data = a.data;
  ws.pack = a.pack;
  ws.timing = a.timing;
  print_header(r.study, a, url.empty() ? r.dir.string() : postgres_display_url(url),
               r.store->study()->trial_ids, *r.store, r.retried, ws.threads);

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

// `lrtune study create`: the study registered, no worker started; workers
// on any host join it with `lrtune study worker`.
int create_study(const RunArgs& a) {
  const std::string url = store_url(a.store);
  RegisteredStudy r = register_study(a.file, overrides_of(a), a.out, url);
  const auto info = r.store->study();
  say("study " + r.study.name + " (" + a.file + ") registered in " +
      (url.empty() ? results_path(r.dir) : postgres_display_url(url)) + ": " +
      std::to_string(info->trial_ids.size()) + " trial(s)" +
      (r.study.search ? " so far; workers draw the others" : "") +
      (r.retried ? ", " + std::to_string(r.retried) + " failed ones made pending again" : ""));
  say("workers join it with: lrtune study worker " +
      (url.empty() ? "--dir " + r.dir.string()
                   : "--store " + postgres_display_url(url) + " --study " + r.study.name));
  return 0;
}

int run_worker_command(WorkerArgs& a) {
  std::stringstream ss(a.trials);
  for (std::string id; std::getline(ss, id, ',');)
    if (!id.empty()) a.settings.ids.push_back(id);
  a.settings.store_url = store_url(a.store);
  if (a.settings.store_url.empty() && a.settings.dir.empty())
    throw FlagError("study worker: give the study: --dir DIR (a study folder), or "
                    "--store URL (or $LRTUNE_STORE) and --study NAME");
  if (!a.settings.store_url.empty() && a.settings.study.empty())
    throw FlagError("study worker: --study NAME: which study of " +
                    postgres_display_url(a.settings.store_url) + " to join");
  return run_worker_process(a.settings, say);
}

int run_status(const ReadArgs& a) {
  const bool all = a.all;
  auto store = open_study_store(store_location(a.dir, a.store));
  const auto ids = all ? std::vector<std::string>{} : current_ids(*store);
  const auto trials = summarize(*store, ids);
  int running = 0;
  for (const auto& t : trials) running += t.trial.status == RunStatus::running;
  std::int64_t undrawn = 0;  // a search's budget not drawn yet
  if (auto info = store->study()) {
    std::cout << "study " << info->name << " (" << info->spec.value("file", std::string("?"))
              << ")\n";
    if (!all) undrawn = source_for(*info)->remaining(*store);
  }
  std::cout << status_table(trials, std::max(1, running), undrawn);
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

int run_export(const ReadArgs& a) {
  const std::string& format = a.format;
  const std::string& out = a.out;
  const bool all = a.all;
  auto store = open_study_store(store_location(a.dir, a.store));
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

// --epochs, --train-subset and --set: the overrides `study run` and `study
// create` both apply to every trial (overrides_of).
void add_override_flags(CLI::App& app, RunArgs& a) {
  app.add_option("--epochs", a.epochs, "override epochs in every trial (new trial ids)")
      ->check(whole_at_least(1, "a whole number of epochs >= 1"));
  app.add_option("--train-subset", a.train_subset,
                 "override train_subset in every trial (0 = all; new trial ids)")
      ->check(whole_at_least(0, "a number of images >= 0 (0 = all)"));
  app.add_option("--set", a.set, "override any key in every trial: key=value (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::App* add_run_command(CLI::App& sub, const std::shared_ptr<RunArgs>& ra) {
  auto* run = sub.add_subcommand("run", "Run (or continue) every trial of a study file");
  run->add_option("file", ra->file, "study file (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--jobs", ra->jobs, "trials at a time, each in its own process")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  run->add_option("--out", ra->out, "study directory (default: studies-out/<name>)");
  add_override_flags(*run, *ra);
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
  run->add_option("--precision", ra->precision,
                  "fp32|bf16 for every trial: sets the `precision` key, part of each trial's "
                  "identity (default: the study file's; bf16 on a CPU needs AVX512-BF16 or AMX)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  run->add_option("--tensorboard", ra->tensorboard,
                  "also write TensorBoard runs here as epochs are stored (docs/export.md)");
  run->add_flag("--dry-run", ra->dry_run, "list the trials (id and label) and stop");
  add_store_flag(*run, ra->store);
  add_timing_flags(*run, ra->timing);
  return run;
}

CLI::App* add_create_command(CLI::App& sub, const std::shared_ptr<RunArgs>& ca) {
  auto* create = sub.add_subcommand(
      "create", "Register a study file's trials and stop: workers on any host then join it "
                "with `lrtune study worker` (docs/cluster.md)");
  create->add_option("file", ca->file, "study file (TOML)")->required()->check(CLI::ExistingFile);
  create->add_option("--out", ca->out, "study directory (default: studies-out/<name>); with "
                                       "--store, this host's folder for trial files");
  add_override_flags(*create, *ca);
  add_store_flag(*create, ca->store);
  return create;
}

CLI::App* add_worker_command(CLI::App& sub, const std::shared_ptr<WorkerArgs>& wa) {
  auto* worker = sub.add_subcommand(
      "worker", "Join a study as one more worker process, on this host or any other: it trains "
                "the study's trials until none is left (docs/cluster.md)");
  auto& s = wa->settings;
  worker->add_option("--dir", s.dir, "the study folder (a SQLite study); with --store, this "
                                     "host's folder for trial files (default: a temporary one)");
  add_store_flag(*worker, wa->store);
  worker->add_option("--study", s.study, "with --store: the study's name (its study file's `name`)");
  worker->add_option("--store-retry", s.store_retry_s,
                     "with --store: seconds to keep reconnecting after a lost connection")
      ->check(kPositiveSeconds)
      ->capture_default_str();
  worker->add_option("--trials", wa->trials, "only these trial ids (comma-separated)");
  worker->add_option("--threads", s.threads, "LibTorch threads (0 = all cores)")
      ->check(CLI::Range(std::int64_t{0}, kMaxThreads))
      ->capture_default_str();
  worker->add_flag("--no-wait{false}", s.wait_for_running,
                   "end as soon as nothing is left to claim (default: while trials run "
                   "elsewhere, wait for them, taking over any whose worker died)");
  worker->add_flag("--adapt-threads", s.adapt_threads,
                   "up to --threads, fewer while fewer train faster on a busy machine");
  worker->add_option("--device", s.device, "cpu|cuda|auto (default: each trial's own)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  worker->add_option("--data", s.data, "CIFAR-10 folder (default: $LRTUNE_DATA, else "
                                       "data/cifar-10-batches-bin)");
  worker->add_option("--pack", s.pack, "trials trained together (0 = 1 on a CPU, 32 on a GPU)")
      ->check(whole_at_least(0, "a number of trials >= 0 (0 = the device's default)"))
      ->capture_default_str();
  add_timing_flags(*worker, s.timing);
  worker->footer(
      "On Ctrl-C or SIGTERM a worker stops at the next training step, gives its trial\n"
      "back (the unfinished epoch is redone from the last checkpoint) and exits 130.\n"
      "A trial whose worker died is taken over after --stale-after seconds and resumes\n"
      "from its last checkpoint. Exit status: 0 when no trial is left, 1 on an error\n"
      "(such as a store it cannot reach), 3 when it cannot train here (no data, no GPU,\n"
      "a full disk).");
  return worker;
}

// `study status` and `study export`: their shared arguments.
void add_read_arguments(CLI::App& app, ReadArgs& a) {
  app.add_option("dir", a.dir, "study folder, or with --store the study's name")->required();
  app.add_flag("--all", a.all, "include trials of earlier versions of the study file");
  add_store_flag(app, a.store);
}

}  // namespace

RunFn setup_study(CLI::App& sub) {
  sub.require_subcommand(1);
  auto ra = std::make_shared<RunArgs>();
  auto* run = add_run_command(sub, ra);
  auto ca = std::make_shared<RunArgs>();
  auto* create = add_create_command(sub, ca);
  auto wa = std::make_shared<WorkerArgs>();
  auto* worker = add_worker_command(sub, wa);

  auto sa = std::make_shared<ReadArgs>();
  auto* status = sub.add_subcommand("status", "Table of a study's trials and their progress");
  add_read_arguments(*status, *sa);

  auto ea = std::make_shared<ReadArgs>();
  auto* exp = sub.add_subcommand("export", "Every trial's epochs as CSV or JSON (one row each)");
  add_read_arguments(*exp, *ea);
  exp->add_option("--format", ea->format, "csv|json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exp->add_option("--out", ea->out, "file to write (default: standard output)");

  return [=]() -> int {
    if (run->parsed()) return run_study(*ra);
    if (create->parsed()) return create_study(*ca);
    if (worker->parsed()) return run_worker_command(*wa);
    if (status->parsed()) return run_status(*sa);
    return run_export(*ea);
  };
}

}  // namespace lrtune::cli
