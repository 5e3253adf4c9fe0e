// The page's JavaScript and CSS, embedded into the library at build time:
// uPlot from node_modules/ (installed by `npm ci`) and the page's own script
// and style from src/report/assets/. See cmake/report_assets.cmake.
#pragma once
#include <string_view>

namespace lrtune::report {

struct PageAssets {
  std::string_view uplot_js, uplot_css;  // empty when node_modules/ was missing at build time
  std::string_view uplot_version;        // from its package.json, "" when missing
  std::string_view page_js, page_css;
};

const PageAssets& page_assets();

}  // namespace lrtune::report
