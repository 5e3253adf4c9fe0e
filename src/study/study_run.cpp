// Registering a study and running its worker processes.
#include "study/study_run.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "core/url.h"
#include "core/errors.h"
#include "core/process.h"
#include "model/torchscript.h"
#include "study/scheduler.h"
#include "study/torch_pack_runner.h"
#include "study/trial_source.h"
#include "study/worker.h"
#include "store/postgres_store.h"

namespace lrtune {
namespace fs = std::filesystem;

std::string results_path(const fs::path& dir) { return (dir / "results.sqlite").string(); }

std::unique_ptr<Store> open_study_store(const StoreLocation& where) {
  if (!where.url.empty()) {
    PostgresOptions o;
    o.study = where.study;
    o.local_dir = where.dir;
    o.must_exist = true;
    o.retry_for_s = where.retry_for_s;
    o.log = where.log;
    return open_postgres_store(where.url, std::move(o));
  }
  if (!fs::exists(results_path(where.dir)))
    throw StoreError(where.dir + ": no results.sqlite here; `lrtune study run FILE` makes a "
                     "study directory (default studies-out/<name>)");
  return open_sqlite_store(results_path(where.dir));
}

std::unique_ptr<Store> open_study_store(const std::string& dir) {
  return open_study_store(StoreLocation{dir, "", "", 300, {}});
}

namespace {

// A search study run again continues its trials when its search and base are
// as before (a raised budget extends it); another search in the same folder
// would mix draws of two spaces, so it is refused with what changed.
std::vector<std::string> continued_search(const std::optional<StudyInfo>& old,
                                          const StudyInfo& now, const std::string& url,
                                          const fs::path& dir) {
  if (!old || !old->spec.is_object() || !old->spec.contains("search")) return {};
  const auto& was = old->spec["search"]["identity"];
  const auto& is = now.spec["search"]["identity"];
  if (was == is) return old->trial_ids;
  std::string what;
  if (was.value("search", nlohmann::json()) != is["search"])
    what = "its [search] table (sampler, objective, seed or space)";
  if (was.value("base", nlohmann::json()) != is["base"])
    what += std::string(what.empty() ? "" : " and ") + "its base configuration";
  const std::string where = url.empty() ? dir.string() : postgres_display_url(url);
  const std::string elsewhere = url.empty() ? "in a new folder (--out DIR)"
                                            : "under another study name (`name` in the file)";
  throw ConfigError(where + " holds a search of study '" + now.name + "' whose trials were "
                    "drawn from another search: " + what + " changed since it was last run. "
                    "Run the new search " + elsewhere + ", or restore the study file; "
                    "raising `trials` alone extends a search (docs/search.md)");
}

// Keeps in the store the model files the trials train from (a search's base
// names the one its drawn trials use), so that workers on hosts without the
// file, or after it changed, train the bytes each trial was made with.
void keep_model_files(Store& store, const std::vector<TrialSpec>& trials, const nlohmann::json& spec) {
  std::vector<nlohmann::json> configs;
  for (const auto& t : trials) configs.push_back(t.config);
  if (spec.is_object() && spec.contains("search")) configs.push_back(spec.at("search").at("base"));
  std::set<std::string> kept;
  for (const auto& c : configs)
    for (const auto& [hash, path] : model_files(c))
      if (kept.insert(hash).second) store.put_file(hash, path);
}

}  // namespace

RegisteredStudy register_study(const std::string& file, const Overrides& overrides,
                               const std::string& out, const std::string& store_url) {
  RegisteredStudy r;
  r.study = read_study_file(file);
  r.overrides = overrides;
  r.expansion = expand_study(r.study, overrides);
  r.dir = out.empty() ? fs::path("studies-out") / r.study.name : fs::path(out);
  if (store_url.empty()) {
    std::error_code ec;
    fs::create_directories(r.dir, ec);
    if (ec) throw StoreError(r.dir.string() + ": cannot create: " + ec.message());
    r.store = open_sqlite_store(results_path(r.dir));
  } else {
    PostgresOptions o;
    o.study = r.study.name;
    o.local_dir = r.dir.string();
    r.store = open_postgres_store(store_url, std::move(o));
  }
  if (auto old = r.store->study(); old && old->name != r.study.name)
    throw ConfigError(r.dir.string() + " holds study '" + old->name + "', not '" + r.study.name +
                      "'; choose another --out");
  StudyInfo info = study_info(r.study, overrides, r.expansion);
  if (r.study.search) info.trial_ids = continued_search(r.store->study(), info, store_url, r.dir);
  r.store->put_study(info);
  keep_model_files(*r.store, r.expansion.trials, info.spec);
  for (const auto& t : r.expansion.trials) r.store->add_trial(t);
  r.retried = r.store->retry_failed(info.trial_ids);
  return r;
}

std::vector<std::string> worker_command(const std::string& binary, const WorkerSettings& s) {
  std::string trials;
  for (const auto& id : s.ids) trials += (trials.empty() ? "" : ",") + id;
  std::vector<std::string> args = {binary, "study", "worker", "--dir", s.dir,
                                   "--threads", std::to_string(s.threads),
                                   "--store-retry", std::to_string(s.store_retry_s),
                                   "--stale-after", std::to_string(s.timing.stale_after_s),
                                   "--heartbeat-every", std::to_string(s.timing.heartbeat_every_s),
                                   "--pack", std::to_string(s.pack)};
  if (!trials.empty()) args.insert(args.end(), {"--trials", trials});
  if (!s.store_url.empty()) args.insert(args.end(), {"--study", s.study});
  if (s.adapt_threads) args.push_back("--adapt-threads");
  if (!s.wait_for_running) args.push_back("--no-wait");
  if (!s.device.empty()) args.insert(args.end(), {"--device", s.device});
  if (!s.data.empty()) args.insert(args.end(), {"--data", s.data});
  return args;
}

int exec_worker(const std::string& binary, const WorkerSettings& settings) {
  std::vector<std::string> args = worker_command(binary, settings);
  // One thread per worker: OpenBLAS's own pool would only compete (LIBTORCH-NOTES).
  if (settings.threads == 1) setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/0);
  if (!settings.store_url.empty()) setenv("LRTUNE_STORE", settings.store_url.c_str(), 1);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(binary.c_str(), argv.data());
  std::fprintf(stderr, "lrtune: cannot start %s: %s\n", binary.c_str(), std::strerror(errno));
  return kWorkerExitSetup;
}

