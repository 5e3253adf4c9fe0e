// Helpers shared by the tests.
#include "support/test_support.h"

#include "support/train_support.h"

#include "train/builtin_kinds.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace lrtune::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "lrtune-test-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  path_ = mkdtemp(buf.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
void write_file(const fs::path& path, int records, std::mt19937_64& rng) {
  std::ofstream out(path, std::ios::binary);
  std::vector<unsigned char> rec(3073);
  for (int i = 0; i < records; ++i) {
    const int label = i % 10;
    rec[0] = static_cast<unsigned char>(label);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) {
          int v = static_cast<int>(rng() % 64);  // background noise
          const bool band = y >= 3 * label && y < 3 * label + 4;
          const bool colour = c == label % 3;
          if (band) v += colour ? 190 : 90;
          rec[1 + (c * 32 + y) * 32 + x] = static_cast<unsigned char>(std::min(v, 255));
        }
    out.write(reinterpret_cast<const char*>(rec.data()), static_cast<std::streamsize>(rec.size()));
  }
}
}  // namespace

TinyCifar::TinyCifar(int per_file, int n_test) {
  write_tiny_cifar(dir.path(), per_file, n_test);
  data = load_cifar10(dir.str());
}

void write_tiny_cifar(const fs::path& dir, int per_file, int n_test, std::uint64_t seed) {
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  for (int k = 1; k <= 5; ++k)
    write_file(dir / ("data_batch_" + std::to_string(k) + ".bin"), per_file, rng);
  write_file(dir / "test_batch.bin", n_test, rng);
}

std::string lrtune_binary() { return LRTUNE_BINARY; }
std::string shared_cifar_dir() { return LRTUNE_SHARED_DATA; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  std::string text;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

namespace {

LabelledImages blocks(const DataShape& s, std::int64_t per_class, std::uint64_t seed) {
  const std::int64_t n = per_class * s.classes, grid = (s.height - 2) / 3;
  torch::manual_seed(seed);
  auto images = torch::randint(0, 64, {n, s.channels, s.height, s.width}, torch::kInt64).to(torch::kUInt8);
  auto labels = torch::arange(n, torch::kInt64).remainder(s.classes);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = i % s.classes, y = 1 + 3 * (c % grid), x = 1 + 3 * ((c / grid) % grid);
    for (std::int64_t ch = 0; ch < s.channels; ++ch)
      images[i][ch].narrow(0, y, 3).narrow(1, x, 3).fill_(ch == c % s.channels || s.channels == 1 ? 255 : 160);
  }
  return {images, labels};
}

}  // namespace

ImageDataset generated_blocks(const DataShape& s, std::int64_t per_class) {
  ImageDataset d;
  d.kind = "generated";
  d.train = blocks(s, per_class, 1);
  d.test = blocks(s, per_class / 4, 2);
  for (std::int64_t c = 0; c < s.classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  d.fingerprint = "0000000000000000";
  return d;
}

std::vector<EpochMetrics> train_epochs(const TrainConfig& cfg, const ImageDataset& data,
                                       const std::string& checkpoint, std::function<bool()> stop,
                                       RunOutcome* outcome) {
  std::vector<EpochMetrics> rows;
  TrainHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics& m) { rows.push_back(m); };
  hooks.should_stop = std::move(stop);
  apply_threads(cfg.threads);
  const RunOutcome o = run_training(cfg, data, checkpoint, hooks);
  if (outcome) *outcome = o;
  return rows;
}

bool wait_until(const std::function<bool()>& done, double limit_s) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_s);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace lrtune::test

namespace {
// Every test sees the shipped kinds, as `lrtune` does from main().
const bool kKindsRegistered = (lrtune::register_builtin_kinds(), true);
}  // namespace
