// Runs an external program (gnuplot) and waits for it, its output in a log file.
#pragma once
#include <string>
#include <vector>

namespace lrtune::report {

struct ProcessResult {
  bool started = false;  // false when the program was not found or could not start
  int exit_code = -1;    // exit status, or 128 + signal number
};

// Runs argv[0] (looked up on PATH) in folder `cwd`, stdout and stderr
// appended to `log_path`, stdin empty.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd,
                          const std::string& log_path);

// The last `max_chars` characters of a text file ("" when unreadable).
std::string file_tail(const std::string& path, std::size_t max_chars);

}  // namespace lrtune::report
