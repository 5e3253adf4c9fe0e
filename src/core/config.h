// The configuration of one training run: the run's own keys (members with
// in-class defaults) and the keys that its optimizer, schedule and model kinds
// declare (core/keys.h), with one validate() and JSON/TOML/text conversion.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/keys.h"

namespace lrtune {

// More LibTorch threads than any machine lrtune runs on has cores: refused
// (thousands of threads start and never train).
inline constexpr std::int64_t kMaxThreads = 1024;

struct TrainConfig {
  // What is trained, and how: each names a registered kind (`lrtune kinds`).
  std::string dataset = "cifar10";  // data set kind (see `lrtune kinds`)
  std::string model = "reference_cnn";
  std::string optimizer = "sgd";
  std::string schedule = "constant";
  // Keys every optimizer and schedule share.
  double lr = 0.01;            // base learning rate
  double weight_decay = 0.0;   // the optimizer's weight decay (L2 for SGD)
  double warmup_epochs = 0.0;  // linear warm-up length in epochs, ramped per step
  // Training loop.
  std::int64_t epochs = 15;
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 250;  // images per evaluation forward pass
  std::string augment = "auto";        // auto|none|crop|flipcrop (4-pixel pad crop, + flip)
  std::int64_t train_subset = 0;       // use only this many training images (0 = all)
  std::int64_t val_size = 5000;        // validation images split off training, stratified
  std::int64_t seed = 1;
  std::string precision = "fp32";      // fp32|bf16 (bf16 autocast for convolutions and matmuls)
  bool deterministic = true;           // refuse operations without a deterministic kernel
  // Where and how to run: not part of a trial's identity.
  std::string device = "auto";         // cpu|cuda|auto
  std::int64_t threads = 0;            // CPU threads (0 = all cores)
  std::string data = "";               // CIFAR-10 folder ("" = $LRTUNE_DATA or ./data/...)

  // Values of kind-declared keys that were set; the others read as their
  // declared default. Use value()/set() rather than this map.
  std::map<std::string, nlohmann::json> options;

  // A kind-declared key's value (or its default); throws std::logic_error for
  // an undeclared key or the wrong type (a programming error).
  double real(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  bool flag(const std::string& key) const;
  std::string text(const std::string& key) const;
  std::vector<std::int64_t> int_list(const std::string& key) const;
  std::vector<double> real_list(const std::string& key) const;

  // Sets any key, run's own or declared (types are checked: ConfigError).
  void set(const std::string& key, const nlohmann::json& value,
           const std::string& source = "configuration");

  // Throws ConfigError naming `source` and the key for the first bad value.
  void validate(const std::string& source = "configuration") const;

  // The augmentation a run uses: `augment`, or for "auto" the data set kind's
  // default (default_augmentation).
  std::string augmentation() const;
  // The data set kind's default augmentation (its KindDecl::defaults), flipcrop
  // when it states none.
  std::string default_augmentation() const;
};

// One key of the whole table: a run's own key or one a kind declared.
struct ConfigField {
  KeySpec spec;
  std::string owner;  // "" for the run's own keys, else "optimizer sgd", "schedule step, ..."
  const std::string& key() const { return spec.name; }
  bool identity() const { return spec.identity; }
};

// Whether `cfg`'s chosen kinds read `key`: a run's own key always; a key a
// kind declares only when `cfg` uses one of the kinds declaring it
// (milestones with the multistep schedule, not with cosine).
bool chosen_kinds_read(const TrainConfig& cfg, const std::string& key);

// The kind-declared keys `cfg` sets away from their defaults that none of its
// chosen kinds (optimizer, schedule, model) reads, in key order; validate()
// refuses them, and a search drops the ones a draw makes moot.
std::vector<std::string> keys_not_read(const TrainConfig& cfg);

// The run's own keys first, then every declared key (kinds in declaration order).
const std::vector<ConfigField>& config_fields();
const ConfigField* find_config_field(const std::string& key);

// The value of any key as JSON (a declared key not set reads as its default;
// augment reads as augmentation(), never "auto").
nlohmann::json field_value(const TrainConfig& cfg, const ConfigField& field);

// JSON of every field (sorted keys). With identity_only, only fields that
// change results.
nlohmann::json to_json(const TrainConfig& cfg, bool identity_only = false);

// The canonical form a trial's identity is hashed from: the result-changing
// keys whose value differs from the default (for augment, the data set's
// default). A key added later with a default leaves every existing identity as
// it was.
nlohmann::json identity_json(const TrainConfig& cfg);

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
