// Claim-and-commit throughput of the study stores: N fake workers (threads),
// each with its own Store object on one database, take the trials of one
// study (claim_trial, put_epoch for each epoch, finish_trial) until none is
// left. Trains nothing. Per store and worker count: trials per second, the
// p50 and p99 time of one claim-and-commit, the StoreErrors caught and
// retried; then every trial must be done exactly once (docs/results-store.md,
// "Claims on many workers").
//
//   build/bench/lrtune_claim_bench [--stores sqlite,postgres] [--workers 1,8,32,64]
//                                  [--trials 2000] [--epochs 1] [--postgres URL]
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "machine.h"
#include "store/postgres_store.h"
#include "store/store.h"
#include "support/postgres_server.h"

namespace {

using namespace lrtune;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "lrtune_claim_bench";
constexpr const char* kHost = "bench";
constexpr double kStaleAfterS = 3600;
constexpr int kMaxFailures = 100;  // StoreErrors in a row on one call before a worker gives up
constexpr std::size_t kProblemsShown = 5;

constexpr const char* kHelp = R"(usage: lrtune_claim_bench [options]

Claim-and-commit throughput of the study stores. For each store and each
worker count N, a study of T trials is registered (put_study, then add_trial
for each), then N fake workers (threads, each with its own Store object on
the same database) loop: claim_trial over all the study's ids (host "bench",
pid = the worker's index, stale after 3600 s), put_epoch for each of E
epochs, finish_trial(done), until no trial is left to claim. Nothing is
trained.

Output: a header line (machine, nproc, settings) and a Markdown table on
stdout, one row per (store, workers):
  trials/s   trials over the wall time of the whole run (all workers)
  p50, p99   time of one claim-and-commit: the claim, the E epoch writes and
             the finish of one trial, in milliseconds
  errors     StoreError exceptions the workers caught ("lock errors": a busy
             SQLite database, a failed PostgreSQL statement); a worker that
             catches one counts it and retries the same call, and gives up
             after 100 in a row
Progress goes to stderr. After each run every trial must be done exactly
once: status done, attempts 1, E epoch rows. Below the table stdout says
"check: ok", or "check: FAILED" and the discrepancies, and the exit status
is 1.

Options:
  --stores LIST   stores to measure, comma-separated: sqlite, postgres
                  (default sqlite,postgres)
  --workers LIST  worker counts, comma-separated (default 1,8,32,64)
  --trials T      trials per study (default 2000)
  --epochs E      epochs per trial, 1 or more (default 1)
  --postgres URL  measure PostgreSQL on this existing server's database
                  (postgresql://user@host:port/database, empty or already
                  lrtune's) instead of a throw-away server; each row adds
                  one new study to it
  --help          this text

sqlite: one results.sqlite per row (WAL, 30 s busy timeout) in a fresh
temporary folder, removed at exit.

postgres: without --postgres, the program starts a throw-away server (the
tests' one: PostgreSQL 15 from /usr/lib/postgresql/15/bin or LRTUNE_PG_BIN,
127.0.0.1 only, fsync off; as root it runs as the postgres user), makes one
new database per row and removes everything at exit; the URL is printed on
stderr. When that server cannot be started (no initdb, no postgres user),
the postgres rows are skipped with a message on stderr: not a failure.
Every worker holds one connection, plus one for registering and checking.
PostgreSQL's default max_connections is 100, 3 of them kept for superusers:
64 workers and the registering connection fit, 96 workers is the most.

Exit status: 0 every check passed; 1 an error or a failed check; 2 a bad
option (one line saying which).
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Settings {
  std::vector<std::string> stores{"sqlite", "postgres"};
  std::vector<std::int64_t> workers{1, 8, 32, 64};
  std::int64_t trials = 2000;
  std::int64_t epochs = 1;
  std::string postgres_url;  // "" = a throw-away server
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

std::string join(const std::vector<std::int64_t>& values) {
  std::string text;
  for (const auto v : values) text += (text.empty() ? "" : ",") + std::to_string(v);
  return text;
}

std::int64_t parse_count(const std::string& flag, const std::string& text, std::int64_t most) {
  const bool digits = !text.empty() && text.size() <= 12 &&
                      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  const std::int64_t value = digits ? std::stoll(text) : 0;
  if (value < 1 || value > most)
    throw UsageError(flag + ": expected a whole number from 1 to " + std::to_string(most) +
                     ", got '" + text + "'");
  return value;
}

std::vector<std::string> parse_stores(const std::string& text) {
  std::vector<std::string> stores;
  for (const auto& name : split(text)) {
    if (name != "sqlite" && name != "postgres")
      throw UsageError("--stores: expected sqlite and/or postgres, comma-separated, got '" + text + "'");
    if (std::find(stores.begin(), stores.end(), name) == stores.end()) stores.push_back(name);
  }
  return stores;
}

// The settings, or nullopt for --help; UsageError for a bad command line.
std::optional<Settings> parse_args(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return std::nullopt;
    if (flag != "--stores" && flag != "--workers" && flag != "--trials" && flag != "--epochs" &&
        flag != "--postgres")
      throw UsageError("unknown option '" + flag + "' (--help lists the options)");
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--stores") {
      s.stores = parse_stores(value);
    } else if (flag == "--workers") {
      s.workers.clear();
      for (const auto& n : split(value)) s.workers.push_back(parse_count(flag, n, 1000));
    } else if (flag == "--trials") {
      s.trials = parse_count(flag, value, 10000000);
    } else if (flag == "--epochs") {
      s.epochs = parse_count(flag, value, 10000);
    } else {
      if (value.empty()) throw UsageError("--postgres needs a connection URL");
      s.postgres_url = value;
    }
  }
  return s;
}

// Where one row's study lives, and how to open one more Store object on it.
struct Target {
  std::string where;  // file or URL, for progress lines
  std::string study;
  std::function<std::unique_ptr<Store>()> open;
};

// Where the measured stores keep their files, and the throw-away server.
struct Places {
  fs::path dir;                                // temporary folder, removed at exit
  test::PostgresServer* server = nullptr;      // nullptr: none (see postgres_skipped)
  std::string postgres_skipped;                // why postgres rows are skipped, "" = they run
};

Target sqlite_target(const Places& places, std::int64_t workers) {
  const fs::path file = places.dir / ("sqlite-" + std::to_string(workers)) / "results.sqlite";
  fs::create_directories(file.parent_path());
  SqliteOptions options;
  options.study = "claim-bench";
  return {file.string(), options.study,
          [file, options] { return open_sqlite_store(file.string(), options); }};
}

Target postgres_target(const Places& places, const Settings& s, std::int64_t workers) {
  PostgresOptions options;
  options.local_dir = (places.dir / "postgres-local").string();
  std::string url = s.postgres_url;
  if (url.empty()) {
    url = places.server->create_database("claim");
    options.study = "claim-bench";
  } else {
    options.study = "claim-bench-" + std::to_string(getpid()) + "-" + std::to_string(workers) +
                    "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  }
  return {url, options.study, [url, options] { return open_postgres_store(url, options); }};
}

std::string trial_id(std::int64_t index) {
  char id[32];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(index));
  return id;
}

// Registers the study and its trials; returns the ids, in claim order.
std::vector<std::string> register_study(Store& store, const std::string& name, const Settings& s) {
  StudyInfo info;
  info.name = name;
  info.description = "claim-and-commit benchmark";
  info.spec = {{"bench", "claim"}, {"trials", s.trials}, {"epochs", s.epochs}};
  for (std::int64_t i = 0; i < s.trials; ++i) info.trial_ids.push_back(trial_id(i));
  store.put_study(info);
  for (std::int64_t i = 0; i < s.trials; ++i) {
    TrialSpec t;
    t.id = info.trial_ids[static_cast<std::size_t>(i)];
    t.label = "trial=" + std::to_string(i);
    t.config = {{"lr", 0.01 * static_cast<double>(1 + i % 10)}, {"momentum", 0.9},
                {"epochs", s.epochs}, {"seed", i}};
    t.epochs_total = s.epochs;
    store.add_trial(t);
  }
  return info.trial_ids;
}

EpochMetrics fake_epoch(std::int64_t epoch) {
  EpochMetrics m;
  m.epoch = epoch;
  m.lr = 0.01;
  m.train_loss = 2.0 / static_cast<double>(epoch + 1);
  m.train_acc = 1.0 - m.train_loss / 2.5;
  m.val_loss = m.train_loss * 1.1;
  m.val_acc = m.train_acc * 0.95;
  m.test_loss = m.val_loss;
  m.test_acc = m.val_acc;
  m.seconds = 12.5;
  m.images_per_s = 4000;
  return m;
}

struct WorkerResult {
  std::vector<double> latencies_s;  // one per trial it claimed and finished
  std::int64_t errors = 0;          // StoreErrors caught, each one retried
  std::string fatal;                // what stopped it early; "" if nothing did
};

// f(), retried after each StoreError (counted) until it succeeds or has
// failed kMaxFailures times in a row.
template <typename F>
auto retrying(std::int64_t& errors, F&& f) -> decltype(f()) {
  for (int failures = 1;; ++failures) {
    try {
      return f();
    } catch (const StoreError&) {
      ++errors;
      if (failures == kMaxFailures) throw;
    }
  }
}

void work(Store& store, const std::vector<std::string>& ids, std::int64_t index,
          std::int64_t epochs, std::shared_future<void> start, WorkerResult& out) {
  start.wait();
  try {
    for (;;) {
      const auto t0 = Clock::now();
      const auto trial = retrying(
          out.errors, [&] { return store.claim_trial(ids, kHost, index, kStaleAfterS); });
      if (!trial) return;
      const std::string& id = trial->spec.id;
      for (std::int64_t e = 1; e <= epochs; ++e)
        retrying(out.errors, [&] { store.put_epoch(id, fake_epoch(e)); });
      retrying(out.errors, [&] { store.finish_trial(id, RunStatus::done); });
      out.latencies_s.push_back(seconds_since(t0));
    }
  } catch (const std::exception& e) {
    out.fatal = e.what();
  }
}

struct RowResult {
  double wall_s = 0;
  std::vector<double> latencies_s;  // all workers', sorted
  std::int64_t errors = 0;
  std::vector<std::string> problems;  // what the check found; empty = ok
};

// Opens one Store object per worker, then runs them all from one start.
RowResult run_workers(const Target& target, const std::vector<std::string>& ids,
                      std::int64_t workers, std::int64_t epochs) {
  std::vector<std::unique_ptr<Store>> stores;
  for (std::int64_t i = 0; i < workers; ++i) stores.push_back(target.open());
  std::promise<void> go;
  const std::shared_future<void> start = go.get_future().share();
  std::vector<WorkerResult> results(static_cast<std::size_t>(workers));
  std::vector<std::thread> threads;
  for (std::int64_t i = 0; i < workers; ++i)
    threads.emplace_back(work, std::ref(*stores[static_cast<std::size_t>(i)]), std::cref(ids), i,
                         epochs, start, std::ref(results[static_cast<std::size_t>(i)]));
  const auto t0 = Clock::now();
  go.set_value();
  for (auto& t : threads) t.join();
  RowResult row;
  row.wall_s = seconds_since(t0);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    row.latencies_s.insert(row.latencies_s.end(), r.latencies_s.begin(), r.latencies_s.end());
    row.errors += r.errors;
    if (!r.fatal.empty()) row.problems.push_back("worker " + std::to_string(i) + " stopped: " + r.fatal);
  }
  std::sort(row.latencies_s.begin(), row.latencies_s.end());
  return row;
}

