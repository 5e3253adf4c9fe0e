// The configuration of one training run: every knob `lrtune train` and study
// files accept, with defaults, one validate(), and JSON/TOML conversion.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lrtune {

struct TrainConfig {
  // Model and optimiser.
  std::string model = "reference_cnn";
  double lr = 0.01;            // base learning rate
  double momentum = 0.0;       // SGD momentum (0 = off)
  double dampening = 0.0;      // PyTorch SGD dampening
  bool nesterov = false;       // Nesterov momentum (needs momentum > 0, dampening 0)
  double weight_decay = 0.0;   // L2 penalty added to the gradient
  // Schedule: the rate is a pure function of (epoch, step); see optim/schedule.h.
  std::string schedule = "constant";  // constant|multistep|step|exponential|cosine
  std::vector<std::int64_t> milestones = {50, 100, 150};  // epochs (multistep)
  double gamma = 0.2;          // decay factor (multistep, step, exponential)
  std::int64_t step_size = 30; // epochs between decays (step)
  double min_lr = 0.0;         // floor of the cosine schedule
  double warmup_epochs = 0.0;  // linear warm-up length in epochs, ramped per step
  // Training loop.
  std::int64_t epochs = 15;
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 250;  // images per evaluation forward pass
  std::string augment = "flipcrop";    // none|flipcrop (4-pixel pad crop + flip)
  std::int64_t train_subset = 0;       // use only this many training images (0 = all)
  std::int64_t val_size = 5000;        // validation images split off training (x10 classes)
  std::int64_t seed = 1;
  // Where and how to run: not part of a trial's identity.
  std::string device = "auto";         // cpu|cuda|auto
  std::int64_t threads = 0;            // CPU threads (0 = all cores)
  std::string data = "";               // CIFAR-10 folder ("" = $LRTUNE_DATA or ./data/...)

  // Throws ConfigError naming `source` and the key for the first bad value.
  void validate(const std::string& source = "configuration") const;
};

// One entry of the key table shared by TOML, JSON, command-line flags and
// study sweeps, so that a key is spelled and checked in one place only.
struct ConfigField {
  using Member = std::variant<double TrainConfig::*, std::int64_t TrainConfig::*,
                              bool TrainConfig::*, std::string TrainConfig::*,
                              std::vector<std::int64_t> TrainConfig::*>;
  const char* key;
  const char* help;
  Member member;
  bool identity;  // part of a trial's identity (false for where/how it runs)
};

const std::vector<ConfigField>& config_fields();
const ConfigField* find_config_field(const std::string& key);

// JSON of every field (sorted keys). With identity_only, only fields that
// change results: the canonical form a trial's identity is hashed from.
nlohmann::json to_json(const TrainConfig& cfg, bool identity_only = false);

// Sets the keys present in `j` (an object). Unknown keys and wrong types throw
// ConfigError naming `source` and the key. Does not validate().
void apply_json(TrainConfig& cfg, const nlohmann::json& j, const std::string& source);

// Sets one key from command-line text ("0.1", "true", "50,100,150").
void apply_text(TrainConfig& cfg, const std::string& key, const std::string& text,
                const std::string& source);

// The value of one key as text, as --help and labels show it.
std::string field_text(const TrainConfig& cfg, const ConfigField& field);

// Reads a TOML file into a JSON object (tables nested, arrays kept); throws
// ConfigError with the file, line and column on a syntax error.
nlohmann::json read_toml_file(const std::string& path);

// Loads a TOML config file over `cfg` (unknown keys are errors).
void apply_toml_file(TrainConfig& cfg, const std::string& path);

}  // namespace lrtune
