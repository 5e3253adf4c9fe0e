// Trial ids of the shipped study files: the trials, labels and order lrtune 0.1
// listed, 0.1's ids recomputed by the frozen 0.1 identity, and today's ids pinned.
//
// When an id, label or order changes on purpose, regenerate the golden file:
//   LRTUNE_UPDATE_GOLDEN=1 build/tests/lrtune_tests --gtest_filter='GoldenIds.*'
// and commit tests/study/golden/trial-ids.txt with the change, saying why: users'
// finished trials are found by these ids (a changed id reruns the trial).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/identity.h"
#include "study/expand.h"
#include "study/study_file.h"
#include "support/test_support.h"

namespace lrtune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kSource = fs::path(LRTUNE_SOURCE_DIR).lexically_normal();
const char* const kGolden = "tests/study/golden/trial-ids.txt";
const char* const kV01Lists = "tests/fixtures/v0.1-trial-lists";
const char* const kUnreadable = "# lrtune 0.1 cannot read this file";
const char* const kRegenerate =
    "If the change is meant, regenerate the golden file with\n"
    "  LRTUNE_UPDATE_GOLDEN=1 build/tests/lrtune_tests --gtest_filter='GoldenIds.*'\n"
    "and commit tests/study/golden/trial-ids.txt, saying why ids changed.";

// studies/*.toml and studies/reference/*.toml, relative to the source tree, sorted.
std::vector<std::string> shipped_study_files() {
  std::vector<std::string> out;
  for (const char* dir : {"studies", "studies/reference"})
    for (const auto& e : fs::directory_iterator(kSource / dir))
      if (e.is_regular_file() && e.path().extension() == ".toml")
        out.push_back(fs::relative(e.path(), kSource).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

struct Listed {
  std::string id, label;
};

// 0.1's `study run FILE --dry-run` output, "id  label" per line; nullopt for a
// file 0.1 could not read (tests/fixtures/make-v0.1-trial-lists.sh).
std::optional<std::vector<Listed>> v01_list(const std::string& study_file) {
  std::string name = study_file;
  std::replace(name.begin(), name.end(), '/', '_');
  const fs::path path = kSource / kV01Lists / (name + ".txt");
  if (!fs::exists(path))
    throw std::runtime_error(path.string() + ": missing; run tests/fixtures/make-v0.1-trial-lists.sh");
  std::istringstream in(test::read_file(path));
  std::vector<Listed> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(kUnreadable, 0) == 0) return std::nullopt;
    const auto sep = line.find("  ");
    if (sep == std::string::npos) throw std::runtime_error(path.string() + ": bad line '" + line + "'");
    out.push_back({line.substr(0, sep), line.substr(sep + 2)});
  }
  return out;
}

Expansion expand_shipped(const std::string& study_file) {
  return expand_study(read_study_file((kSource / study_file).string()));
}

// The flat configuration lrtune 0.1 stored and hashed: every key of its table.
// Today's TrialSpec::config (to_json of the TrainConfig) is a superset: 0.1's
// keys by the same names and types, plus keys added since (which 0.1's table,
// frozen in core/identity.cpp, does not read).
const json& v01_flat_config(const TrialSpec& trial) { return trial.config; }

TEST(GoldenIds, EveryShippedStudyHasALrtune01List) {
  std::vector<std::string> expected;
  for (const auto& f : shipped_study_files()) {
    std::string name = f;
    std::replace(name.begin(), name.end(), '/', '_');
    expected.push_back(name + ".txt");
    EXPECT_TRUE(fs::exists(kSource / kV01Lists / expected.back()))
        << f << ": no 0.1 list; run tests/fixtures/make-v0.1-trial-lists.sh";
  }
  for (const auto& e : fs::directory_iterator(kSource / kV01Lists))
    if (e.path().extension() == ".txt")
      EXPECT_NE(std::find(expected.begin(), expected.end(), e.path().filename().string()), expected.end())
          << e.path() << ": no shipped study file of that name; rerun the script (or delete it)";
}

// Users of 0.1 rerun the same files: the same trials must come out, in order.
// A file 0.1 could not read has no 0.1 users; the golden file still pins it.
TEST(GoldenIds, SameTrialsLabelsAndOrderAsLrtune01) {
  for (const auto& f : shipped_study_files()) {
    SCOPED_TRACE(f);
    const auto listed = v01_list(f);
    if (!listed) {
      std::cout << "note: lrtune 0.1 could not read " << f << " (" << kV01Lists << "/MADE-BY)\n";
      continue;
    }
    std::vector<std::string> v01_labels, labels;
    for (const auto& l : *listed) v01_labels.push_back(l.label);
    for (const auto& t : expand_shipped(f).trials) labels.push_back(t.label);
    EXPECT_EQ(labels, v01_labels);
  }
}

// The frozen 0.1 identity, given today's configuration, gives the id 0.1
// printed: so migration (which hashes 0.1's stored configs) knows these trials.
TEST(GoldenIds, FrozenLrtune01IdentityGivesTheIdsLrtune01Printed) {
  for (const auto& f : shipped_study_files()) {
    SCOPED_TRACE(f);
    const auto listed = v01_list(f);
    if (!listed) continue;  // noted by SameTrialsLabelsAndOrderAsLrtune01
    const Expansion e = expand_shipped(f);
    ASSERT_EQ(e.trials.size(), listed->size());
    for (std::size_t i = 0; i < listed->size(); ++i)
      EXPECT_EQ(v01_trial_id(v01_flat_config(e.trials[i])), (*listed)[i].id) << e.trials[i].label;
  }
}

// A 0.1 database's trial is renamed to identity_hash(v01_identity(config)); a
// rerun of the same file today must find it under that name, not start over.
// A file 0.1 could not read has no 0.1 database to migrate.
TEST(GoldenIds, MigratedLrtune01IdsAreTodaysIds) {
  for (const auto& f : shipped_study_files()) {
    SCOPED_TRACE(f);
    if (!v01_list(f)) continue;
    for (const auto& t : expand_shipped(f).trials)
      EXPECT_EQ(identity_hash(v01_identity(v01_flat_config(t))), t.id) << t.label;
  }
}

std::string golden_text() {
  std::string text =
      "# Trial ids of the shipped study files: study file, id, label (one line per trial,\n"
      "# in run order). Checked by tests/study/golden_ids_test.cpp; regenerate with\n"
      "# LRTUNE_UPDATE_GOLDEN=1 build/tests/lrtune_tests --gtest_filter='GoldenIds.*'\n";
  for (const auto& f : shipped_study_files())
    for (const auto& t : expand_shipped(f).trials) text += f + "  " + t.id + "  " + t.label + "\n";
  return text;
}

std::vector<std::string> lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(GoldenIds, TodaysIdsMatchTheGoldenFile) {
  const fs::path golden = kSource / kGolden;
  const std::string now = golden_text();
  const char* update = std::getenv("LRTUNE_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden) << now;
    std::cout << "rewrote " << golden.string() << "\n";
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing.\n" << kRegenerate;
  const auto want = lines(test::read_file(golden)), got = lines(now);
  for (std::size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    const std::string w = i < want.size() ? want[i] : "(no line)", g = i < got.size() ? got[i] : "(no line)";
    if (w != g) {
      ADD_FAILURE() << "trial ids of the shipped studies changed at line " << i + 1 << " of " << kGolden
                    << "\n  golden: " << w << "\n  today:  " << g << "\n" << kRegenerate;
      break;
    }
  }
  EXPECT_EQ(want.size(), got.size());
}

}  // namespace
}  // namespace lrtune