// Every trial done exactly once, with its epochs: what is wrong, if anything.
void check(Store& store, std::int64_t trials, std::int64_t epochs, RowResult& row) {
  const auto records = store.trials();
  if (static_cast<std::int64_t>(records.size()) != trials)
    row.problems.push_back("the study holds " + std::to_string(records.size()) + " trials, not " +
                           std::to_string(trials));
  if (static_cast<std::int64_t>(row.latencies_s.size()) != trials)
    row.problems.push_back("the workers finished " + std::to_string(row.latencies_s.size()) +
                           " trials, not " + std::to_string(trials));
  for (const auto& t : records)
    if (t.status != RunStatus::done || t.attempts != 1 || t.epochs_done != epochs)
      row.problems.push_back("trial " + t.spec.id + ": " + to_string(t.status) + ", attempts " +
                             std::to_string(t.attempts) + ", " + std::to_string(t.epochs_done) +
                             " epoch rows (want done, 1, " + std::to_string(epochs) + ")");
}

// The p-th percentile (0 < p <= 1) of sorted values, nearest rank; 0 if none.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

// One row: a fresh study, the run, the check; the table row on stdout.
// Returns what the check found, each line naming the row; empty = ok.
std::vector<std::string> measure(const std::string& store_name, const Target& target,
                                 const Settings& s, std::int64_t workers) {
  const std::string row_name = store_name + ", " + std::to_string(workers) + " workers";
  std::fprintf(stderr, "%s: registering %lld trials in %s, study %s\n", row_name.c_str(),
               static_cast<long long>(s.trials), target.where.c_str(), target.study.c_str());
  auto registrar = target.open();
  const auto ids = register_study(*registrar, target.study, s);
  std::fprintf(stderr, "%s: running\n", row_name.c_str());
  RowResult row = run_workers(target, ids, workers, s.epochs);
  check(*registrar, s.trials, s.epochs, row);
  std::printf("| %s | %lld | %zu | %.1f | %.2f | %.2f | %lld |\n", store_name.c_str(),
              static_cast<long long>(workers), row.latencies_s.size(),
              static_cast<double>(row.latencies_s.size()) / row.wall_s,
              1e3 * percentile(row.latencies_s, 0.5), 1e3 * percentile(row.latencies_s, 0.99),
              static_cast<long long>(row.errors));
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %.1f s, check %s\n", row_name.c_str(), row.wall_s,
               row.problems.empty() ? "ok" : "failed");
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < std::min(row.problems.size(), kProblemsShown); ++i)
    problems.push_back(row_name + ": " + row.problems[i]);
  if (row.problems.size() > kProblemsShown)
    problems.push_back(row_name + ": ... and " +
                       std::to_string(row.problems.size() - kProblemsShown) + " more");
  return problems;
}

