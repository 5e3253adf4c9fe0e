// Linked with lrtune_core, lrtune_store, lrtune_report and lrtune_search alone (every object
// of them), so it builds only while those layers stay free of LibTorch. As a
// test it also uses one thing of each: a store in a temporary file, a status
// table over it, and the version line.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "core/provenance.h"
#include "report/escape.h"
#include "search/pruner.h"
#include "store/store.h"

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lrtune-layers-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int rc = 0;
  {
    auto store = lrtune::open_sqlite_store((dir / "results.sqlite").string());
    lrtune::StudyInfo info;
    info.name = "layers";
    store->put_study(info);
    lrtune::TrialSpec spec;
    spec.id = "0123456789abcdef";
    spec.label = "lr=0.1";
    spec.epochs_total = 1;
    store->add_trial(spec);
    if (store->trials().size() != 1) {
      std::cerr << "expected one trial in the store\n";
      rc = 1;
    }
  }
  if (lrtune::report::html_escape("<a&b>") != "&lt;a&amp;b&gt;") {
    std::cerr << "html_escape is wrong\n";
    rc = 1;
  }
  if (lrtune::version_line().find("lrtune ") != 0) {
    std::cerr << "unexpected version line: " << lrtune::version_line() << "\n";
    rc = 1;
  }
  fs::remove_all(dir);
  if (lrtune::search::percentile({1, 2, 3, 4}, 50) != 2.5) {
    std::cerr << "percentile is wrong\n";
    rc = 1;
  }
  if (rc == 0) std::cout << "core, store, report and search link without LibTorch\n";
  return rc;
}
