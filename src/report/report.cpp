// Orchestrates a report: loads every results folder through the Store
// interface, then writes figures, CSV, report.md and index.html.
#include "report/report.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/files.h"
#include "core/provenance.h"
#include "report/assets.h"
#include "report/error.h"
#include "report/escape.h"
#include "report/figures.h"
#include "report/html.h"
#include "report/range_report.h"
#include "report/search_report.h"
#include "report/series.h"
#include "report/study.h"
#include "report/tables.h"

namespace lrtune::report {

namespace fs = std::filesystem;

namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string status_counts(const StudyData& s) {
  std::map<std::string, int> counts;
  for (const auto& t : s.trials) ++counts[to_string(t.status())];
  std::string out;
  for (const char* name : {"done", "diverged", "pruned", "stopped", "running", "pending", "failed"})
    if (counts[name]) out += (out.empty() ? "" : ", ") + std::to_string(counts[name]) + " " + name;
  return out.empty() ? "no trials yet" : out;
}

// The group of `study` a comparison item names, or throws naming the choices.
const Series& pick_series(const StudyData& study, const CompareItem& item) {
  std::string wanted = group_key(clean_text(item.label));
  for (const auto& s : study.series)
    if (s.label == wanted) return s;
  if (item.label == "best" && !study.groups.empty()) {
    auto best = std::max_element(study.groups.begin(), study.groups.end(),
                                 [](const GroupSummary& a, const GroupSummary& b) {
                                   return a.best_val_acc.mean < b.best_val_acc.mean;
                                 });
    for (const auto& s : study.series)
      if (s.label == best->label) return s;
  }
  std::string choices;
  for (const auto& s : study.series) choices += (choices.empty() ? "" : ", ") + s.label;
  throw ConfigError("--compare " + item.dir + ":" + item.label + ": no trial labelled '" +
                    item.label + "' in that study; its labels: " +
                    (choices.empty() ? "(none)" : choices) + ", or 'best'");
}

StudyData comparison(const std::vector<CompareItem>& items,
                     const std::vector<const StudyData*>& sources) {
  StudyData c;
  c.name = "Comparison";
  c.slug = "compare";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const StudyData& study = *sources[i];
    Series s = pick_series(study, items[i]);
    std::string group = s.label;
    s.label = study.name + ": " + group;
    c.series.push_back(std::move(s));
    for (auto t : study.trials)
      if (group_key(t.label()) == group) {
        t.trial.spec.label = study.name + ": " + t.label();
        c.trials.push_back(std::move(t));
      }
    c.source += (c.source.empty() ? "" : ", ") + items[i].dir + ":" + items[i].label;
  }
  c.description = "Chosen trials of several studies on one set of axes.";
  c.groups = summarize_groups(c.trials);
  assign_styles(c.series);
  return c;
}

void markdown_section(std::ostream& md, const StudyData& s, const std::vector<FigureSpec>& figs,
                      bool figures) {
  md << "## " << markdown_cell(s.name) << "\n\n";
  if (!s.description.empty()) md << markdown_cell(s.description) << "\n\n";
  md << "Source: " << markdown_cell(s.source) << " — " << s.trials.size()
     << " trials: " << status_counts(s) << ".";
  if (!s.data_sets.empty()) md << " Data: " << markdown_cell(s.data_sets) << ".";
  md << "\n\n";
  if (!s.warning.empty()) md << "**" << markdown_cell(s.warning) << "**\n\n";
  if (s.search) md << search_markdown(*s.search, s.slug, figures);
  if (s.search && figures) md << "### Curves per epoch\n\n";
  if (figures) {
    md << figure_caption(s.has_repeats(), s.has_divergence(), s.has_pruned()) << "\n\n";
    for (const auto& f : figs)
      md << "![" << markdown_cell(f.title) << "](" << s.slug << "/" << f.id << ".png)\n"
         << "*" << markdown_cell(f.title) << "* ([SVG](" << s.slug << "/" << f.id << ".svg))\n\n";
  }
  md << "### Trials\n\n" << markdown_table(trial_table(s.trials)) << "\n"
     << "Accuracies in percent; wall time sums the trial's epochs. CSV: [" << s.slug
     << "/trials.csv](" << s.slug << "/trials.csv)\n\n";
  if (s.has_repeats())
    md << "### Repeats (mean ± std over seeds)\n\n" << markdown_table(group_table(s.groups))
       << "\n";
  bool header = false;
  for (const auto& t : s.trials) {
    if (t.trial.error.empty()) continue;
    if (!header) md << "Failed trials:\n\n";
    header = true;
    md << "- " << markdown_cell(t.label()) << ": " << markdown_cell(t.trial.error) << "\n";
  }
  if (header) md << "\n";
}

std::string unique_slug(const std::string& name, std::set<std::string>& used) {
  std::string base = slug(name), candidate = base;
  for (int k = 2; used.count(candidate); ++k) candidate = base + "-" + std::to_string(k);
  used.insert(candidate);
  return candidate;
}

void unique_slugs(std::vector<StudyData>& studies, std::vector<RangeFolder>& ranges) {
  std::set<std::string> used = {"compare"};
  for (auto& s : studies) s.slug = unique_slug(s.name, used);
  for (auto& r : ranges) r.slug = unique_slug("lr-find " + fs::path(r.dir).filename().string(), used);
}

