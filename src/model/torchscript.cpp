// TorchScript networks: the script's tensors registered as this module's own.
#include "model/torchscript.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/cifar10.h"

namespace lrtune {
namespace {

// "[2, 3, 32, 32]": LibTorch's own printing of sizes.
std::string shape_text(at::IntArrayRef sizes) { return c10::str(sizes); }

// The module a dotted name ("layer1.0.conv1") lies in, made on first use.
torch::nn::Module& submodule(torch::nn::Module& root, const std::string& dotted,
                             std::map<std::string, std::shared_ptr<torch::nn::Module>>& made) {
  torch::nn::Module* at = &root;
  std::string prefix;
  std::istringstream parts(dotted);
  for (std::string part; std::getline(parts, part, '.');) {
    prefix += (prefix.empty() ? "" : ".") + part;
    auto& child = made[prefix];
    if (!child) child = at->register_module(part, std::make_shared<torch::nn::Module>());
    at = child.get();
  }
  return *at;
}

// Splits "layer1.0.conv1.weight" into ("layer1.0.conv1", "weight").
std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

// `x` with channels-last strides. x.contiguous(ChannelsLast) is not enough: a
// one-channel tensor counts as channels-last in either layout and is left
// as it is, and the convolutions then take it as contiguous.
torch::Tensor channels_last_batch(const torch::Tensor& x) {
  auto out = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  return out.strides() == x.strides() ? x : out.copy_(x);
}

std::string load_error(const std::string& file, const std::exception& e) {
  return "model_file " + file + ": LibTorch cannot load it as TorchScript (" + torch_error_line(e) +
         "); save the network with torch.jit.script(net).save(path) or torch.jit.trace";
}

}  // namespace

TorchScriptNet::TorchScriptNet(const std::string& file, const DataShape& shape) {
  try {
    script_ = torch::jit::load(file, torch::kCPU);
  } catch (const std::exception& e) {
    throw ConfigError(load_error(file, e));
  }
  if (!script_.find_method("forward"))
    throw ConfigError("model_file " + file + ": the TorchScript module has no forward method; "
                      "script the network itself (torch.jit.script(net)), whose forward lrtune calls");
  std::map<std::string, std::shared_ptr<torch::nn::Module>> made;
  for (const auto& p : script_.named_parameters(/*recurse=*/true)) {
    const auto [owner, leaf] = split_name(p.name);
    (owner.empty() ? *this : submodule(*this, owner, made)).register_parameter(leaf, p.value);
  }
  for (const auto& b : script_.named_buffers(/*recurse=*/true)) {
    const auto [owner, leaf] = split_name(b.name);
    (owner.empty() ? *this : submodule(*this, owner, made)).register_buffer(leaf, b.value);
  }
  // One batch of two images before any training: the shape a study relies on.
  const std::vector<std::int64_t> in = {2, shape.channels, shape.height, shape.width};
  const std::string expected = "[2, " + std::to_string(shape.classes) + "]";
  torch::NoGradGuard no_grad;
  script_.eval();
  torch::IValue out;
  try {
    out = script_.forward({torch::zeros(in)});
  } catch (const std::exception& e) {
    rethrow_determinism_refusal(e);
    throw ConfigError("model_file " + file + ": a batch of " + shape_text(in) + " (" +
                      shape.text() + ") fails in the network: " + torch_error_line(e));
  }
  if (!out.isTensor() || out.toTensor().sizes() != at::IntArrayRef{2, shape.classes})
    throw ConfigError("model_file " + file + ": for a batch of " + shape_text(in) + " the network returned " +
                      (out.isTensor() ? shape_text(out.toTensor().sizes()) : "a " + out.tagKind()) +
                      "; expected " + expected + " (batch, classes of the data set: " + shape.text() + ")");
  channels_last_ = accepts_channels_last(in);
  script_.train();
}

// Channels-last weights and batches make the CPU's convolutions faster
// (docs/performance.md), but a script that view()s its activations refuses
// them: it keeps the contiguous layout. Tried once, on the probe batch.
bool TorchScriptNet::accepts_channels_last(const std::vector<std::int64_t>& in) {
  torch::NoGradGuard no_grad;
  auto set_layout = [this](torch::MemoryFormat format) {
    for (auto& p : parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(format));
  };
  set_layout(torch::MemoryFormat::ChannelsLast);
  try {
    const torch::jit::GraphOptimizerEnabledGuard plain(false);
    script_.forward({channels_last_batch(torch::zeros(in))});
    return true;
  } catch (const std::exception&) {
    set_layout(torch::MemoryFormat::Contiguous);
    return false;
  }
}

torch::Tensor TorchScriptNet::forward(torch::Tensor x) {
  // Without the graph executor's optimizations: for training on the CPU its
  // differentiated graphs cost a third more time per step than running the
  // same operators with LibTorch's autograd (docs/performance.md).
  const torch::jit::GraphOptimizerEnabledGuard plain(false);
  const bool cl = channels_last_ && x.is_cpu();
  return script_.forward({cl ? channels_last_batch(x) : x.contiguous()}).toTensor();
}

void TorchScriptNet::train(bool on) {
  Network::train(on);
  script_.train(on);
}

std::string model_file_hash(const std::string& file) {
  struct stat st {};
  if (file.empty()) throw ConfigError("model_file: is needed by model torchscript (a file saved by torch.jit.save)");
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigError("model_file " + file + ": no such file");
  static std::mutex mu;
  static std::map<std::string, std::pair<std::string, std::string>> cache;  // path -> (stamp, hash)
  const std::string stamp = std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                            std::to_string(st.st_mtim.tv_nsec);
  std::lock_guard lock(mu);
  auto& slot = cache[file];
  if (slot.first == stamp) return slot.second;
  std::ifstream in(file, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) throw ConfigError("model_file " + file + ": cannot be read");
  slot = {stamp, hex16(fnv1a_words(kFingerprintBasis, bytes.data(), bytes.size()))};
  return slot.second;
}

std::vector<std::pair<std::string, std::string>> model_files(const nlohmann::json& config) {
  if (config.value("model", "") != "torchscript") return {};
  const std::string file = config.value("model_file", ""), hash = config.value("model_hash", "");
  if (file.empty() || hash.empty()) return {};
  if (model_file_hash(file) != hash)
    throw ConfigError("model_file " + file + ": changed while the study was being registered; run again");
  return {{hash, file}};
}

void use_kept_model_file(TrainConfig& cfg, const std::string& cache_dir,
                         const std::function<bool(const std::string&, const std::string&)>& fetch) {
  if (cfg.model != "torchscript") return;
  const std::string file = cfg.text("model_file"), hash = cfg.text("model_hash");
  auto holds = [&hash](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && model_file_hash(path) == hash;
  };
  if (holds(file)) return;
  const std::string kept = cache_dir + "/" + hash + ".pt";
  if (!holds(kept) && !(fetch && fetch(hash, kept) && holds(kept)))
    throw ConfigError("model_file " + file + ": this host has neither the file with the trial's content (hash " +
                      hash + ") nor a copy of it in the store");
  cfg.set("model_file", kept);
}

ModelKind torchscript_model() {
  KindDecl decl{"model", "torchscript",
                "your network from Python: model_file names a file saved by torch.jit.script(net).save(path) "
                "(or torch.jit.trace); input [batch, C, H, W] float, output [batch, classes]",
                {}, {}};
  KeySpec file{"model_file", KeyType::text, "", "",
               "torchscript: the TorchScript file (its content, not its path, is part of the trial's identity)"};
  file.identity = false;
  KeySpec hash{"model_hash", KeyType::text, "", "",
               "torchscript: model_file's content hash, filled in by lrtune: a changed file is a new trial"};
  hash.derive = [](const TrainConfig& cfg) -> nlohmann::json {
    const std::string f = cfg.text("model_file");
    return f.empty() || cfg.model != "torchscript" ? std::string() : model_file_hash(f);
  };
  decl.keys = {file, hash};
  decl.validate = [](const TrainConfig& cfg, const KeyCheck& check) {
    check.need(!cfg.text("model_file").empty(), "model_file",
               "is needed by model torchscript: a file saved by torch.jit.script(net).save(path)");
  };
  ModelKind kind{decl, [](const TrainConfig& cfg, const DataShape& shape) -> std::shared_ptr<Network> {
                   const std::string file = cfg.text("model_file");
                   const std::string want = cfg.text("model_hash"), have = model_file_hash(file);
                   if (want != have)
                     throw ConfigError("model_file " + file + ": its content changed since this trial was made "
                                       "(content hash " + want + ", now " + have + ")");
                   return std::make_shared<TorchScriptNet>(file, shape);
                 }};
  kind.channels_last = false;
  return kind;
}

}  // namespace lrtune
