// lrtune_bench: training and evaluation speed of the reference network (lrtune's
// own, or the same network as a TorchScript file) and of ResNet-18, on
// pre-made tensors (the floor) and through lrtune's real epoch, side by side
// with the same work in Python PyTorch, interleaved run by run.
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "train/builtin_kinds.h"
#include "core/provenance.h"
#include "data/cifar10.h"
#include "data/datasets.h"
#include "machine.h"
#include "op_profile.h"
#include "python_worker.h"
#include "table.h"
#include "workloads.h"

namespace fs = std::filesystem;
using namespace lrtune;
using namespace lrtune::bench;

namespace {

struct Options {
  std::vector<std::string> devices;
  std::vector<std::int64_t> batches = {64, 128, 256};
  std::vector<std::string> modes = {"steps", "epoch"};
  std::vector<std::string> precisions = {"fp32"};
  std::vector<std::string> models = {"native"};
  std::int64_t resnet_images = 512;
  std::int64_t eval_batch = 250;
  int repeats = 3;
  std::int64_t steps = 0, eval_batches = 0;
  int threads = 0;
  std::string clock = "wall";
  std::string dataset = "cifar10";
  std::string data;
  std::string python = "/usr/bin/python3";
  std::string reference = std::string(LRTUNE_BENCH_DIR) + "/reference/epoch_bench.py";
  bool no_python = false;
  std::string malloc_mode = "steady";
  bool profile = false;
  double peak_seconds = 1.0;
  std::string csv, markdown;
};

std::string cpu_capability() {
  std::istringstream in(torch::show_config());
  for (std::string line; std::getline(in, line);)
    if (line.find("CPU capability usage") != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "?";
}

// Large blocks stay in the heap when freed (up to 32 MB each, the most glibc
// allows, and no trimming below 1 GB free): without this, depending on what a
// process allocated before, glibc can hand an activation's memory back to the
// kernel after every step and fault it in again on the next (seen here: up to
// 5,000 faults per step), which makes the floors depend on the order rows run
// in. lrtune train and study workers measured no such faults.
void steady_malloc() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "(unset)";
}

// One row: C++ and (optionally) Python alternate, after one short warm-up each.
RowResult measure_row(const std::string& mode, const Work& work, const ImageDataset* data,
                      const fs::path& scratch, PythonWorker* py, int repeats) {
  RowResult r;
  r.mode = mode;
  r.work = work;
  Work warm = work;
  warm.train_steps = 3;
  warm.eval_batches = 1;
  std::unique_ptr<StepsBench> steps;
  std::optional<EpochBench> epoch;
  if (mode == "steps") {
    steps = std::make_unique<StepsBench>(work);
    StepsBench(warm).run();
  } else {
    epoch.emplace(*data, work, scratch);
    EpochBench(*data, warm, scratch).run();
  }
  if (py) py->run(mode, warm);
  for (int i = 0; i < repeats; ++i) {
    r.cpp.push_back(steps ? steps->run() : epoch->run());
    if (py) r.py.push_back(py->run(mode, work));
    std::cerr << "  " << mode << " b" << work.batch << " " << work.device << " repeat " << i + 1
              << "/" << repeats << ": lrtune " << r.cpp.back().epoch_s() << " s/epoch"
              << (py ? ", PyTorch " + std::to_string(r.py.back().epoch_s()) + " s/epoch" : "")
              << "  (load " << load_average() << ")\n";
  }
  return r;
}

// Operator tables of lrtune's real epoch, by operator and input shape (so by
// layer, forward and backward). The first profiled run of a process page-faults
// fresh memory for its zero-filled gradient buffers (about 3 ms per 8 MB
// fill_ at batch 128), which unprofiled runs do not do: so the work runs once
// under the profiler unreported, and the second profile is printed.
void run_profiles(const Options& o, const ImageDataset& data, const fs::path& scratch) {
  for (const auto& device : o.devices)
    for (auto b : o.batches) {
      Work w{device, b, o.eval_batch, o.steps ? o.steps : 40, o.eval_batches ? o.eval_batches : 8,
             o.clock};
      EpochBench epoch(data, w, scratch);
      epoch.run();
      profile_ops([&] { epoch.run(); }, /*by_shape=*/true);
      print_profile(std::cout, "epoch b" + std::to_string(b) + " (run_training, " +
                                   std::to_string(w.train_images()) + " + " +
                                   std::to_string(w.eval_images()) + " images, by layer)",
                    profile_ops([&] { epoch.run(); }, /*by_shape=*/true), 40);
    }
}

}  // namespace

