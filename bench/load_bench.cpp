// lrtune_load_bench: training speed on a busy machine. For each number of busy
// processes, one epoch of lrtune (default threads, all cores fixed, 1 thread)
// and of Python PyTorch (all cores, 1 thread), interleaved, each in its own process.
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "busy_load.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "machine.h"
#include "python_worker.h"
#include "table.h"
#include "train/builtin_kinds.h"
#include "train/trainer.h"
#include "workloads.h"
#if __has_include("train/threads.h")
#include "train/threads.h"
#define LRTUNE_HAS_THREAD_LOG 1
#endif

namespace fs = std::filesystem;
using namespace lrtune;
using namespace lrtune::bench;

namespace {

// First argument of this program when it runs as one lrtune variant's worker.
constexpr const char* kServeFlag = "--serve-epochs";

// One way of training, in the order each repeat runs them (A B C D E).
struct Variant {
  std::string id, label;
  bool python = false;
  int threads = 0;  // lrtune: apply_threads' argument (0 = its default); Python: set_num_threads
};

std::vector<Variant> variants(int cores) {
  const std::string n = std::to_string(cores);
  return {{"A", "lrtune default threads", false, 0},
          {"B", "lrtune --threads " + n, false, cores},
          {"C", "lrtune --threads 1", false, 1},
          {"D", "PyTorch " + n + " threads", true, cores},
          {"E", "PyTorch 1 thread", true, 1}};
}

struct Options {
  std::vector<int> loads = {0, 1, 2};
  int repeats = 3;
  std::int64_t train_images = 10'000, eval_images = 1'000, batch = 128, eval_batch = 250;
  double settle_s = 1.0, time_limit_s = 900;
  std::string data;
  std::string python = "/usr/bin/python3";
  std::string reference = std::string(LRTUNE_BENCH_DIR) + "/reference/epoch_bench.py";
  std::string csv, markdown;
};

// What one load level measured: runs[variant][repeat].
struct Level {
  int busy = 0;
  std::string load_before, load_after;
  double others = 0;  // cores' worth of CPU used by processes outside the benchmark
  std::vector<std::vector<Timing>> runs;
  std::vector<std::vector<int>> threads_after;  // each run's thread count at its end
};

// ---- The lrtune worker (this program run with kServeFlag) -------------------

// As lrtune_bench --malloc steady, and the Python reference's default.
void steady_malloc() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

nlohmann::json epoch_answer(const nlohmann::json& q, const ImageDataset& data, const fs::path& scratch) {
  Work w;
  w.batch = q.at("batch");
  w.eval_batch = q.at("eval_batch");
  w.train_steps = q.at("train_images").get<std::int64_t>() / w.batch;
  w.eval_batches = q.at("eval_images").get<std::int64_t>() / w.eval_batch;
  const Timing t = EpochBench(data, w, scratch).run();
  return {{"train_images", t.train_images}, {"train_s", t.train_s},
          {"eval_images", t.eval_images},   {"eval_s", t.eval_s},
          {"other_s", t.other_s},           {"faults", t.faults},
          {"threads", torch::get_num_threads()}};
}

// Answers the PythonWorker line protocol with lrtune epochs, in one process
// for the whole benchmark, so that an adaptive thread setting keeps its state.
int serve_epochs(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::int64_t threads = 0;
  std::string data_dir, scratch, threads_file, id;
  bool worker = false;
  CLI::App app{"one lrtune variant of lrtune_load_bench"};
  app.add_flag("--worker", worker);
  app.add_option("--threads", threads);
  app.add_option("--data", data_dir);
  app.add_option("--scratch", scratch)->required();
  app.add_option("--threads-file", threads_file)->required();
  app.add_option("--id", id);
  CLI11_PARSE(app, argc, argv);

  steady_malloc();
  register_builtin_kinds();
  apply_threads(threads);
#ifdef LRTUNE_HAS_THREAD_LOG
  set_thread_change_log([id](const std::string& line) { std::cerr << "    [" << id << "] " << line << "\n"; });
#endif
  const ImageDataset data = data_dir.empty() ? generated_cifar(1) : load_cifar10(data_dir);
  fs::create_directories(scratch);
  for (std::string line; std::getline(std::cin, line);) {
    const auto q = nlohmann::json::parse(line);
    nlohmann::json a;
    try {
      if (q.at("cmd") == "quit") break;
      a = q.at("cmd") == "hello" ? nlohmann::json{{"torch", version_line()}}
                                 : epoch_answer(q, data, scratch);
      std::ofstream(threads_file) << torch::get_num_threads() << "\n";
    } catch (const std::exception& e) {
      a = {{"error", e.what()}};
    }
    std::cout << a.dump() << "\n" << std::flush;
  }
  fs::remove_all(scratch);
  return 0;
}

// ---- The benchmark ----------------------------------------------------------

std::unique_ptr<PythonWorker> start_worker(const Options& o, const Variant& v,
                                           const fs::path& scratch) {
  const std::string threads = std::to_string(v.threads);
  if (v.python) {
    std::vector<std::string> args = {"--threads", threads, "--malloc", "steady"};
    if (!o.data.empty()) args.insert(args.end(), {"--data", o.data});
    return std::make_unique<PythonWorker>(o.python, o.reference, args);
  }
  // PythonWorker runs `program script --worker args`: here this program, whose
  // first argument makes it a worker.
  std::vector<std::string> args = {"--threads", threads, "--id", v.id,
                                   "--scratch", (scratch / v.id).string(),
                                   "--threads-file", (scratch / ("threads-" + v.id)).string()};
  if (!o.data.empty()) args.insert(args.end(), {"--data", o.data});
  return std::make_unique<PythonWorker>(fs::read_symlink("/proc/self/exe").string(), kServeFlag,
                                        args);
}

int threads_after(const Variant& v, const fs::path& scratch) {
  if (v.python) return v.threads;
  int n = 0;
  std::ifstream(scratch / ("threads-" + v.id)) >> n;
  return n;
}

Work epoch_work(const Options& o) {
  Work w;
  w.batch = o.batch;
  w.eval_batch = o.eval_batch;
  w.train_steps = (o.train_images + o.batch - 1) / o.batch;
  w.eval_batches = std::max<std::int64_t>(1, (o.eval_images + o.eval_batch - 1) / o.eval_batch);
  return w;
}

// K busy processes, a pause for them to start, then the repeats, A B C D E each.
Level run_level(const Options& o, int busy, const std::vector<Variant>& vs,
                std::vector<std::unique_ptr<PythonWorker>>& workers, const fs::path& scratch) {
  Level level;
  level.busy = busy;
  level.runs.resize(vs.size());
  level.threads_after.resize(vs.size());
  level.load_before = load_average();
  std::cerr << "busy processes: " << busy << "  (load average before: " << level.load_before << ")\n";
  const CpuSnapshot start = cpu_snapshot();
  BusyLoad load(busy);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_s));
  const Work work = epoch_work(o);
  for (int r = 0; r < o.repeats; ++r)
    for (std::size_t i = 0; i < vs.size(); ++i) {
      const Timing t = workers[i]->run("epoch", work);
      level.runs[i].push_back(t);
      level.threads_after[i].push_back(threads_after(vs[i], scratch));
      std::fprintf(stderr, "  repeat %d/%d %s %-26s %7.0f img/s training, %5.1f s in all, threads at end %d  (load %s)\n",
                   r + 1, o.repeats, vs[i].id.c_str(), vs[i].label.c_str(), t.train_ips(),
                   t.train_s + t.eval_s + t.other_s, level.threads_after[i].back(),
                   load_average().c_str());
    }
  level.others = others_cores(start, cpu_snapshot());
  level.load_after = load_average();
  std::fprintf(stderr, "  other processes used %.2f cores during the level\n", level.others);
  return level;
}

