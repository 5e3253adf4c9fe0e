// The LR range test: the ramp, the recorder's stop rule, the suggestions,
// and the run on a training session.
#include "train/lr_range.h"

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <set>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/config.h"
#include "core/errors.h"
#include "train/trainer.h"

namespace lrtune {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// d smoothed / d log10(lr) at every point, with uneven spacing (numpy.gradient).
std::vector<double> log_gradient(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  std::vector<double> g(n, 0.0);
  if (n < 2) return g;
  g[0] = (y[1] - y[0]) / (x[1] - x[0]);
  g[n - 1] = (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]);
  for (std::size_t i = 1; i + 1 < n; ++i) {
    const double hs = x[i] - x[i - 1], hd = x[i + 1] - x[i];
    g[i] = (hs * hs * y[i + 1] + (hd * hd - hs * hs) * y[i] - hd * hd * y[i - 1]) /
           (hs * hd * (hd + hs));
  }
  return g;
}

// fastai's valley: the longest decreasing subsequence of the losses; the
// point a third and a half of a third into it.
std::size_t valley_index(const std::vector<double>& losses) {
  const std::size_t n = losses.size();
  std::vector<std::size_t> lds(n, 1);
  std::size_t max_start = 0, max_end = 0;
  for (std::size_t i = 1; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[max_end] < lds[i]) {  // inside the loop, as fastai has it
        max_end = i;
        max_start = max_end - lds[max_end];
      }
    }
  }
  const double sections = static_cast<double>(max_end - max_start) / 3.0;
  return max_start + static_cast<std::size_t>(sections) + static_cast<std::size_t>(sections / 2);
}

}  // namespace

void check_range_options(const RangeTestOptions& o) {
  // Rates are float32 in the optimizer: both ends must be one, above zero.
  const auto fits = [](double lr) { return std::isfinite(lr) && lr >= FLT_MIN && lr <= FLT_MAX; };
  const auto text = [](double lr) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", lr);
    return std::string(buf);
  };
  for (const auto& [flag, lr] : {std::pair<const char*, double>{"--start-lr", o.start_lr},
                                 {"--end-lr", o.end_lr}})
    if (!fits(lr))
      throw ConfigError(std::string("lr-find: ") + flag + ": must be a positive number that fits a "
                        "32-bit float (" + text(FLT_MIN) + " to " + text(FLT_MAX) + "), got " +
                        text(lr));
  if (!(o.end_lr > o.start_lr))
    throw ConfigError("lr-find: need --start-lr < --end-lr (got " + text(o.start_lr) + " and " +
                      text(o.end_lr) + ")");
  if (o.steps < 2) throw ConfigError("lr-find: --steps must be at least 2");
}

namespace {

// Whether the range test's curve depends on `key`: not the rate (it ramps
// its own), the length of a run, the schedule and its keys (it sets the rate
// of every step), nor where and how it runs.
bool range_test_reads(const std::string& key) {
  static const std::set<std::string> ignored = {"lr", "epochs", "schedule", "warmup_epochs"};
  if (ignored.count(key)) return false;
  const ConfigField* field = find_config_field(key);
  if (field && !field->identity()) return false;
  if (const DeclaredKey* d = find_declared_key(key))
    return std::any_of(d->owners.begin(), d->owners.end(),
                       [](const std::string& owner) { return owner.rfind("schedule ", 0) != 0; });
  return true;
}

}  // namespace