// Starts the throw-away PostgreSQL server when postgres rows need one.
void prepare_postgres(const Settings& s, Places& places) {
  if (std::find(s.stores.begin(), s.stores.end(), "postgres") == s.stores.end()) return;
  if (!s.postgres_url.empty()) {
    std::fprintf(stderr, "postgres: using %s\n", s.postgres_url.c_str());
    return;
  }
  std::fprintf(stderr, "postgres: starting a throw-away server\n");
  places.server = test::PostgresServer::get(places.postgres_skipped);
  if (places.server)
    std::fprintf(stderr, "postgres: server at %s (one database per row)\n",
                 places.server->url("postgres").c_str());
  else
    std::fprintf(stderr, "postgres: skipped, no server: %s\n", places.postgres_skipped.c_str());
}

void print_header(const Settings& s) {
  const bench::Machine m = bench::probe_machine(0);
  std::string stores;
  for (const auto& name : s.stores) stores += (stores.empty() ? "" : ",") + name;
  std::printf("Claim-and-commit on %s, nproc %d, load %s: %lld trials of %lld epoch(s) per run, "
              "workers %s, stores %s\n\n",
              m.cpu_model.c_str(), m.cores, m.load.c_str(), static_cast<long long>(s.trials),
              static_cast<long long>(s.epochs), join(s.workers).c_str(), stores.c_str());
  std::printf("| store | workers | trials | trials/s | p50 ms | p99 ms | errors |\n"
              "|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
}

// Every row; false when any check failed.
bool run_all(const Settings& s, Places& places) {
  prepare_postgres(s, places);
  print_header(s);
  std::vector<std::string> problems;
  for (const auto& store_name : s.stores) {
    if (store_name == "postgres" && !places.postgres_skipped.empty()) continue;
    for (const auto workers : s.workers) {
      const Target target = store_name == "sqlite" ? sqlite_target(places, workers)
                                                   : postgres_target(places, s, workers);
      const auto found = measure(store_name, target, s, workers);
      problems.insert(problems.end(), found.begin(), found.end());
    }
  }
  if (!places.postgres_skipped.empty())
    std::printf("\npostgres: skipped, no server: %s\n", places.postgres_skipped.c_str());
  std::printf("\ncheck: %s\n", problems.empty() ? "ok, every trial done exactly once" : "FAILED");
  for (const auto& p : problems) std::printf("  %s\n", p.c_str());
  return problems.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Settings> settings;
  try {
    settings = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return 2;
  }
  if (!settings) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  Places places;
  places.dir = fs::temp_directory_path() / ("lrtune-claim-bench-" + std::to_string(getpid()));
  int status = 0;
  try {
    fs::create_directories(places.dir);
    status = run_all(*settings, places) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", kProgram, e.what());
    status = 1;
  }
  std::error_code ec;
  fs::remove_all(places.dir, ec);
  return status;
}
