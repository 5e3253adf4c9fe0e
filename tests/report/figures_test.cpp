// gnuplot figures: every SVG parses, holds one line per trial, escapes labels.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/error.h"
#include "report/escape.h"
#include "report/figures.h"
#include "report/series.h"
#include "report/study.h"
#include "support/fake_store.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

bool have(const std::string& program) {
  return test::run_command("command -v " + program + " >/dev/null") == 0;
}

// Legend texts of the plot groups gnuplot writes (<g id="gnuplot_plot_N">,
// each holding nested groups); groups without a legend (bands, marks) are
// left out.
std::vector<std::string> plot_legends(const std::string& svg) {
  std::vector<std::string> out;
  const std::string open = "<g id=\"gnuplot_plot_";
  for (std::size_t at = svg.find(open); at != std::string::npos; at = svg.find(open, at + 1)) {
    std::size_t pos = at + 1, end = std::string::npos;
    for (int depth = 1; depth > 0;) {
      std::size_t o = svg.find("<g", pos), c = svg.find("</g>", pos);
      if (c == std::string::npos) break;
      if (o != std::string::npos && o < c) {
        ++depth;
        pos = o + 2;
      } else {
        --depth;
        pos = c + 4;
        end = c;
      }
    }
    std::size_t text = svg.find("<text>", at);
    if (text == std::string::npos || text > end) continue;
    text += 6;
    out.push_back(svg.substr(text, svg.find("</text>", text) - text));
  }
  return out;
}

std::string svg_text(const std::string& s) {  // as gnuplot writes text: '<' and '&' escaped
  std::string out;
  for (char c : s) out += c == '<' ? "&lt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

class ReportFigures : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have("gnuplot")) GTEST_SKIP() << "gnuplot not installed (scripts/setup.sh installs it)";
    auto store = test::fabricated_study();
    study = load_study(*store, "runs/lr");
    figs = figure_specs(3);
    write_figures(study.series, figs, study.name, dir.str());
  }
  test::TempDir dir;
  StudyData study;
  std::vector<FigureSpec> figs;
};