std::vector<double> rates(const std::vector<Timing>& ts) {
  std::vector<double> v;
  for (const auto& t : ts) v.push_back(t.train_ips());
  return v;
}

// Median over repeats of A's rate over X's in the same repeat (drift cancels).
double ratio(const Level& l, std::size_t a, std::size_t x) {
  std::vector<double> v;
  for (std::size_t r = 0; r < l.runs[a].size() && r < l.runs[x].size(); ++r)
    if (l.runs[x][r].train_ips() > 0) v.push_back(l.runs[a][r].train_ips() / l.runs[x][r].train_ips());
  return median(v);
}

std::string rate_cell(const std::vector<Timing>& ts) {
  const auto v = rates(ts);
  if (v.empty()) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f (%.0f–%.0f)", median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  return buf;
}

void write_markdown(std::ostream& out, const Options& o, const std::vector<Variant>& vs,
                    const std::vector<Level>& levels, const std::string& header) {
  out << header << "\n| busy processes | load average before (1, 5, 15 min) | others' CPU (cores) |";
  for (const auto& v : vs) out << " " << v.id << ": " << v.label << " |";
  out << " A/C | A/B | A/D | A's threads after each repeat |\n|---|---|";
  for (std::size_t i = 0; i < vs.size() + 5; ++i) out << "---|";
  out << "\n";
  for (const auto& l : levels) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.2f |", l.others);
    out << "| " << l.busy << " | " << l.load_before << " |" << buf;
    for (const auto& runs : l.runs) out << " " << rate_cell(runs) << " |";
    std::snprintf(buf, sizeof buf, " %.2f | %.2f | %.2f |", ratio(l, 0, 2), ratio(l, 0, 1), ratio(l, 0, 3));
    out << buf;
    for (std::size_t r = 0; r < l.threads_after[0].size(); ++r)
      out << (r ? ", " : " ") << l.threads_after[0][r];
    out << " |\n";
  }
  out << "\nTraining img/s: median (min–max) of " << o.repeats
      << " interleaved repeats; ratios are medians of the per-repeat ratios of training img/s; "
         "others' CPU: cores' worth of CPU used during the level by processes outside the "
         "benchmark and its busy processes.\n";
}