namespace {

StoreLocation worker_location(const WorkerSettings& s,
                              const std::function<void(const std::string&)>& log) {
  return StoreLocation{s.dir, s.store_url, s.study, s.store_retry_s, log};
}

std::unique_ptr<TrialSource> worker_source(Store& store, const WorkerSettings& s) {
  if (!s.ids.empty()) return std::make_unique<GridSource>(s.ids);
  const auto info = store.study();
  if (!info) throw StoreError((s.store_url.empty() ? s.dir : s.study) + ": the store holds no study");
  return source_for(*info);
}

// Everything that can fail before a trial is claimed (no data, no GPU).
std::unique_ptr<TorchPackRunner> prepare_runner(Store& store, TrialSource& source,
                                                const WorkerSettings& s, int& pack) {
  const auto ids = source.trial_ids(store);
  const auto first = ids.empty() ? std::nullopt : store.trial(ids.front());
  nlohmann::json config = first ? first->spec.config : nlohmann::json::object();
  if (!first)  // a search with nothing drawn yet: its trials share the base's data set
    if (const auto info = store.study(); info && info->spec.is_object() && info->spec.contains("search"))
      config = info->spec.at("search").at("base");
  pack = s.pack > 0 ? s.pack
                    : default_pack_size(s.device.empty()
                                            ? config.value("device", std::string("auto"))
                                            : s.device);
  auto runner = std::make_unique<TorchPackRunner>(
      TorchRunnerOptions{s.threads, s.device, s.data, s.adapt_threads, pack});
  runner->prepare(config);
  return runner;
}

}  // namespace

int run_worker_process(const WorkerSettings& s,
                       const std::function<void(const std::string&)>& log) {
  install_stop_handlers();
  set_thread_change_log(log);
  auto store = open_study_store(worker_location(s, log));
  std::unique_ptr<TrialSource> source;
  std::unique_ptr<TorchPackRunner> runner;
  int pack = 1;
  try {
    source = worker_source(*store, s);
    if (source->trial_ids(*store).empty() && source->remaining(*store) == 0) return kWorkerExitOk;
    runner = prepare_runner(*store, *source, s, pack);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lrtune: worker: error: %s\n", redact_passwords(e.what()).c_str());
    return kWorkerExitSetup;
  }
  WorkerOptions wo;
  wo.host = host_name();
  wo.pid = static_cast<std::int64_t>(getpid());
  wo.stale_after_s = s.timing.stale_after_s;
  wo.heartbeat_every_s = s.timing.heartbeat_every_s;
  wo.pack_size = pack;
  wo.wait_for_running = s.wait_for_running;
  wo.log = log;
  const WorkerSummary done = run_worker(*store, *runner, *source, wo, [] { return stop_requests() > 0; });
  // A full disk ends this worker; no other should start until there is room.
  if (done.no_space) return kWorkerExitSetup;
  if (done.store_unavailable) return kWorkerExitError;
  return stop_requests() > 0 ? kWorkerExitStopped : kWorkerExitOk;
}

std::string self_binary() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the lrtune binary to start workers: " + ec.message());
  return p.string();
}

}  // namespace lrtune
