// Progress output: on a terminal, transient lines overwrite each other with a
// carriage return; elsewhere (logs, pipes) they are plain lines, fewer of them.
#pragma once
#include <string>

namespace lrtune::cli {

class Console {
 public:
  Console();
  void line(const std::string& text, bool transient);

 private:
  bool tty_;
  double last_plain_ = -1e9;
  std::size_t last_width_ = 0;
};

}  // namespace lrtune::cli
