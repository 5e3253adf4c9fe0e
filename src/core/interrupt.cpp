// Signal flag for clean stops.
#include "core/interrupt.h"

#include <csignal>

namespace lrtune {
namespace {
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_signal(int sig) {
  g_stop = 1;
  std::signal(sig, SIG_DFL);
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupted() { return g_stop != 0; }

void note_stop_request() { g_stop = 1; }

}  // namespace lrtune
