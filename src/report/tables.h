// The report's tables as rows of cells, rendered to Markdown and HTML, and
// the per-trial CSV with full-precision numbers.
#pragma once
#include <string>
#include <vector>

#include "report/summary.h"

namespace lrtune::report {

struct Cell {
  std::string text;  // as shown ("83.12", "—"), clean text, not yet escaped
  std::string sort;  // what the page sorts by: a number, or the text
  bool numeric = false;
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
};

// Label, status (with the divergence epoch), best validation accuracy and its
// epoch, test accuracy at that epoch, final test accuracy, first epochs
// reaching 50/70/80% validation accuracy, wall time. Accuracies in percent.
Table trial_table(const std::vector<TrialSummary>& trials);

// Repeat groups: n, and mean ± sample std of the accuracies above.
Table group_table(const std::vector<GroupSummary>& groups);

std::string markdown_table(const Table& t);
// <table class="sortable"> with data-v sort keys; every text HTML-escaped.
std::string html_table(const Table& t);

// One row per trial, accuracies as fractions with full precision.
std::string trials_csv(const std::vector<TrialSummary>& trials);

}  // namespace lrtune::report