struct Sections {
  std::vector<StudyData> studies;  // one per study, or per sweep of a study
  std::vector<RangeFolder> ranges;  // lr-find folders
  StudyData compared;              // the --compare selection
  std::size_t folders = 0;
  std::vector<std::string> warnings;  // one line per folder that needs one
};

// Reads every folder once, whether shown, compared, or both.
Sections read_sections(const ReportOptions& opts, const StoreOpener& open) {
  Sections out;
  std::vector<std::string> order, study_dirs;
  for (const auto& d : opts.dirs) {
    if (!is_range_folder(d)) {
      study_dirs.push_back(d);
    } else if (std::none_of(out.ranges.begin(), out.ranges.end(),
                            [&](const RangeFolder& r) { return r.dir == d; })) {
      out.ranges.push_back(read_range_folder(d));
    }
  }
  order = study_dirs;
  for (const auto& c : opts.compare) order.push_back(c.dir);
  std::map<std::string, StudyRecords> records;
  for (const auto& dir : order)
    if (!records.count(dir)) records[dir] = read_study(*open(dir), dir);
  out.folders = records.size() + out.ranges.size();
  for (const auto& [dir, r] : records)
    if (!r.data_warning.empty()) out.warnings.push_back(dir + ": " + r.data_warning);
  std::set<std::string> shown_dirs;
  for (const auto& d : study_dirs)
    if (shown_dirs.insert(d).second)
      for (auto& section : sweep_sections(records[d])) out.studies.push_back(std::move(section));
  unique_slugs(out.studies, out.ranges);
  // Comparisons pick from whole studies, by the labels `lrtune study status` shows.
  std::map<std::string, StudyData> whole;
  std::vector<const StudyData*> sources;
  for (const auto& c : opts.compare) {
    if (!whole.count(c.dir)) whole[c.dir] = make_study(records[c.dir]);
    sources.push_back(&whole[c.dir]);
  }
  if (!opts.compare.empty()) out.compared = comparison(opts.compare, sources);
  return out;
}

void write_range_figures(const std::vector<RangeFolder>& ranges, const fs::path& out,
                         bool figures, const std::function<void(const std::string&)>& say) {
  for (const auto& r : ranges) {
    fs::create_directories(out / r.slug);
    if (!figures) continue;
    say("report: drawing the LR range test of " + r.dir);
    std::vector<RangeCurve> curves;
    for (const auto& t : r.tests) curves.push_back(t.curve);
    write_range_figure(curves, (out / r.slug).string(), "lr-find", "LR range test: " + r.dir);
  }
}

}  // namespace

CompareItem parse_compare(const std::string& text) {
  std::size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw ConfigError("--compare " + text + ": expected DIR:LABEL, e.g. runs/part1:lr=0.1 or "
                      "runs/part1:best");
  // A folder name may hold ':' itself: prefer the longest prefix that is a folder.
  for (std::size_t at = text.rfind(':'); at != std::string::npos && at > 0;
       at = text.rfind(':', at - 1)) {
    std::error_code ec;
    if (at + 1 < text.size() && fs::is_directory(text.substr(0, at), ec))
      return {text.substr(0, at), text.substr(at + 1)};
  }
  return {text.substr(0, colon), text.substr(colon + 1)};
}

ReportResult write_report(const ReportOptions& opts, const StoreOpener& open,
                          const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& line) { if (log) log(line); };
  if (opts.dirs.empty() && opts.compare.empty())
    throw ConfigError("report: give at least one results folder or --compare DIR:LABEL");
  if (opts.zoom_epochs < 0) throw ConfigError("--zoom-epochs: must be 0 or more");

  Sections sections = read_sections(opts, open);
  for (const auto& w : sections.warnings) say(w);
  std::vector<const StudyData*> shown;
  for (const auto& s : sections.studies) shown.push_back(&s);
  if (!opts.compare.empty()) shown.push_back(&sections.compared);

  fs::path out = opts.out;
  fs::create_directories(out);
  std::vector<FigureSpec> figs = figure_specs(opts.zoom_epochs);
  for (const StudyData* s : shown) {
    fs::path dir = out / s->slug;
    fs::create_directories(dir);
    write_text_atomically(dir / "trials.csv", trials_csv(s->trials));
    if (opts.figures) {
      say("report: drawing " + std::to_string(figs.size()) + " figures for " + s->name);
      write_figures(s->series, figs, s->name, dir.string());
    }
    if (s->search) write_search_files(*s->search, s->name, dir.string(), opts.figures);
  }
  write_range_figures(sections.ranges, out, opts.figures, say);

  std::string generated = "Generated " + utc_now() + " by " + version_line();
  std::ostringstream md;
  md << "# lrtune report\n\n" << markdown_cell(generated) << ".\n"
     << "Interactive charts and sortable tables: [index.html](index.html).\n\n";
  for (const StudyData* s : shown) markdown_section(md, *s, figs, opts.figures);
  for (const auto& r : sections.ranges) md << range_markdown(r, opts.figures);
  ReportResult result;
  result.markdown = (out / "report.md").string();
  result.html = (out / "index.html").string();
  result.studies = sections.folders;
  write_text_atomically(result.markdown, md.str());
  std::vector<const RangeFolder*> ranges;
  for (const auto& r : sections.ranges) ranges.push_back(&r);
  write_text_atomically(result.html, html_page(shown, figs, generated, page_assets(), ranges));
  say("report: wrote " + result.markdown + " and " + result.html);
  return result;
}

}  // namespace lrtune::report
