// `lrtune models` (the networks, with parameter counts) and `lrtune kinds`
// (every registered model, optimizer and schedule with the keys it reads).
#include <iostream>

#include "cli/commands.h"
#include "core/errors.h"
#include "model/network.h"

namespace lrtune::cli {

RunFn setup_models(CLI::App&) {
  return [] {
    for (const auto* k : model_kinds()) {
      TrainConfig cfg;
      cfg.model = k->decl.name;
      std::string size;
      try {
        size = std::to_string(parameter_count(*k->build(cfg, DataShape{}))) + " parameters for CIFAR-10";
      } catch (const ConfigError&) {
        size = "its size comes from its files";  // torchscript: from model_file
      }
      std::cout << k->decl.name << "  (" << size << ")  " << k->decl.help << "\n";
    }
    return 0;
  };
}

RunFn setup_kinds(CLI::App& sub) {
  sub.footer("\nSelect a kind with its family's key (dataset = \"...\", model = \"...\",\n"
             "optimizer = \"...\", schedule = \"...\") in a config or study file, or with\n"
             "--dataset, --model, --optimizer, --schedule. Its keys are ordinary configuration\n"
             "keys (flags and TOML).");
  return [] {
    for (const char* family : {"dataset", "model", "optimizer", "schedule"}) {
      std::cout << family << ":\n";
      for (const auto& k : declared_kinds(family)) {
        std::cout << "  " << k->name << "  " << k->help << "\n";
        for (const auto& key : k->keys)
          std::cout << "      " << key.name << " = " << key.default_value.dump()
                    << (key.unit.empty() ? "" : " " + key.unit) << "  " << key.help << "\n";
        for (const auto& [key, value] : k->defaults.items())
          std::cout << "      " << key << " = \"auto\" means " << value.dump() << " for this kind\n";
      }
    }
    return 0;
  };
}

}  // namespace lrtune::cli
