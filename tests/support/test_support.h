// Helpers shared by the tests: temporary folders and tiny CIFAR-format data.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "data/cifar10.h"

namespace lrtune::test {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Writes data_batch_1..5.bin (each `per_file` records) and test_batch.bin
// (`n_test` records) into `dir`. Labels cycle 0..9. Each image is noise plus a
// class-specific pattern (a bright horizontal band whose row and colour depend
// on the class), so a small CNN can learn it to near-perfect accuracy quickly,
// but not without learning.
void write_tiny_cifar(const std::filesystem::path& dir, int per_file, int n_test,
                      std::uint64_t seed = 7);

// Tiny generated data (write_tiny_cifar) in its own temporary folder, loaded.
struct TinyCifar {
  TempDir dir;
  ImageDataset data;
  TinyCifar(int per_file, int n_test);
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
};

// Path of the lrtune executable under test, and of the shared real data set.
std::string lrtune_binary();
std::string shared_cifar_dir();

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

// Polls `done` every 10 ms until it holds; false when it still does not after
// `limit_s`. The limit guards against a hang only: tests wait on events (a
// status in the store, a line, a file), never on how long something takes.
bool wait_until(const std::function<bool()>& done, double limit_s = 120);

// Runs a shell command, returning its exit status; output goes to `output`.
int run_command(const std::string& command, std::string* output = nullptr);

}  // namespace lrtune::test
