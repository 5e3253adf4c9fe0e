// `lrtune store copy FROM TO`: a study moved between a study folder (SQLite)
// and a PostgreSQL database, either way (docs/cluster.md).
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/errors.h"
#include "store/postgres_store.h"
#include "store/store_copy.h"
#include "study/study_run.h"

namespace lrtune::cli {
namespace {

namespace fs = std::filesystem;

struct CopyArgs {
  std::string from, to, study;
};

// The source: a study folder, or a study of a PostgreSQL database (the only
// one, or --study). It must exist; nothing is created.
std::unique_ptr<Store> open_source(const CopyArgs& a) {
  if (is_postgres_url(a.from)) return open_study_store(StoreLocation{"", a.from, a.study, 300, {}});
  return open_study_store(a.from);
}

// The destination: a folder without a study (created), or a PostgreSQL
// database, where the study goes under its own name.
std::unique_ptr<Store> open_destination(const CopyArgs& a, const std::string& name) {
  if (is_postgres_url(a.to)) {
    PostgresOptions o;
    o.study = name;
    return open_postgres_store(a.to, std::move(o));
  }
  if (fs::exists(results_path(a.to)))
    throw StoreError(a.to + ": already holds results.sqlite; copy into a new folder");
  std::error_code ec;
  fs::create_directories(a.to, ec);
  if (ec) throw StoreError(a.to + ": cannot create: " + ec.message());
  return open_sqlite_store(results_path(a.to));
}

std::string shown(const std::string& where) {
  return is_postgres_url(where) ? postgres_display_url(where) : where;
}

int run_copy(const CopyArgs& a) {
  // A mistyped or foreign URL is refused, never taken for a folder name.
  refuse_foreign_url(a.from, "store copy FROM");
  refuse_foreign_url(a.to, "store copy TO");
  if (!is_postgres_url(a.from) && !a.study.empty())
    throw FlagError("store copy: --study names a study of a PostgreSQL source; a folder holds one");
  auto from = open_source(a);
  const auto info = from->study();
  if (!info) throw StoreError(shown(a.from) + ": holds no study to copy");
  auto to = open_destination(a, info->name);
  const CopyCounts n = copy_study(*from, *to, "checkpoint.pt", [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  std::printf("copied study '%s' from %s to %s: %lld trials, %lld epochs, %lld checkpoints%s\n",
              info->name.c_str(), shown(a.from).c_str(), shown(a.to).c_str(),
              static_cast<long long>(n.trials), static_cast<long long>(n.epochs),
              static_cast<long long>(n.checkpoints),
              n.files ? (", " + std::to_string(n.files) + " model files").c_str() : "");
  return 0;
}

}  // namespace

RunFn setup_store(CLI::App& sub) {
  sub.require_subcommand(1);
  auto a = std::make_shared<CopyArgs>();
  auto* copy = sub.add_subcommand(
      "copy", "Copy a study, its trials, epochs and checkpoints, between stores: FROM and TO "
              "are each a study folder (SQLite) or a postgresql:// URL");
  copy->add_option("from", a->from, "the study's folder, or postgresql://user@host:port/database")
      ->required();
  copy->add_option("to", a->to, "a new folder, or a PostgreSQL database without that study")
      ->required();
  copy->add_option("--study", a->study,
                   "the study to copy from a PostgreSQL database holding several");
  copy->footer(
      "Finished and failed trials keep their status and epochs; a trial stopped half-way\n"
      "keeps its epochs and checkpoint and resumes from them on the other side. A study\n"
      "running while it is copied arrives with what was stored at that moment.");
  return [a] { return run_copy(*a); };
}

}  // namespace lrtune::cli