int main(int argc, char** argv) {
  lrtune::register_builtin_kinds();
  Options o;
  CLI::App app{"Speed of the reference network (native or TorchScript) and ResNet-18: floor steps "
               "and real epochs, lrtune vs PyTorch"};
  app.add_option("--device", o.devices, "devices (default: cpu, and cuda when available)")
      ->delimiter(',');
  app.add_option("--batch", o.batches, "training batch sizes")->delimiter(',')->capture_default_str();
  app.add_option("--mode", o.modes, "steps (pre-made tensors) and/or epoch (run_training)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--precision", o.precisions,
                 "fp32 and/or bf16 (bf16 autocast on both sides), interleaved per batch size")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  app.add_option("--model", o.models,
                 "native (lrtune's reference CNN), torchscript (the same network as a TorchScript "
                 "file, trained by lrtune's model \"torchscript\"), resnet18 (torchvision's "
                 "ResNet-18, scripted); Python trains each eagerly")
      ->delimiter(',')
      ->check(CLI::IsMember({"native", "torchscript", "resnet18"}))
      ->capture_default_str();
  app.add_option("--resnet-images", o.resnet_images,
                 "training images per repeat of resnet18 rows (evaluation: the same number)")
      ->capture_default_str();
  app.add_option("--eval-batch", o.eval_batch, "evaluation batch size")->capture_default_str();
  app.add_option("--repeats", o.repeats, "timed repeats per row (median reported)")
      ->capture_default_str();
  app.add_option("--steps", o.steps, "training steps per repeat (0 = a full epoch, 45,000 images)")
      ->capture_default_str();
  app.add_option("--batches", o.eval_batches,
                 "evaluation batches per repeat (0 = a full evaluation, 15,000 images)")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  app.add_option("--clock", o.clock,
                 "wall, or cpu: process CPU time (robust on a busy machine; use with --threads 1)")
      ->check(CLI::IsMember({"wall", "cpu"}))
      ->capture_default_str();
  app.add_option("--dataset", o.dataset,
                 "cifar10 (generated CIFAR-10-shaped data, or --data's files) or fashion_mnist "
                 "(the real files: --data, else Debian's package)")
      ->check(CLI::IsMember({"cifar10", "fashion_mnist"}))
      ->capture_default_str();
  app.add_option("--data", o.data, "the data set's folder for epochs (cifar10 default: generated data)");
  app.add_option("--python", o.python, "Python with python3-torch")->capture_default_str();
  app.add_option("--reference", o.reference, "the Python reference script")->capture_default_str();
  app.add_flag("--no-python", o.no_python, "do not run the Python reference");
  app.add_option("--malloc", o.malloc_mode,
                 "steady: both processes keep freed memory (no page faults from allocation "
                 "history); as-is: glibc's defaults")
      ->check(CLI::IsMember({"steady", "as-is"}))
      ->capture_default_str();
  app.add_flag("--profile", o.profile, "print operator profiles instead of the table");
  app.add_option("--peak-seconds", o.peak_seconds, "length of the FMA peak measurement (0 = skip)")
      ->capture_default_str();
  app.add_option("--csv", o.csv, "also write the results as CSV to this file");
  app.add_option("--markdown", o.markdown, "also write the Markdown table to this file");
  CLI11_PARSE(app, argc, argv);

  try {
    if (o.malloc_mode == "steady") steady_malloc();
    if (o.devices.empty()) {
      o.devices = {"cpu"};
      if (torch::cuda::is_available()) o.devices.push_back("cuda");
    }
    const Machine machine = probe_machine(o.peak_seconds);
    if (o.threads <= 0) o.threads = machine.cores;
    configure_torch(o.threads, /*deterministic=*/true);  // what run_training sets on the CPU

    const fs::path scratch = fs::temp_directory_path() / ("lrtune_bench_" + std::to_string(getpid()));
    fs::create_directories(scratch);
    TrainConfig data_cfg;
    data_cfg.dataset = o.dataset;
    data_cfg.data = o.data;
    const bool generated = o.dataset == "cifar10" && o.data.empty();
    const std::string data_dir = generated ? "" : data_folder(data_cfg);
    const ImageDataset data = generated ? generated_cifar(1) : load_dataset(data_cfg, data_dir);

    if (o.profile) {
      run_profiles(o, data, scratch);
      fs::remove_all(scratch);
      return 0;
    }
    std::unique_ptr<PythonWorker> py;
    if (!o.no_python) {
      std::vector<std::string> args = {"--threads", std::to_string(o.threads), "--malloc",
                                       o.malloc_mode};
      args.insert(args.end(), {"--dataset", o.dataset});
      if (!data_dir.empty()) args.insert(args.end(), {"--data", data_dir});
      py = std::make_unique<PythonWorker>(o.python, o.reference, args);
    }

    // The TorchScript files, written by Python (the way users make them).
    std::map<std::string, std::string> model_files;
    for (const auto& m : o.models)
      if (m != "native") {
        if (!py) throw std::runtime_error("--model " + m + " needs Python to script the network "
                                          "(drop --no-python)");
        model_files[m] = (scratch / (m + ".pt")).string();
        py->script(m, model_files[m]);
      }

    Report report;
    report.machine = machine;
    report.threads = o.threads;
    report.shape = data.shape();
    report.versions = version_line() + "; PyTorch (Python) " + (py ? py->version() : "not run");
    report.settings = "threads " + std::to_string(o.threads) + ", ATen CPU capability " +
                      cpu_capability() + ", OMP_NUM_THREADS " + env("OMP_NUM_THREADS") +
                      ", OPENBLAS_NUM_THREADS " + env("OPENBLAS_NUM_THREADS") + ", data " +
                      (generated ? "generated" : o.dataset + " files") + " (" + data.shape().text() +
                      "), repeats " +
                      std::to_string(o.repeats) + ", clock " + o.clock + ", malloc " + o.malloc_mode;
    report.load_before = load_average();
    for (const auto& device : o.devices)
      for (auto b : o.batches)
        for (const auto& mode : o.modes)
          for (const auto& precision : o.precisions)
            for (const auto& model : o.models) {
              Work w{device, b, o.eval_batch, o.steps, o.eval_batches, o.clock, precision, data.shape()};
              w.model = model;
              if (model != "native") w.model_file = model_files.at(model);
              if (model == "resnet18") {  // a few hundred images: slow on CPU cores
                w.train_steps = (o.resnet_images + b - 1) / b;
                w.eval_batches = (o.resnet_images + o.eval_batch - 1) / o.eval_batch;
              }
              report.rows.push_back(measure_row(mode, w, &data, scratch, py.get(), o.repeats));
            }
    report.load_after = load_average();
    fs::remove_all(scratch);

    write_markdown(std::cout, report);
    if (!o.markdown.empty()) {
      std::ofstream out(o.markdown);
      write_markdown(out, report);
    }
    if (!o.csv.empty()) {
      std::ofstream out(o.csv);
      write_csv(out, report);
    }
  } catch (const std::exception& e) {
    std::cerr << "lrtune_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
