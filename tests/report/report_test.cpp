// The whole report from fake stores: files, comparison, escaping in the page,
// and the page loading and drawing in headless Chromium.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "report/assets.h"
#include "report/escape.h"
#include "report/html.h"
#include "report/report.h"
#include "support/fake_store.h"
#include "support/range_support.h"
#include "support/test_support.h"

namespace lrtune::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Two fabricated studies, "runs/a" and "runs/b", compared on their best and lr=0.5.
ReportOptions two_studies(const std::string& out, bool figures = false) {
  ReportOptions o;
  o.dirs = {"runs/a", "runs/b"};
  o.compare = {{"runs/a", "best"}, {"runs/b", "lr=0.5"}};
  o.out = out;
  o.zoom_epochs = 3;
  o.figures = figures;
  return o;
}

std::unique_ptr<Store> open_fake(const std::string& dir) {
  return test::fabricated_study(dir == "runs/a" ? "part 1" : "part 2");
}

TEST(ReportEscape, EveryFormatKeepsMarkupAsText) {
  EXPECT_EQ(html_escape("<script>a&b</script>\"'"),
            "&lt;script&gt;a&amp;b&lt;/script&gt;&quot;&#39;");
  EXPECT_EQ(markdown_cell("a|b_<i>"), "a\\|b\\_&lt;i&gt;");
  EXPECT_EQ(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(gnuplot_string("it's"), "'it''s'");
  EXPECT_EQ(json_for_script(nlohmann::json("</script><!--&")),
            "\"\\u003c/script\\u003e\\u003c!--\\u0026\"");
  EXPECT_EQ(clean_text(std::string("a\nb\x01\xff") + "é"), "a b ?é");
  EXPECT_EQ(slug("Part 1: LR sweep!"), "part-1-lr-sweep");
  EXPECT_EQ(slug("<>"), "study");
}

TEST(ReportWrite, WritesMarkdownCsvAndPageForEveryStudyAndTheComparison) {
  test::TempDir dir;
  auto result = write_report(two_studies(dir.str()), open_fake);
  EXPECT_EQ(result.studies, 2u);
  for (const char* f : {"report.md", "index.html", "part-1/trials.csv", "part-2/trials.csv",
                        "compare/trials.csv"})
    EXPECT_TRUE(fs::exists(dir.path() / f)) << f;
  std::string md = test::read_file(dir.path() / "report.md");
  EXPECT_THAT(md, HasSubstr("## part 1"));
  EXPECT_THAT(md, HasSubstr("## Comparison"));
  EXPECT_THAT(md, HasSubstr("| lr=0.1 seed=1 | done | 81.00 | 4 | 79.00 | 82.00 | 2 | 3 | 4 | 50s |"));
  EXPECT_THAT(md, HasSubstr("| lr=0.5 | diverged @ep 2 |"));
  EXPECT_THAT(md, HasSubstr("| lr=0.01 | running 3/10 |"));
  EXPECT_THAT(md, HasSubstr("### Repeats (mean ± std over seeds)"));
  EXPECT_THAT(md, HasSubstr("| lr=0.1 | 2 | 0 | 82.00 ± 1.41 | 79.50 ± 0.71 | 81.00 ± 1.41 |"));
  EXPECT_THAT(md, HasSubstr("out of memory &lt;oops&gt;"));
  // "best" of part 1 is lr=0.1 (mean best val 82%); the comparison holds its two seeds.
  std::string compare = test::read_file(dir.path() / "compare" / "trials.csv");
  EXPECT_THAT(compare, HasSubstr("part 1: lr=0.1 seed=1"));
  EXPECT_THAT(compare, HasSubstr("part 1: lr=0.1 seed=2"));
  EXPECT_THAT(compare, HasSubstr("part 2: lr=0.5,diverged"));
}

TEST(ReportWrite, UnknownCompareLabelNamesTheChoices) {
  test::TempDir dir;
  auto opts = two_studies(dir.str());
  opts.compare = {{"runs/a", "lr=7"}};
  try {
    write_report(opts, open_fake);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no trial labelled 'lr=7'"));
    EXPECT_THAT(e.what(), HasSubstr("lr=0.1, lr=0.5"));
  }
}

TEST(ReportWrite, ParsesCompareItems) {
  auto c = parse_compare("runs/part1:lr=0.1");
  EXPECT_EQ(c.dir, "runs/part1");
  EXPECT_EQ(c.label, "lr=0.1");
  EXPECT_THROW(parse_compare("runs/part1"), ConfigError);
  EXPECT_THROW(parse_compare("runs/part1:"), ConfigError);
  test::TempDir dir;
  fs::create_directories(dir.path() / "a:b");
  c = parse_compare((dir.path() / "a:b").string() + ":best");
  EXPECT_EQ(c.dir, (dir.path() / "a:b").string());
  EXPECT_EQ(c.label, "best");
}

TEST(ReportHtml, PageIsSelfContainedAndEscapesLabels) {
  if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
  test::TempDir dir;
  write_report(two_studies(dir.str()), open_fake);
  std::string html = test::read_file(dir.path() / "index.html");
  EXPECT_EQ(count(html, "<script"), 3u);  // data, uPlot, page script: all inline
  EXPECT_THAT(html, Not(HasSubstr("<script src")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<b>0.01")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("\\u003cscript\\u003ealert(1)"));
  EXPECT_THAT(html, HasSubstr("Learning rates &lt;b&gt;0.01&lt;/b&gt; to 0.5"));
  EXPECT_THAT(html, HasSubstr("\"lr\":true"));  // a log-scale chart for the browser test
}

TEST(ReportHtml, BuildWithoutUplotSaysHowToFixIt) {
  PageAssets none;
  try {
    html_page({}, {}, "", none);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("npm ci"));
  }
}

// Headless Chromium on a page from disk: the DOM after load (and after
// `extra_ms` of timers), its console log in `log`.
class ReportPage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::run_command("command -v chromium >/dev/null") != 0)
      GTEST_SKIP() << "chromium not installed (scripts/setup.sh installs it)";
    if (page_assets().uplot_js.empty()) GTEST_SKIP() << "built without node_modules (npm ci)";
    write_report(two_studies(dir.str()), open_fake);
  }
  std::string dump_dom(const std::string& page, int extra_ms = 0) {
    std::string cmd =
        "timeout 120 chromium --headless --no-sandbox --disable-gpu "
        "--disable-background-networking --disable-component-update --disable-sync "
        "--no-first-run --user-data-dir='" + (dir.path() / "profile").string() +
        "' --enable-logging=stderr --v=0 --window-size=1280,900 " +
        (extra_ms ? "--virtual-time-budget=" + std::to_string(extra_ms) + " " : "") +
        "--dump-dom 'file://" + (dir.path() / page).string() + "' 2>'" +
        (dir.path() / "chromium.log").string() + "'";
    std::string dom;
    int rc = test::run_command(cmd, &dom);
    log = test::read_file(dir.path() / "chromium.log");
    EXPECT_EQ(rc, 0) << log;
    return dom;
  }
  test::TempDir dir;
  std::string log;
};

