// Child process with a line protocol: one JSON request in, one JSON answer out.
#include "python_worker.h"

#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace lrtune::bench {

PythonWorker::PythonWorker(const std::string& python, const std::string& script,
                           const std::vector<std::string>& args) {
  int in[2], out[2];  // in: parent -> child; out: child -> parent
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe() failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork() failed");
  if (pid_ == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    std::vector<std::string> argv_s = {python, script, "--worker"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  const auto hello = nlohmann::json::parse(request(R"({"cmd": "hello"})"));
  version_ = hello.value("torch", "?");
}

PythonWorker::~PythonWorker() {
  if (to_) {
    std::fputs("{\"cmd\": \"quit\"}\n", to_);
    std::fclose(to_);
  }
  if (from_) std::fclose(from_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

std::string PythonWorker::request(const std::string& line) {
  if (std::fputs((line + "\n").c_str(), to_) < 0 || std::fflush(to_) != 0)
    throw std::runtime_error("the Python reference exited (is python3-torch installed? "
                             "scripts/setup.sh --bench installs it)");
  std::string answer;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, from_)) {
    answer += buf;
    if (!answer.empty() && answer.back() == '\n') break;
  }
  if (answer.empty())
    throw std::runtime_error("no answer from the Python reference (is python3-torch installed? "
                             "scripts/setup.sh --bench installs it)");
  return answer;
}

Timing PythonWorker::run(const std::string& mode, const Work& work) {
  nlohmann::json q = {{"cmd", mode},           {"device", work.device},
                      {"batch", work.batch},   {"eval_batch", work.eval_batch},
                      {"train_images", work.train_images()},
                      {"eval_images", work.eval_images()},
                      {"clock", work.clock},   {"precision", work.precision},
                      {"model", work.model}};
  const auto a = nlohmann::json::parse(request(q.dump()));
  if (a.contains("error")) throw std::runtime_error("Python reference: " + a["error"].get<std::string>());
  Timing t;
  t.train_images = a.at("train_images");
  t.train_s = a.at("train_s");
  t.eval_images = a.at("eval_images");
  t.eval_s = a.at("eval_s");
  t.other_s = a.value("other_s", 0.0);
  t.faults = a.value("faults", 0.0);
  return t;
}

void PythonWorker::script(const std::string& model, const std::string& path) {
  const nlohmann::json q = {{"cmd", "script"}, {"model", model}, {"path", path}};
  const auto a = nlohmann::json::parse(request(q.dump()));
  if (a.contains("error")) throw std::runtime_error("Python reference: " + a["error"].get<std::string>());
}

}  // namespace lrtune::bench
