// The study's source from what the store holds about it.
#include "study/trial_source.h"

namespace lrtune {

std::unique_ptr<TrialSource> source_for(const StudyInfo& study) {
  return std::make_unique<GridSource>(study.trial_ids);
}

}  // namespace lrtune