std::vector<RangeVariant> compare_variants(const TrainConfig& base, const std::string& compare) {
  const std::string flag = "--compare " + compare;
  const auto eq = compare.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(flag + ": expected KEY=V1,V2,..., e.g. momentum=0,0.9");
  const std::string key = compare.substr(0, eq);
  const ConfigField* field = find_config_field(key);
  if (!field)
    throw ConfigError(flag + ": '" + key + "' is not a configuration key (`lrtune train --help`)");
  if (!range_test_reads(key))
    throw ConfigError(flag + ": the range test does not read " + key +
                      " (it ramps the rate itself over --steps batches, with no schedule or "
                      "epochs), so every curve would be the same; compare a key that changes training");
  const std::string list = compare.substr(eq + 1);
  std::vector<RangeVariant> out;
  std::set<std::string> seen;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = list.find(',', from);
    const std::string v = list.substr(from, comma == std::string::npos ? comma : comma - from);
    if (v.empty())
      throw ConfigError(flag + ": an empty value; give " + key + "=V1,V2,... with at least one value");
    TrainConfig cfg = base;
    apply_text(cfg, key, v, "--compare");
    // Compared as JSON text; bytes that are not UTF-8 (a folder name may
    // hold them) are compared replaced, never thrown over.
    const std::string value =
        field_value(cfg, *field).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!seen.insert(value).second)
      throw ConfigError(flag + ": " + key + "=" + v + " is given twice");
    out.push_back({key + "=" + v, std::move(cfg)});
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

double range_lr(const RangeTestOptions& o, std::int64_t i) {
  const double t = o.steps > 1 ? static_cast<double>(i) / static_cast<double>(o.steps - 1) : 0.0;
  return o.linear ? o.start_lr + (o.end_lr - o.start_lr) * t
                  : o.start_lr * std::pow(o.end_lr / o.start_lr, t);
}

bool RangeRecorder::add(double lr, double loss) {
  const auto n = static_cast<double>(points_.size() + 1);
  average_ = o_.beta * average_ + (1 - o_.beta) * loss;
  const double smoothed = average_ / (1 - std::pow(o_.beta, n));
  points_.push_back({static_cast<std::int64_t>(n), lr, loss, smoothed});
  if (!std::isfinite(smoothed)) return false;
  if (points_.size() == 1 || smoothed < best_) best_ = smoothed;
  return !(smoothed > o_.stop_factor * best_);
}

RangeSuggestions suggest_rates(const std::vector<RangePoint>& points, std::int64_t planned_steps) {
  const auto skip_start = static_cast<std::size_t>(std::max<std::int64_t>(0, planned_steps / 10));
  const std::size_t skip_end = 5;
  if (points.size() < skip_start + skip_end + 3) return {kNaN, kNaN, kNaN};
  std::vector<double> lrs, log_lrs, losses;
  for (std::size_t i = skip_start; i + skip_end < points.size(); ++i) {
    if (!std::isfinite(points[i].smoothed)) break;
    lrs.push_back(points[i].lr);
    log_lrs.push_back(std::log10(points[i].lr));
    losses.push_back(points[i].smoothed);
  }
  if (losses.size() < 3) return {kNaN, kNaN, kNaN};
  RangeSuggestions s;
  s.valley = lrs[std::min(valley_index(losses), lrs.size() - 1)];
  const auto g = log_gradient(log_lrs, losses);
  s.steepest = lrs[static_cast<std::size_t>(std::min_element(g.begin(), g.end()) - g.begin())];
  s.minimum_tenth =
      lrs[static_cast<std::size_t>(std::min_element(losses.begin(), losses.end()) - losses.begin())] /
      10.0;
  return s;
}

std::vector<RangePoint> run_range_test(
    const TrainConfig& cfg, const ImageDataset& data, const RangeTestOptions& o,
    const std::function<void(std::int64_t, std::int64_t)>& progress) {
  check_range_options(o);
  // The session needs a checkpoint path; the test never writes one.
  SingleSession session(cfg, data, "", TrainHooks{});
  RangeRecorder recorder(o);
  for (std::int64_t i = 0; i < o.steps; ++i) {
    const double lr = range_lr(o, i);
    const bool go_on = recorder.add(lr, session.step_at(i, lr));
    if (progress) progress(i + 1, o.steps);
    if (!go_on) break;
  }
  return recorder.points();
}

}  // namespace lrtune
