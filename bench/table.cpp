// Medians of repeats; ratios are medians of per-pair ratios (C++ run i against
// the Python run right after it), so that slow drift of the machine cancels.
#include "table.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace lrtune::bench {
namespace {

using Metric = std::function<double(const Timing&)>;
const Metric kTrain = [](const Timing& t) { return t.train_ips(); };
const Metric kEval = [](const Timing& t) { return t.eval_ips(); };
const Metric kEpoch = [](const Timing& t) { return t.epoch_s(); };

double med(const std::vector<Timing>& ts, const Metric& f) {
  std::vector<double> v;
  for (const auto& t : ts) v.push_back(f(t));
  return median(v);
}
double lo(const std::vector<Timing>& ts, const Metric& f) {
  double m = 1e300;
  for (const auto& t : ts) m = std::min(m, f(t));
  return ts.empty() ? 0 : m;
}
double hi(const std::vector<Timing>& ts, const Metric& f) {
  double m = 0;
  for (const auto& t : ts) m = std::max(m, f(t));
  return m;
}

// Speed of lrtune relative to PyTorch (> 1: lrtune faster), median over pairs.
double speed_ratio(const RowResult& r, const Metric& f, bool higher_is_faster) {
  std::vector<double> v;
  for (std::size_t i = 0; i < std::min(r.cpp.size(), r.py.size()); ++i) {
    const double c = f(r.cpp[i]), p = f(r.py[i]);
    if (c > 0 && p > 0) v.push_back(higher_is_faster ? c / p : p / c);
  }
  return median(v);
}

// "epoch", "epoch bf16" for a row in bf16, "epoch TorchScript" for a network
// lrtune trains from a TorchScript file.
std::string mode_label(const RowResult& r) {
  std::string label = r.mode;
  if (r.work.model == "torchscript") label += " TorchScript";
  if (r.work.model == "resnet18") label += " ResNet-18 (TorchScript)";
  return r.work.precision == "fp32" ? label : label + " " + r.work.precision;
}

// The FLOPs count is the reference network's: none for other networks.
bool counts_flops(const RowResult& r) { return r.work.model != "resnet18"; }

// lrtune's epoch time over its floor (steps) time for the same device and batch.
double over_floor(const Report& rep, const RowResult& r) {
  if (r.mode != "epoch") return 0;
  for (const auto& s : rep.rows)
    if (s.mode == "steps" && s.work.device == r.work.device && s.work.batch == r.work.batch &&
        s.work.precision == r.work.precision && s.work.model == r.work.model)
      return med(r.cpp, kEpoch) / med(s.cpp, kEpoch);
  return 0;
}

// The peak of the cores the benchmark's threads can use.
double usable_peak(const Report& rep) {
  const Machine& m = rep.machine;
  const int used = std::min(rep.threads, m.cores);
  return m.cores > 0 ? m.measured_gflops * used / m.cores : 0;
}

double epoch_gflops(double epoch_s, const DataShape& shape) {
  const Flops f = reference_flops(shape);
  return epoch_s > 0 ? (45'000 * f.train + 15'000 * f.forward) / epoch_s / 1e9 : 0;
}

// Median minor page faults per image ("0" when none: freed memory was reused).
std::string faults_text(const std::vector<Timing>& ts) {
  if (ts.empty()) return "–";
  std::vector<double> v;
  for (const auto& t : ts) v.push_back(t.faults / std::max(1.0, t.train_images + t.eval_images));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", median(v));
  return buf;
}

std::string fmt(const char* format, double v) {
  if (v == 0) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void write_markdown(std::ostream& out, const Report& rep) {
  const Machine& m = rep.machine;
  const Flops f = reference_flops(rep.shape);
  out << "Machine: " << m.cpu_model << ", " << m.cores << " cores, " << fmt("%.2f", m.ghz)
      << " GHz, " << (m.avx512 ? "AVX-512" : m.avx2 ? "AVX2" : "SSE") << (m.fma ? "+FMA" : "")
      << "; peak " << fmt("%.0f", m.measured_gflops) << " GFLOP/s measured (" << m.measured_isa
      << " FMA loop), " << fmt("%.0f", m.nominal_gflops) << " nominal; % of peak is of the "
      << std::min(rep.threads, m.cores) << " core(s) used\n"
      << "Versions: " << rep.versions << "\n"
      << "Settings: " << rep.settings << "\n"
      << "Load average (1, 5, 15 min): " << rep.load_before << " before, " << rep.load_after
      << " after\n"
      << "Work per image: " << fmt("%.2f", f.forward / 1e6) << " MFLOP forward, "
      << fmt("%.2f", f.train / 1e6) << " MFLOP training; s/epoch = 45,000 training + 15,000 "
      << "evaluation images at the measured rates\n\n";
  out << "| device | batch | mode | lrtune train img/s | lrtune eval img/s | lrtune s/epoch (min–max) "
         "| GFLOP/s | % of peak | PyTorch train img/s | PyTorch eval img/s | PyTorch s/epoch "
         "| lrtune/PyTorch train | lrtune/PyTorch epoch | epoch/steps | page faults/img lrtune, PyTorch |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rep.rows) {
    const double es = med(r.cpp, kEpoch);
    const double gf = counts_flops(r) ? epoch_gflops(es, rep.shape) : 0;
    out << "| " << r.work.device << " | " << r.work.batch << " | " << mode_label(r) << " | "
        << fmt("%.0f", med(r.cpp, kTrain)) << " | " << fmt("%.0f", med(r.cpp, kEval)) << " | "
        << fmt("%.1f", es) << " (" << fmt("%.1f", lo(r.cpp, kEpoch)) << "–"
        << fmt("%.1f", hi(r.cpp, kEpoch)) << ") | " << fmt("%.1f", gf) << " | "
        << fmt("%.1f", usable_peak(rep) > 0 ? 100 * gf / usable_peak(rep) : 0) << " | "
        << fmt("%.0f", med(r.py, kTrain)) << " | " << fmt("%.0f", med(r.py, kEval)) << " | "
        << fmt("%.1f", med(r.py, kEpoch)) << " | " << fmt("%.2f", speed_ratio(r, kTrain, true))
        << " | " << fmt("%.2f", speed_ratio(r, kEpoch, false)) << " | "
        << fmt("%.3f", over_floor(rep, r)) << " | " << faults_text(r.cpp) << ", "
        << faults_text(r.py) << " |\n";
  }
  const bool scripted = std::any_of(rep.rows.begin(), rep.rows.end(),
                                    [](const RowResult& r) { return r.work.model != "native"; });
  if (scripted)
    out << "\nRows marked TorchScript: lrtune trains the network from a TorchScript file (model "
         "\"torchscript\") and PyTorch trains the same network eagerly; ResNet-18 rows train "
         "torchvision's resnet18 on the images per repeat that --resnet-images sets.\n";
  out << "\nRatios lrtune/PyTorch are speeds (> 1: lrtune faster), medians of per-pair ratios of "
         "interleaved runs; epoch/steps is lrtune's epoch time over its floor (1.00 = no waste).\n";
}

void write_csv(std::ostream& out, const Report& rep) {
  out << "device,batch,mode,impl,repeat,train_images,train_s,eval_images,eval_s,other_s,"
         "train_ips,eval_ips,epoch_s,faults_per_image,usable_peak_gflops,load_before\n";
  for (const auto& r : rep.rows)
    for (int impl = 0; impl < 2; ++impl) {
      const auto& ts = impl == 0 ? r.cpp : r.py;
      for (std::size_t i = 0; i < ts.size(); ++i) {
        const Timing& t = ts[i];
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s,%lld,%s,%s,%zu,%.0f,%.4f,%.0f,%.4f,%.4f,%.1f,%.1f,%.3f,%.3f,%.1f,%s\n",
                      r.work.device.c_str(), static_cast<long long>(r.work.batch), mode_label(r).c_str(),
                      impl == 0 ? "lrtune" : "pytorch", i + 1, t.train_images, t.train_s,
                      t.eval_images, t.eval_s, t.other_s, t.train_ips(), t.eval_ips(), t.epoch_s(),
                      t.faults / (t.train_images + t.eval_images), usable_peak(rep),
                      rep.load_before.c_str());
        out << buf;
      }
    }
}

}  // namespace lrtune::bench
