// The one epoch loop over a TrainingSession.
#include "train/session.h"

namespace lrtune {

std::vector<RunOutcome> run_session(TrainingSession& session) {
  const EpochRange range = session.resume();
  for (std::int64_t epoch = range.first; epoch < range.end; ++epoch) {
    if (!session.trains(epoch)) continue;
    if (!session.train_epoch(epoch)) break;
    session.finish_epoch(epoch);
  }
  return session.outcomes();
}

}  // namespace lrtune
