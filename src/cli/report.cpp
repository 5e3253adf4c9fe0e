// `lrtune report DIR...`: figures, tables, report.md and index.html from
// study folders and single-run folders (each holds results.sqlite).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/folders.h"
#include "core/errors.h"
#include "report/report.h"
#include "store/store.h"
#include "study/study_run.h"

namespace lrtune::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> dirs;
  std::vector<std::string> compare;
  std::string out, store;
  std::int64_t zoom_epochs = 10;
  bool no_figures = false;
};

int run_report(const ReportArgs& args) {
  report::ReportOptions opts;
  opts.dirs = args.dirs;
  for (const auto& c : args.compare) opts.compare.push_back(report::parse_compare(c));
  opts.zoom_epochs = args.zoom_epochs;
  opts.figures = !args.no_figures;
  opts.out = args.out;
  if (opts.dirs.empty())
    throw FlagError("report: no folder given; name one or more study, run or lr-find folders "
                    "(lrtune report studies-out/NAME [...] --out DIR)");
  const std::string url = store_url(args.store);
  if (opts.out.empty()) {
    if (opts.dirs.size() != 1 || !opts.compare.empty())
      throw ConfigError("report: --out is needed with several folders or --compare");
    // A study in a database has no folder of its own: its `study run` folder's.
    const std::filesystem::path dir = url.empty() ? std::filesystem::path(opts.dirs.front())
                                                  : "studies-out" / std::filesystem::path(opts.dirs.front());
    opts.out = (dir / "report").string();
  }
  const auto open = study_opener(args.store, "an `lrtune lr-find` folder, with lr-find.json");
  auto result = report::write_report(opts, open,
                                     [](const std::string& line) { std::cerr << line << "\n"; });
  std::cout << "Report: " << result.markdown << "\nPage:   " << result.html << "\n";
  return 0;
}

}  // namespace

RunFn setup_report(CLI::App& sub) {
  auto args = std::make_shared<ReportArgs>();
  sub.add_option("dirs", args->dirs,
                 "Study or run folders (each holds results.sqlite), or folders written by "
                 "`lrtune lr-find` (each holds lr-find.json); with --store, study names");
  sub.add_option("--out", args->out,
                 "Output folder (default: DIR/report when one folder is given; with --store, "
                 "studies-out/NAME/report)");
  add_store_flag(sub, args->store);
  sub.add_option("--compare", args->compare,
                 "DIR:LABEL ...: overlay these trials (DIR:best = the study's best) on one "
                 "comparison chart; give folders to report before this flag");
  sub.add_option("--zoom-epochs", args->zoom_epochs,
                 "Epochs shown in the zoomed figures of the first epochs (0 = none)")
      ->capture_default_str();
  sub.add_flag("--no-figures", args->no_figures,
               "Skip the PNG/SVG figures (no gnuplot needed); tables and page only");
  sub.footer(
      "Writes OUT/report.md (figures embedded), OUT/index.html (one offline page with\n"
      "interactive charts and sortable tables) and, per study, OUT/<study>/ holding\n"
      "PNG and SVG figures, trials.csv and the gnuplot script that drew them.\n"
      "A study still running can be reported: its finished epochs are shown.");
  return [args] { return run_report(*args); };
}

}  // namespace lrtune::cli
