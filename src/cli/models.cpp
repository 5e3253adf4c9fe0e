// `lrtune models`: the registry, with parameter counts.
#include <iostream>

#include "cli/commands.h"
#include "model/network.h"

namespace lrtune::cli {

RunFn setup_models(CLI::App&) {
  return [] {
    for (const auto& e : model_registry())
      std::cout << e.name << "  (" << parameter_count(*e.build()) << " parameters)  " << e.description
                << "\n";
    return 0;
  };
}

}  // namespace lrtune::cli
