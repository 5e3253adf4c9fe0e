// The error a report throws when a tool it needs is missing or fails.
#pragma once
#include "core/errors.h"

namespace lrtune::report {

struct ReportError : Error {
  using Error::Error;
};

}  // namespace lrtune::report
