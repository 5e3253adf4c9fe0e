// index.html: one self-contained page with every study's interactive charts
// and sortable tables, opening from disk with no network.
#pragma once
#include <string>
#include <vector>

#include "report/assets.h"
#include "report/range_report.h"
#include "report/series.h"
#include "report/study.h"

namespace lrtune::report {

// The page for `studies` (a comparison is one more StudyData) and lr-find
// folders (`ranges`). `generated` is a line saying what made the page. Throws ReportError when the build
// carried no uPlot.
std::string html_page(const std::vector<const StudyData*>& studies,
                      const std::vector<FigureSpec>& figs, const std::string& generated,
                      const PageAssets& assets,
                      const std::vector<const RangeFolder*>& ranges = {});

}  // namespace lrtune::report
