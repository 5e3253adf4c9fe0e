// Ctrl-C / SIGTERM handling: the first signal asks long work to stop at the
// next safe point (after a step, keeping the last checkpoint); the second one
// falls back to the default action and ends the process at once.
#pragma once

namespace lrtune {

void install_interrupt_handlers();
bool interrupted();

}  // namespace lrtune
