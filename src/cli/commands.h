// Subcommands of the `lrtune` executable. Each file in src/cli/ defines one
// setup function: it adds its flags to `sub` and returns what runs it.
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace lrtune::cli {

using RunFn = std::function<int()>;

RunFn setup_train(CLI::App& sub);
RunFn setup_data(CLI::App& sub);
RunFn setup_models(CLI::App& sub);
RunFn setup_kinds(CLI::App& sub);
RunFn setup_lr_find(CLI::App& sub);
RunFn setup_study(CLI::App& sub);
RunFn setup_report(CLI::App& sub);
RunFn setup_export(CLI::App& sub);
RunFn setup_store(CLI::App& sub);

}  // namespace lrtune::cli
