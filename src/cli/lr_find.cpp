// `lrtune lr-find`: the learning-rate range test on the configuration `train`
// would use; a CSV per test, a figure with the suggestions, and the
// suggestions printed. It writes only its own output folder, never a run's.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/folders.h"
#include "cli/config_flags.h"
#include "cli/console.h"
#include "core/errors.h"
#include "core/files.h"
#include "core/format.h"
#include "data/cifar10.h"
#include "model/autocast.h"
#include "model/network.h"
#include "report/range_figure.h"
#include "report/range_report.h"
#include "train/lr_range.h"
#include "train/trainer.h"

namespace lrtune::cli {
namespace fs = std::filesystem;
namespace {

struct LrFindArgs {
  std::string config_file, out = "lr-find", ramp = "exp", compare;
  RangeTestOptions range;
  FlagValues flags;
};

using Variant = RangeVariant;

std::vector<Variant> variants(const LrFindArgs& a) {
  TrainConfig base;
  if (!a.config_file.empty()) apply_toml_file(base, a.config_file);
  apply_flags(base, a.flags);
  std::vector<Variant> out;
  if (a.compare.empty()) out.push_back({"", base});
  else
    try {
      out = compare_variants(base, a.compare);
    } catch (const ConfigError& e) {
      throw FlagError(e.what());  // a bad flag, as CLI11's own refusals (exit 2)
    }
  for (auto& v : out) {
    v.cfg.validate(a.config_file.empty() ? "configuration" : a.config_file);
    model_kind(v.cfg.model);  // an unknown name fails here, before any work
  }
  return out;
}

std::string csv_of(const std::vector<RangePoint>& points) {
  std::ostringstream out;
  out.precision(10);
  out << "step,lr,loss,smoothed_loss\n";
  for (const auto& p : points) out << p.step << "," << p.lr << "," << p.loss << "," << p.smoothed << "\n";
  return out.str();
}

std::string rate_text(double lr) {
  if (!std::isfinite(lr)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", lr);
  return buf;
}

// The keys that change results and differ from their defaults, but the rate
// (the test ramps it) and the key --compare varies: what the report says the
// tests were run with.
std::string settings_of(const TrainConfig& cfg, const std::string& compare) {
  const std::string compared = compare.substr(0, compare.find('='));
  const nlohmann::json identity = identity_json(cfg);
  std::string out;
  for (const auto& [key, value] : identity.items()) {
    if (key == "lr" || key == compared) continue;
    const ConfigField* field = find_config_field(key);
    out += (out.empty() ? "" : " ") + key + "=" + (field ? field_text(cfg, *field) : value.dump());
  }
  return out;
}

report::RangeTestRecord run_one(const Variant& v, const ImageDataset& data, const LrFindArgs& a,
                           Console& console) {
  const std::string tag = v.label.empty() ? "" : "[" + v.label + "] ";
  const auto points = run_range_test(v.cfg, data, a.range, [&](std::int64_t done, std::int64_t n) {
    console.line(tag + "range test: step " + std::to_string(done) + "/" + std::to_string(n), true);
  });
  const RangeSuggestions s = suggest_rates(points, a.range.steps);
  const std::string name = v.label.empty() ? "lr-find" : "lr-find-" + v.label;
  write_text_atomically(fs::path(a.out) / (name + ".csv"), csv_of(points));
  const bool stopped = points.size() < static_cast<std::size_t>(a.range.steps);
  console.line(tag + std::to_string(points.size()) + " steps from lr " + rate_text(points.front().lr) +
                   " to " + rate_text(points.back().lr) +
                   (stopped ? " (stopped: the loss diverged)" : "") + "; suggested: valley " +
                   rate_text(s.valley) + ", steepest " + rate_text(s.steepest) + ", min/10 " +
                   rate_text(s.minimum_tenth),
               false);
  report::RangeTestRecord r{{v.label, {}, {}, s.valley, s.steepest, s.minimum_tenth},
                            name + ".csv",
                            static_cast<std::int64_t>(points.size()),
                            stopped};
  for (const auto& p : points) {
    r.curve.lr.push_back(p.lr);
    r.curve.smoothed.push_back(p.smoothed);
  }
  return r;
}

int run_lr_find(LrFindArgs& a) {
  if (a.ramp != "exp" && a.ramp != "linear") throw FlagError("--ramp: exp or linear");
  a.range.linear = a.ramp == "linear";
  check_range_options(a.range);
  const auto tests = variants(a);
  for (const auto& v : tests) check_precision(v.cfg.precision, resolve_device(v.cfg.device));
  Console console;
  const int threads = apply_threads(tests.front().cfg.threads);
  const ImageDataset data = load_data_with_warnings(tests.front().cfg);
  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) throw StoreError(a.out + ": cannot create: " + ec.message());
  console.line("LR range test: " + std::to_string(a.range.steps) + " steps, lr " +
                   rate_text(a.range.start_lr) + " to " + rate_text(a.range.end_lr) + " (" +
                   a.ramp + "), " + std::to_string(threads) + " thread(s), output in " + a.out,
               false);
  report::RangeFolder folder{a.out, settings_of(tests.front().cfg, a.compare), a.ramp, a.range.start_lr,
                            a.range.end_lr, a.range.steps, {}, ""};
  std::vector<report::RangeCurve> curves;
  for (const auto& v : tests) {
    folder.tests.push_back(run_one(v, data, a, console));
    curves.push_back(folder.tests.back().curve);
  }
  report::write_range_summary(a.out, folder);
  report::write_range_figure(curves, a.out, "lr-find", "LR range test");
  console.line("figure: " + (fs::path(a.out) / "lr-find.png").string() + " (and .svg); data: " +
                   a.out + "/*.csv; for the HTML report: lrtune report " + a.out,
               false);
  return 0;
}

}  // namespace

RunFn setup_lr_find(CLI::App& sub) {
  auto a = std::make_shared<LrFindArgs>();
  sub.add_option("--config", a->config_file, "TOML file with configuration keys (as train)");
  sub.add_option("--start-lr", a->range.start_lr, "first learning rate")->capture_default_str();
  sub.add_option("--end-lr", a->range.end_lr, "last learning rate")->capture_default_str();
  sub.add_option("--steps", a->range.steps, "training batches")->capture_default_str();
  sub.add_option("--ramp", a->ramp, "exp or linear")->capture_default_str();
  sub.add_option("--out", a->out, "folder for the CSV files and the figure")->capture_default_str();
  sub.add_option("--compare", a->compare,
                 "several tests on one figure: KEY=V1,V2,... (e.g. momentum=0,0.5,0.9,0.99)");
  add_config_flags(sub, a->flags);
  return [a] { return run_lr_find(*a); };
}

}  // namespace lrtune::cli
