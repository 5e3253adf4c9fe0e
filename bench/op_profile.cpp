// Aggregates the legacy profiler's push/pop events into self and total times.
#include "op_profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>

#include <torch/csrc/autograd/profiler_legacy.h>

namespace lrtune::bench {
namespace prof = torch::autograd::profiler;

namespace {

std::string shape_text(const std::vector<std::vector<std::int64_t>>& shapes) {
  std::string s;
  for (const auto& shape : shapes) {
    if (shape.empty()) continue;
    s += s.empty() ? "[" : " [";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    s += "]";
  }
  return s;
}

}  // namespace

OpProfile profile_ops(const std::function<void()>& work, bool by_shape) {
  const torch::profiler::impl::ProfilerConfig cfg(torch::profiler::impl::ProfilerState::CPU,
                                                  /*report_input_shapes=*/by_shape);
  prof::enableProfilerLegacy(cfg);
  const auto start = std::chrono::steady_clock::now();
  work();
  const auto stop = std::chrono::steady_clock::now();
  const auto lists = prof::disableProfilerLegacy();

  OpProfile p;
  p.wall_ms = std::chrono::duration<double, std::milli>(stop - start).count();
  std::map<std::pair<std::string, std::string>, OpRow> rows;
  for (const auto& list : lists) {
    // Open ranges: (event, time spent in children so far).
    std::vector<std::pair<const prof::LegacyEvent*, double>> stack;
    for (const auto& e : list) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.emplace_back(&e, 0.0);
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        // Pops close the innermost open range with the same handle.
        auto it = std::find_if(stack.rbegin(), stack.rend(),
                               [&](const auto& s) { return s.first->handle() == e.handle(); });
        if (it == stack.rend()) continue;
        const prof::LegacyEvent* push = it->first;
        const double total = push->cpuElapsedUs(e) / 1000.0;
        const double children = it->second;
        stack.erase(std::next(it).base(), stack.end());
        std::string name = push->name();
        if (name == "[memory]" || name == "__start_profile") continue;
        auto& row = rows[{name, by_shape ? shape_text(push->shapes()) : ""}];
        row.name = name;
        row.shapes = by_shape ? shape_text(push->shapes()) : "";
        row.calls += 1;
        row.total_ms += total;
        row.self_ms += total - children;
        if (stack.empty()) p.in_ops_ms += total;
        else stack.back().second += total;
      }
    }
  }
  for (auto& [key, row] : rows) p.rows.push_back(row);
  std::sort(p.rows.begin(), p.rows.end(),
            [](const OpRow& a, const OpRow& b) { return a.self_ms > b.self_ms; });
  return p;
}

void print_profile(std::ostream& out, const std::string& title, const OpProfile& p, int top) {
  char line[512];
  out << "\n" << title << ": " << p.wall_ms << " ms wall, "
      << 100.0 * (p.wall_ms - p.in_ops_ms) / p.wall_ms << "% outside every operator\n";
  std::snprintf(line, sizeof line, "%7s %7s %9s  %-36s %s\n", "self%", "self ms", "calls",
                "operator", "input shapes");
  out << line;
  int shown = 0;
  for (const auto& r : p.rows) {
    if (shown++ == top) break;
    std::snprintf(line, sizeof line, "%6.1f%% %7.1f %9ld  %-36s %s\n", 100.0 * r.self_ms / p.wall_ms,
                  r.self_ms, r.calls, r.name.c_str(), r.shapes.c_str());
    out << line;
  }
}

}  // namespace lrtune::bench