void write_csv(std::ostream& out, const std::vector<Variant>& vs, const std::vector<Level>& levels) {
  out << "busy,load_before,load_after,others_cores,variant,label,repeat,threads_after,train_images,train_s,"
         "train_ips,eval_images,eval_s,eval_ips\n";
  for (const auto& l : levels)
    for (std::size_t i = 0; i < vs.size(); ++i)
      for (std::size_t r = 0; r < l.runs[i].size(); ++r) {
        const Timing& t = l.runs[i][r];
        char buf[512];
        std::snprintf(buf, sizeof buf, "%d,%s,%s,%.2f,%s,%s,%zu,%d,%.0f,%.4f,%.1f,%.0f,%.4f,%.1f\n",
                      l.busy, l.load_before.c_str(), l.load_after.c_str(), l.others, vs[i].id.c_str(),
                      vs[i].label.c_str(), r + 1, l.threads_after[i][r], t.train_images, t.train_s,
                      t.train_ips(), t.eval_images, t.eval_s, t.eval_ips());
        out << buf;
      }
}

std::string header_text(const Options& o, const Machine& m, const std::string& versions) {
  const Work w = epoch_work(o);
  std::ostringstream settle;
  settle << o.settle_s;
  return "Machine: " + m.cpu_model + ", " + std::to_string(m.cores) + " cores\n" + "Versions: " +
         versions + "\nWork per run: one epoch from scratch, " + std::to_string(w.train_images()) +
         " training images at batch " + std::to_string(w.batch) + ", " +
         std::to_string(w.eval_images()) + " evaluation images; data: " +
         (o.data.empty() ? "generated (random CIFAR-10-shaped images)" : "CIFAR-10 files") +
         "; busy processes: tight CPU loops, started " + settle.str() +
         " s before each level's first run\n";
}

void parse_options(CLI::App& app, Options& o) {
  app.add_option("--loads", o.loads, "numbers of busy processes, one level each")
      ->delimiter(',')->capture_default_str();
  app.add_option("--repeats", o.repeats, "interleaved repeats per level (median reported)")
      ->capture_default_str();
  app.add_option("--train-images", o.train_images, "training images per epoch (shrink under load)")
      ->capture_default_str();
  app.add_option("--eval-images", o.eval_images, "evaluation images per epoch")->capture_default_str();
  app.add_option("--batch", o.batch, "training batch size")->capture_default_str();
  app.add_option("--eval-batch", o.eval_batch, "evaluation batch size")->capture_default_str();
  app.add_option("--settle", o.settle_s, "seconds between starting the busy processes and the first run")
      ->capture_default_str();
  app.add_option("--time-limit", o.time_limit_s, "seconds after which everything is stopped (0 = none)")
      ->capture_default_str();
  app.add_option("--data", o.data, "CIFAR-10 binary folder (default: generated data)");
  app.add_option("--python", o.python, "Python with python3-torch")->capture_default_str();
  app.add_option("--reference", o.reference, "the Python reference script")->capture_default_str();
  app.add_option("--csv", o.csv, "also write every run as CSV to this file");
  app.add_option("--markdown", o.markdown, "also write the Markdown table to this file");
}

// The --markdown and --csv files, rewritten after every level so that a run
// stopped by its time limit keeps the levels it finished.
void write_files(const Options& o, const std::vector<Variant>& vs, const std::vector<Level>& levels,
                 const std::string& header) {
  if (!o.markdown.empty()) {
    std::ofstream out(o.markdown);
    write_markdown(out, o, vs, levels, header);
  }
  if (!o.csv.empty()) {
    std::ofstream out(o.csv);
    write_csv(out, vs, levels);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == kServeFlag) return serve_epochs(argc - 1, argv + 1);
  Options o;
  CLI::App app{"Training speed on a busy machine: lrtune's thread settings against PyTorch's"};
  parse_options(app, o);
  CLI11_PARSE(app, argc, argv);
  try {
    stop_busy_on_signals("lrtune_load_bench");
    if (o.time_limit_s > 0) alarm(static_cast<unsigned>(std::ceil(o.time_limit_s)));
    const Machine machine = probe_machine(0);
    const auto vs = variants(machine.cores);
    const fs::path scratch = fs::temp_directory_path() / ("lrtune_load_bench_" + std::to_string(getpid()));
    fs::create_directories(scratch);
    std::vector<std::unique_ptr<PythonWorker>> workers;
    for (const auto& v : vs) workers.push_back(start_worker(o, v, scratch));
    const std::string versions = workers[0]->version() + "; PyTorch (Python) " + workers[3]->version();
    std::cerr << "data: " << (o.data.empty() ? "generated (no --data)" : "CIFAR-10 files in " + o.data)
              << "\n";
    Work warm = epoch_work(o);
    warm.train_steps = 3;
    warm.eval_batches = 1;
    for (auto& w : workers) w->run("epoch", warm);
    std::vector<Level> levels;
    const std::string header = header_text(o, machine, versions);
    for (int busy : o.loads) {
      levels.push_back(run_level(o, busy, vs, workers, scratch));
      write_files(o, vs, levels, header);
    }
    workers.clear();
    fs::remove_all(scratch);
    write_markdown(std::cout, o, vs, levels, header);
  } catch (const std::exception& e) {
    std::cerr << "lrtune_load_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
