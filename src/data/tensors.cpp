// A dict of tensors saved by Python, checked entry by entry.
#include "data/tensors.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/cifar10.h"  // fnv1a_words, hex16

namespace lrtune {
namespace {
namespace fs = std::filesystem;

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
const char* const kKeys = "train_images, train_labels, test_images, test_labels, classes";

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

// The entry `key` of the dict, which must be a tensor.
torch::Tensor tensor_entry(const c10::Dict<c10::IValue, c10::IValue>& dict, const std::string& key,
                           const std::string& path) {
  const auto it = dict.find(key);
  if (it == dict.end())
    throw DataError(path + ": has no \"" + key + "\" entry (a tensors file holds " + kKeys + ")");
  if (!it->value().isTensor())
    throw DataError(path + ": \"" + key + "\" is a " + it->value().tagKind() + ", not a tensor");
  return it->value().toTensor();
}

// uint8 images as [N, C, H, W], whichever of the accepted layouts they came in.
torch::Tensor images_nchw(torch::Tensor t, const std::string& key, const std::string& path) {
  if (t.scalar_type() != torch::kUInt8)
    throw DataError(path + ": \"" + key + "\" is of dtype " + std::string(c10::toString(t.scalar_type())) +
                    "; images must be uint8 (0..255): save images.to(torch.uint8), not normalised floats");
  if (t.dim() == 3) return t.unsqueeze(1).contiguous();
  if (t.dim() != 4)
    throw DataError(path + ": \"" + key + "\" has shape " + shape_text(t) +
                    "; images are [N, C, H, W], [N, H, W, C] or [N, H, W]");
  const auto is_channels = [](std::int64_t n) { return n == 1 || n == 3; };
  if (!is_channels(t.size(1)) && is_channels(t.size(3))) t = t.permute({0, 3, 1, 2});
  if (!is_channels(t.size(1)))
    throw DataError(path + ": \"" + key + "\" has shape " + shape_text(t) +
                    "; images need 1 or 3 channels, second ([N, C, H, W]) or last ([N, H, W, C])");
  return t.contiguous();
}

torch::Tensor labels_of(const torch::Tensor& t, std::int64_t n, std::int64_t classes,
                        const std::string& key, const std::string& path) {
  if (!c10::isIntegralType(t.scalar_type(), /*includeBool=*/false))
    throw DataError(path + ": \"" + key + "\" is of dtype " + std::string(c10::toString(t.scalar_type())) +
                    "; labels must be integers (class numbers)");
  if (t.dim() != 1 || t.size(0) != n)
    throw DataError(path + ": \"" + key + "\" has shape " + shape_text(t) + "; the images need [" +
                    std::to_string(n) + "] labels");
  torch::Tensor labels = t.to(torch::kInt64).contiguous();
  if (n == 0) return labels;
  const auto lo = labels.min().item<std::int64_t>(), hi = labels.max().item<std::int64_t>();
  if (lo < 0 || hi >= classes)
    throw DataError(path + ": \"" + key + "\" holds label " + std::to_string(lo < 0 ? lo : hi) +
                    ", not in 0.." + std::to_string(classes - 1) + " (\"classes\" names " +
                    std::to_string(classes) + ")");
  return labels;
}

std::vector<std::string> class_names(const c10::Dict<c10::IValue, c10::IValue>& dict,
                                     const std::string& path) {
  const auto it = dict.find(std::string("classes"));
  if (it == dict.end())
    throw DataError(path + ": has no \"classes\" entry (a tensors file holds " + kKeys + ")");
  std::vector<std::string> names;
  if (it->value().isList())
    for (const auto& v : it->value().toListRef())
      if (v.isString()) names.push_back(v.toStringRef());
  if (names.empty() || names.size() != it->value().toListRef().size())
    throw DataError(path + ": \"classes\" must be a non-empty list of strings (the class names, in label order)");
  return names;
}

LabelledImages part(const c10::Dict<c10::IValue, c10::IValue>& dict, const std::string& name,
                    std::int64_t classes, const std::string& path) {
  LabelledImages p;
  p.images = images_nchw(tensor_entry(dict, name + "_images", path), name + "_images", path);
  p.labels = labels_of(tensor_entry(dict, name + "_labels", path), p.images.size(0), classes,
                       name + "_labels", path);
  return p;
}

}  // namespace

ImageDataset load_tensors_bytes(const std::vector<char>& bytes, const std::string& path) {
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw DataError(path + ": not a file written by torch.save (" + what.substr(0, what.find('\n')) + ")");
  }
  if (!value.isGenericDict())
    throw DataError(path + ": holds a " + value.tagKind() + "; a tensors file holds a dict of " + kKeys);
  const auto dict = value.toGenericDict();
  ImageDataset data;
  data.kind = "tensors";
  data.class_names = class_names(dict, path);
  const auto classes = static_cast<std::int64_t>(data.class_names.size());
  data.train = part(dict, "train", classes, path);
  data.test = part(dict, "test", classes, path);
  if (data.train.size() == 0) throw DataError(path + ": \"train_images\" holds no images");
  if (data.train.images.sizes().slice(1) != data.test.images.sizes().slice(1))
    throw DataError(path + ": train images are " + shape_text(data.train.images) + " and test images " +
                    shape_text(data.test.images) + "; they need the same channels, height and width");
  data.fingerprint = hex16(fnv1a_words(kFnvOffset, reinterpret_cast<const unsigned char*>(bytes.data()),
                                       bytes.size()));
  return data;
}

ImageDataset load_tensors_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw DataError(path + ": is a folder; for dataset = \"tensors\", `data` names the file written by "
                    "torch.save (docs/datasets.md)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DataError(path + ": file not found (dataset = \"tensors\" reads the file `data` names, "
                    "written by torch.save)");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_tensors_bytes(bytes, path);
}

DatasetKind tensors_dataset() {
  return {{"dataset", "tensors",
                       "tensors saved by Python: `data` names a file written by torch.save({"
                       "\"train_images\": ..., \"train_labels\": ..., \"test_images\": ..., "
                       "\"test_labels\": ..., \"classes\": [...]}, path)",
                       {}, {}},
                      "data/dataset.pt",
                      [](const TrainConfig&, const std::string& file) { return load_tensors_file(file); }};
}

}  // namespace lrtune
