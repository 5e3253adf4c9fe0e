// The shipped kinds of every family.
#include "train/builtin_kinds.h"

#include "data/datasets.h"
#include "model/network.h"
#include "optim/builtin_kinds.h"

namespace lrtune {

void register_builtin_kinds() {
  register_builtin_datasets();
  register_builtin_models();
  register_builtin_optim_kinds();
}

}  // namespace lrtune
