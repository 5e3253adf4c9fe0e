// The Python reference as a long-lived child process: the benchmark asks it
// for one timed repeat at a time, so C++ and Python runs interleave (A B A B).
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "timing.h"

namespace lrtune::bench {

class PythonWorker {
 public:
  // Starts `python script --worker args...`; throws std::runtime_error when it
  // cannot start or does not answer its greeting.
  PythonWorker(const std::string& python, const std::string& script,
               const std::vector<std::string>& args);
  ~PythonWorker();
  PythonWorker(const PythonWorker&) = delete;
  PythonWorker& operator=(const PythonWorker&) = delete;

  // "steps" or "epoch", the same work as the C++ side; one repeat.
  Timing run(const std::string& mode, const Work& work);
  // Saves the network `model` ("torchscript": the reference CNN, "resnet18":
  // torchvision's) with torch.jit.script to `path`, for lrtune to train.
  void script(const std::string& model, const std::string& path);
  const std::string& version() const { return version_; }

 private:
  std::string request(const std::string& line);
  int pid_ = -1;
  std::FILE* to_ = nullptr;
  std::FILE* from_ = nullptr;
  std::string version_;
};

}  // namespace lrtune::bench
