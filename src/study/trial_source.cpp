// The study's source from what the store holds about it.
#include "study/trial_source.h"

#include "study/search_source.h"

namespace lrtune {

std::unique_ptr<TrialSource> source_for(const StudyInfo& study) {
  if (auto search = search_source_of(study.spec, study.name)) return search;
  return std::make_unique<GridSource>(study.trial_ids);
}

}  // namespace lrtune
