// A dict of tensors saved by Python, checked entry by entry.
#include "data/tensors.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <memory>
#include <new>

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/cifar10.h"  // fnv1a_words, hex16

namespace lrtune {
namespace {
namespace fs = std::filesystem;

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
  torch::Tensor t = it->value().toTensor();
  // Its elements must lie within the bytes the file gave it (a damaged file
  // can describe a view past its storage, or over none).
  std::int64_t last = t.storage_offset();
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0) last = -1;
    if (t.size(d) > 0 && last >= 0) last += (t.size(d) - 1) * t.stride(d);
  }
  const bool empty = t.numel() == 0;
  if (!empty && (last < 0 || !t.storage().data() ||
                 static_cast<std::uint64_t>(last + 1) * t.element_size() > t.storage().nbytes()))
    throw DataError(path + ": a damaged torch.save file (\"" + key + "\" of shape " + shape_text(t) +
                    " lies outside the data saved for it)");
  return t;
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

// torch.save writes a zip archive of uncompressed entries, and LibTorch
// allocates what an entry or the pickle in it declares before reading it: a
// damaged size would ask for gigabytes. The archive is checked first
// (libzip): declared sizes within the file, and every entry's CRC-32.
// LibTorch's refusal of the file, as one line naming it.
[[noreturn]] void not_torch_save(const std::string& path, const c10::Error& e) {
  const std::string what = e.what_without_backtrace();
  throw DataError(path + ": not a file written by torch.save (" + what.substr(0, what.find('\n')) + ")");
}

// The records LibTorch's own reader (miniz) sees, without their archive
// folder ("data.pkl", "data/0", ...), sorted.
std::vector<std::string> libtorch_records(const std::vector<char>& bytes) {
  std::istringstream in(std::string(bytes.data(), bytes.size()));
  caffe2::serialize::PyTorchStreamReader reader(&in);
  std::vector<std::string> names = reader.getAllRecords();
  std::sort(names.begin(), names.end());
  return names;
}

void check_archive(const std::vector<char>& bytes, const std::string& path) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive = source ? zip_open_from_source(source, ZIP_RDONLY, &error) : nullptr;
  if (!archive) {
    const std::string why = zip_error_strerror(&error);
    if (source) zip_source_free(source);
    zip_error_fini(&error);
    throw DataError(path + ": not a file written by torch.save (not a zip archive: " + why + ")");
  }
  zip_error_fini(&error);
  const std::unique_ptr<zip_t, void (*)(zip_t*)> closer(archive, zip_discard);
  std::vector<std::string> names;  // as libzip sees them, without their folder
  for (zip_int64_t i = 0, n = zip_get_num_entries(archive, 0); i < n; ++i) {
    const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    const std::string full = name ? name : "";
    names.push_back(full.substr(full.find('/') + 1));
  }
  std::sort(names.begin(), names.end());
  // Two readers, one table of contents: a file whose parts disagree (two
  // directories, say) is damaged, whichever of them LibTorch would trust.
  std::vector<std::string> theirs;
  try {
    theirs = libtorch_records(bytes);
  } catch (const c10::Error& e) {
    not_torch_save(path, e);
  }
  if (names != theirs || std::find(names.begin(), names.end(), "data.pkl") == names.end())
    throw DataError(path + ": a damaged torch.save file (its table of contents is not one torch.save writes)");
  for (zip_int64_t i = 0, n = zip_get_num_entries(archive, 0); i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw DataError(path + ": a damaged torch.save file (entry " + std::to_string(i) + " cannot be read)");
    const std::string name = st.name ? st.name : "?";
    if (st.size > bytes.size())
      throw DataError(path + ": a damaged torch.save file (its entry " + name + " claims " +
                      std::to_string(st.size) + " bytes, more than the whole file)");
    // Read through once: libzip checks each entry's CRC-32 at its end.
    const std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> entry(
        zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0), zip_fclose);
    char buffer[1 << 16];
    zip_int64_t got = entry ? 0 : -1;
    while (entry && (got = zip_fread(entry.get(), buffer, sizeof buffer)) > 0) {
    }
    if (got < 0)
      throw DataError(path + ": a damaged torch.save file (its entry " + name + ": " +
                      zip_error_strerror(entry ? zip_file_get_error(entry.get()) : zip_get_error(archive)) +
                      ")");
  }
}

}  // namespace

ImageDataset load_tensors_bytes(const std::vector<char>& bytes, const std::string& path) {
  check_archive(bytes, path);
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    not_torch_save(path, e);
  } catch (const std::bad_alloc&) {
    throw DataError(path + ": a damaged torch.save file (it asks for more memory than there is)");
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
  data.fingerprint = hex16(fnv1a_words(kFingerprintBasis, reinterpret_cast<const unsigned char*>(bytes.data()),
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
           {},
           {},
           {{"augment", "flipcrop"}}},
          "data/dataset.pt",
          [](const TrainConfig&, const std::string& file) { return load_tensors_file(file); }};
}

}  // namespace lrtune