// The page's script records how many charts it drew and any error in #lrtune-status.
TEST_F(ReportPage, ChromiumDrawsEveryChartWithoutErrors) {
  std::string dom = dump_dom("index.html");
  const std::size_t charts = 3 * 8;  // two studies and the comparison, 8 figures each
  EXPECT_THAT(dom, HasSubstr("data-charts=\"" + std::to_string(charts) + "\""));
  EXPECT_THAT(dom, HasSubstr("data-errors=\"\""));
  EXPECT_GE(count(dom, "<canvas"), charts);
  EXPECT_EQ(count(dom, "class=\"u-legend"), charts);
  EXPECT_THAT(dom, HasSubstr("setAttribute('data-pwned','1')"));  // shown as text
  EXPECT_THAT(dom, Not(HasSubstr("data-pwned=\"1\"")));  // and never run
  EXPECT_THAT(log, Not(HasSubstr(":CONSOLE")));     // no console message at all
  EXPECT_THAT(log, Not(HasSubstr("Uncaught")));
}

// Hover, legend click and drag-zoom on the first chart, driven by mouse
// events from a script added to a copy of the page.
TEST_F(ReportPage, HoverNamesTrialEpochValueAndLegendHidesAndDragZooms) {
  const char* probe = R"js(<script>
window.addEventListener('load', function () {
  var u = window.lrtuneCharts[0], r = u.over.getBoundingClientRect(), out = {};
  function mouse(type, fx, fy, target) {  // uPlot ignores drag moves with no movement
    (target || u.over).dispatchEvent(new MouseEvent(type, {bubbles: true, button: 0, movementX: 1,
        clientX: r.left + r.width * fx, clientY: r.top + r.height * fy}));
  }
  mouse('mouseenter', 0.5, 0.2);
  mouse('mousemove', 0.5, 0.2);
  setTimeout(function () {
    var tip = u.root.querySelector('.tooltip');
    out.tooltip = tip.style.display === 'block' ? tip.textContent : '';
    u.root.querySelectorAll('.u-legend .u-series')[1].querySelector('th').click();
    out.shown = [u.series[1].show, u.series[2].show, u.series[3].show, u.series[4].show];
    mouse('mousedown', 0.25, 0.5);
    mouse('mousemove', 0.75, 0.5);
    mouse('mouseup', 0.75, 0.5, document);
    setTimeout(function () {
      out.zoom = [u.scales.x.min, u.scales.x.max];
      document.body.setAttribute('data-probe', JSON.stringify(out));
    }, 50);
  }, 50);
});
</script></body>)js";
  std::string html = test::read_file(dir.path() / "index.html");
  html.replace(html.rfind("</body>"), 7, probe);
  std::ofstream(dir.path() / "probe.html") << html;
  std::string dom = dump_dom("probe.html", 2000);
  auto at = dom.find("data-probe=\"");
  ASSERT_NE(at, std::string::npos) << log;
  std::string attr = dom.substr(at + 12, dom.find('"', at + 12) - at - 12);
  for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""}, {"&amp;", "&"}})
    for (auto p = attr.find(from); p != std::string::npos; p = attr.find(from, p + 1))
      attr.replace(p, from.size(), to);
  auto probe_result = nlohmann::json::parse(attr);
  // Mid-chart is epoch 3 of 5; 20% from the top is nearest lr=0.1 (mean 70.5%).
  EXPECT_EQ(probe_result["tooltip"], "lr=0.1 (mean of 2) — epoch 3: 70.50%");
  // Clicking lr=0.1 hides its mean line and both edges of its band, nothing else.
  EXPECT_EQ(probe_result["shown"], nlohmann::json({false, false, false, true}));
  double lo = probe_result["zoom"][0], hi = probe_result["zoom"][1];
  EXPECT_GT(lo, 1.5);
  EXPECT_LT(hi, 4.5);
  EXPECT_THAT(log, Not(HasSubstr(":CONSOLE")));
}

// An lr-find folder's section: its chart drawn on a log rate axis, one line
// per test, with no error.
TEST_F(ReportPage, ChromiumDrawsTheRangeTestChart) {
  test::write_range_folder(dir.path() / "find", {"momentum=0", "momentum=0.9"});
  ReportOptions o;
  o.dirs = {(dir.path() / "find").string()};
  o.out = (dir.path() / "range-report").string();
  o.figures = false;
  write_report(o, open_fake);
  std::string dom = dump_dom("range-report/index.html");
  EXPECT_THAT(dom, HasSubstr("data-charts=\"1\""));
  EXPECT_THAT(dom, HasSubstr("data-errors=\"\""));
  EXPECT_THAT(dom, HasSubstr("data-figure=\"lr-find\""));
  EXPECT_THAT(dom, HasSubstr("momentum=0.9 (valley 2.46e-2, steepest 9.12e-2, min/10 1.00e-3)"));
  EXPECT_THAT(log, Not(HasSubstr(":CONSOLE")));
}

}  // namespace
}  // namespace lrtune::report