TEST_F(ReportFigures, EveryFigureIsWrittenAsPngAndParsingSvg) {
  if (!have("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian libxml2-utils)";
  ASSERT_EQ(figs.size(), 8u);
  for (const auto& f : figs) {
    fs::path png = dir.path() / (f.id + ".png"), svg = dir.path() / (f.id + ".svg");
    ASSERT_TRUE(fs::exists(png)) << png;
    EXPECT_EQ(test::read_file(png).substr(1, 3), "PNG");
    std::string out;
    EXPECT_EQ(test::run_command("xmllint --noout '" + svg.string() + "'", &out), 0) << out;
  }
}

TEST_F(ReportFigures, EachSvgHoldsOneLegendedLinePerTrialGroup) {
  std::vector<std::string> expected;
  for (const auto& s : study.series)
    if (!s.epochs.empty()) expected.push_back(svg_text(figure_legend(s)));
  expected.push_back("divergence");  // the key entry explaining the x marks
  ASSERT_EQ(expected.size(), 6u);    // lr=0.1 (2 seeds), 0.5, 0.01, 1, hostile label; key
  for (const auto& f : figs) {
    std::string svg = test::read_file(dir.path() / (f.id + ".svg"));
    EXPECT_EQ(plot_legends(svg), expected) << f.id;
    EXPECT_THAT(svg, HasSubstr("shaded: min–max over seeds")) << f.id;
  }
}

TEST_F(ReportFigures, LabelsShowAsTextInSvg) {
  for (const auto& f : figs) {
    std::string svg = test::read_file(dir.path() / (f.id + ".svg"));
    EXPECT_THAT(svg, Not(HasSubstr("<script"))) << f.id;
    EXPECT_THAT(svg, Not(HasSubstr("<img"))) << f.id;
    EXPECT_THAT(svg, HasSubstr("&lt;script>alert(1)&lt;/script> &lt;img")) << f.id;
  }
}

TEST_F(ReportFigures, ScriptAndDataStayBesideTheFigures) {
  EXPECT_TRUE(fs::exists(dir.path() / "gnuplot" / "figures.gp"));
  std::string data = test::read_file(dir.path() / "gnuplot" / "series_0.dat");
  // Epoch 2 of the two lr=0.1 seeds: val .55 and .60 -> mean .575, band .55-.60.
  EXPECT_THAT(data, HasSubstr("\n2 0.575 0.55 0.6 "));
}

// gnuplot writes '>' unescaped in SVG text, and XML forbids "]]>" there.
TEST(ReportFiguresSvg, ALabelHoldingACdataEndStillParses) {
  if (!have("gnuplot") || !have("xmllint")) GTEST_SKIP() << "gnuplot or xmllint not installed";
  auto store = test::fabricated_study();
  store->add("c", "x ]]> y", RunStatus::done, 5, {{0.5, 0.5}});
  const StudyData d = load_study(*store, "runs/]]>");
  test::TempDir dir;
  write_figures(d.series, figure_specs(3), d.name, dir.str());
  for (const auto& f : figure_specs(3)) {
    const fs::path svg = dir.path() / (f.id + ".svg");
    std::string out;
    EXPECT_EQ(test::run_command("xmllint --noout '" + svg.string() + "'", &out), 0) << out;
    EXPECT_THAT(test::read_file(svg), HasSubstr("x ]]&gt; y")) << f.id;
  }
}

TEST(ReportEscape, CdataEndsAreEscapedOutsideCdataSections) {
  EXPECT_EQ(escape_svg_cdata_ends("<t>a ]]> b ]]></t>"), "<t>a ]]&gt; b ]]&gt;</t>");
  EXPECT_EQ(escape_svg_cdata_ends("<s><![CDATA[ x > y ]]></s><t>]]></t>"),
            "<s><![CDATA[ x > y ]]></s><t>]]&gt;</t>");
  EXPECT_EQ(escape_svg_cdata_ends("no end > here"), "no end > here");
  EXPECT_EQ(escape_svg_cdata_ends("<![CDATA[ unclosed ]]"), "<![CDATA[ unclosed ]]");
  EXPECT_EQ(escape_svg_cdata_ends(""), "");
}

TEST(ReportFiguresScript, QuotesLabelsAndMarksDivergence) {
  auto store = test::fabricated_study();
  store->add("q", "it's 'quoted' \\n", RunStatus::done, 5, {{0.5, 0.5}});
  StudyData d = load_study(*store, "runs/lr");
  std::string gp = gnuplot_script(d.series, figure_specs(0), "a 'study'");
  EXPECT_THAT(gp, HasSubstr("title 'it''s ''quoted'' \\n'"));
  EXPECT_THAT(gp, HasSubstr("'Validation accuracy — a ''study'''"));
  EXPECT_THAT(gp, HasSubstr("title 'lr=0.5 (diverged @ep 2)'"));
  EXPECT_THAT(gp, HasSubstr("markers.dat"));
  EXPECT_THAT(gp, HasSubstr("noenhanced"));
  std::size_t bands = 0;
  for (std::size_t at = gp.find("filledcurves"); at != std::string::npos;
       at = gp.find("filledcurves", at + 1))
    ++bands;
  EXPECT_EQ(bands, figure_specs(0).size());  // one band (lr=0.1) per figure
}

TEST(ReportFiguresScript, MissingGnuplotIsAnActionableError) {
  test::TempDir dir, empty_path;
  auto store = test::fabricated_study();
  StudyData d = load_study(*store, "runs/lr");
  std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", empty_path.str().c_str(), 1);
  try {
    write_figures(d.series, figure_specs(0), d.name, dir.str());
    ADD_FAILURE() << "no error without gnuplot";
  } catch (const ReportError& e) {
    EXPECT_THAT(e.what(), HasSubstr("gnuplot-nox"));
  }
  setenv("PATH", saved.c_str(), 1);
}

}  // namespace
}  // namespace lrtune::report
