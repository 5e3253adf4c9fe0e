// Where the time of a piece of work goes, operator by operator, from LibTorch's
// own profiler; and how much of it is outside every operator (our own code).
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace lrtune::bench {

struct OpRow {
  std::string name;    // e.g. "aten::convolution" or "ConvolutionBackward0"
  std::string shapes;  // input shapes when grouped by shape (tells layers apart)
  long calls = 0;
  double self_ms = 0;   // time in this operator, not in the operators it calls
  double total_ms = 0;  // including them
};

struct OpProfile {
  double wall_ms = 0;
  double in_ops_ms = 0;  // time inside top-level operators
  std::vector<OpRow> rows;  // by self time, largest first
};

// Runs `work` once under the profiler (CPU events of the calling thread).
OpProfile profile_ops(const std::function<void()>& work, bool by_shape);

void print_profile(std::ostream& out, const std::string& title, const OpProfile& p, int top);

}  // namespace lrtune::bench
