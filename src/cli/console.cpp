// Console.
#include "cli/console.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace lrtune::cli {
namespace {
constexpr double kPlainProgressEverySeconds = 15.0;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Console::Console() : tty_(isatty(fileno(stdout)) != 0) {}

void Console::line(const std::string& text, bool transient) {
  if (tty_) {
    std::string padded = text;
    if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
    std::fputs(("\r" + padded).c_str(), stdout);
    if (!transient) std::fputs("\n", stdout);
    last_width_ = transient ? text.size() : 0;
  } else {
    if (transient) {
      const double now = now_seconds();
      if (now - last_plain_ < kPlainProgressEverySeconds) return;
      last_plain_ = now;
    }
    std::fputs((text + "\n").c_str(), stdout);
  }
  std::fflush(stdout);
}

}  // namespace lrtune::cli
