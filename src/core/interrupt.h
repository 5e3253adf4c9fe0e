// Ctrl-C / SIGTERM handling: the first signal asks long work to stop at the
// next safe point (after a step, keeping the last checkpoint); the second one
// falls back to the default action and ends the process at once.
#pragma once

namespace lrtune {

void install_interrupt_handlers();
// Whether a stop was asked for: by these handlers, or by note_stop_request().
bool interrupted();
// For other signal handlers (a study's, which count requests): marks the
// process as asked to stop. Async-signal-safe.
void note_stop_request();

}  // namespace lrtune
