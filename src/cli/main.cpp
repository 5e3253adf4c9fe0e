// The whole command line, lrtune::main (include/lrtune/lrtune.h): dispatches to
// the subcommand table, and turns every error that reaches it into one line
// and an exit status (2: bad flags; 1: the rest). The lrtune program is
// src/main.cpp; a program of a user's own calls it after registering its kinds.
// Every such line goes through redact_passwords: a store URL echoed by the
// argument parser or an error never shows its password.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/errors.h"
#include "core/provenance.h"
#include "core/url.h"
#include "lrtune/lrtune.h"
#include "train/builtin_kinds.h"

namespace {

struct Command {
  const char* name;
  const char* help;
  lrtune::cli::RunFn (*setup)(CLI::App&);
};

const Command kCommands[] = {
    {"train", "Train one network, checkpointing every epoch (resumable)",
     lrtune::cli::setup_train},
    {"data", "Download or check a data set (CIFAR-10, CIFAR-100, MNIST, Fashion-MNIST, your own)", lrtune::cli::setup_data},
    {"models", "List the networks lrtune can build", lrtune::cli::setup_models},
    {"kinds", "List the models, optimizers and schedules, with their keys",
     lrtune::cli::setup_kinds},
    {"lr-find", "LR range test: loss against a ramped learning rate, with suggested rates",
     lrtune::cli::setup_lr_find},
    {"study", "Run a study file's trials in parallel; its status; export its epochs",
     lrtune::cli::setup_study},
    {"report", "Figures, tables and an offline HTML page from study or run folders",
     lrtune::cli::setup_report},
    {"export", "Study or run folders for other tools (tensorboard)", lrtune::cli::setup_export},
    {"store", "Move a study between a study folder (SQLite) and PostgreSQL",
     lrtune::cli::setup_store},
};

}  // namespace

namespace {

// A command's exit status, or 1 when what it printed did not reach standard
// output (`lrtune study export DIR > /dev/full`): a full disk must never look
// like success with an empty file.
int standard_output_written(int status) {
  errno = 0;
  std::cout.flush();
  const bool ok = std::cout.good() && std::fflush(stdout) == 0 && !std::ferror(stdout);
  if (ok) return status;
  std::cerr << "lrtune: error: standard output: cannot write: "
            << std::strerror(errno ? errno : EIO) << "\n";
  return 1;
}

// "lrtune NAME" with an unknown NAME: say so and list the commands (exit 2).
bool unknown_command(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  std::string names;
  for (const auto& c : kCommands) {
    if (argv[1] == std::string(c.name)) return false;
    names += (names.empty() ? "" : ", ") + std::string(c.name);
  }
  std::cerr << "lrtune: error: unknown command '" << lrtune::redact_passwords(argv[1])
            << "' (commands: " << names
            << "; lrtune --help)\n";
  return true;
}

// The shipped kinds, after any the program registered first: a name taken twice
// is one line (exit 2) naming the kind, not an abort.
bool builtin_kinds_registered() {
  try {
    lrtune::register_builtin_kinds();
    return true;
  } catch (const std::logic_error& e) {
    std::cerr << "lrtune: error: " << e.what()
              << ": a kind this program registers has the name of one lrtune ships; rename it\n";
    return false;
  }
}

}  // namespace

int lrtune::main(int argc, char** argv) {
  if (!builtin_kinds_registered()) return 2;
  if (unknown_command(argc, argv)) return 2;
  CLI::App app{"lrtune: learning-rate and hyper-parameter studies of CNNs on CIFAR-10"};
  app.require_subcommand(1);
  app.set_version_flag("--version", lrtune::version_line());
  std::map<CLI::App*, lrtune::cli::RunFn> runs;
  for (const auto& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runs[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a flag CLI11 rejects exits 2, as any bad
    // flag, in lrtune's one-line form.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "lrtune: error: " << lrtune::redact_passwords(e.what())
              << " (--help lists the flags)\n";
    return 2;
  }
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return standard_output_written(run());
  } catch (const lrtune::cli::FlagError& e) {
    std::cerr << "lrtune: error: " << lrtune::redact_passwords(e.what()) << "\n";
    return 2;
  } catch (const lrtune::Error& e) {
    std::cerr << "lrtune: error: " << lrtune::redact_passwords(e.what()) << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "lrtune: error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lrtune: error: " << lrtune::redact_passwords(e.what()) << "\n";
    return 1;
  }
  return 0;
}
