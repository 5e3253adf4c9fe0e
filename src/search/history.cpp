// Stored trials as samplers and pruners see them (see history.h).
#include "search/history.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>

namespace lrtune::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

double epoch_loss(const EpochMetrics& m, const SearchSpec& spec) {
  return spec.maximize() ? -m.val_acc : m.val_loss;
}

std::optional<double> trial_objective(const std::vector<EpochMetrics>& epochs,
                                      const SearchSpec& spec) {
  if (epochs.empty()) return std::nullopt;
  const auto value = [&](const EpochMetrics& m) { return spec.maximize() ? m.val_acc : m.val_loss; };
  if (spec.at_last) {
    const double v = value(epochs.back());
    return std::isnan(v) ? std::nullopt : std::optional<double>(v);
  }
  const EpochMetrics* best = best_epoch(
      epochs, spec.maximize() ? &EpochMetrics::val_acc : &EpochMetrics::val_loss, !spec.maximize());
  return best ? std::optional<double>(value(*best)) : std::nullopt;
}

std::optional<double> internal_of(const Param& p, const nlohmann::json& value) {
  if (p.dist == Dist::choice) {
    for (std::size_t i = 0; i < p.choices.size(); ++i)
      if (p.choices[i] == value) return static_cast<double>(i);
    return std::nullopt;
  }
  if (!value.is_number()) return std::nullopt;
  const double x = value.get<double>();
  const double slack = 1e-9 * std::max(1.0, std::abs(p.high));
  if (x < p.low - slack || x > p.high + slack) return std::nullopt;
  return x;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

nlohmann::json searched_values(const SearchSpec& spec, const nlohmann::json& config) {
  std::map<std::string, double> drawn;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& p : spec.space) {  // unconditional keys come first
    if (!config.contains(p.key)) continue;
    const auto x = internal_of(p, config.at(p.key));
    if (x) drawn[p.key] = *x;
    if (!p.when || (x && active(p, drawn, spec))) out[p.key] = config.at(p.key);
  }
  return out;
}

Curve curve_of(const std::vector<EpochMetrics>& epochs, RunStatus status, const SearchSpec& spec) {
  Curve c;
  for (const auto& m : epochs) c.loss.push_back(epoch_loss(m, spec));
  c.complete = status == RunStatus::done;
  return c;
}

std::optional<Observation> observation_of(const nlohmann::json& values, RunStatus status,
                                          const std::vector<EpochMetrics>& epochs,
                                          const SearchSpec& spec) {
  if (status == RunStatus::failed) return std::nullopt;
  Observation o;
  for (const auto& p : spec.space) {
    if (!values.contains(p.key)) continue;
    if (const auto x = internal_of(p, values.at(p.key))) o.params[p.key] = *x;
  }
  using State = Observation::State;
  switch (status) {
    case RunStatus::done:
    case RunStatus::diverged: {
      o.state = State::complete;
      const auto v = trial_objective(epochs, spec);
      o.loss = v ? (spec.maximize() ? -*v : *v) : kInf;
      break;
    }
    case RunStatus::pruned:
    case RunStatus::stopped:
      o.state = State::pruned;
      o.last_epoch = epochs.empty() ? 0 : epochs.back().epoch;
      o.last_loss = epochs.empty() ? kInf : epoch_loss(epochs.back(), spec);
      break;
    default:  // pending, running
      o.state = State::running;
  }
  return o;
}

}  // namespace lrtune::search
