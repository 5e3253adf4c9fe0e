// CIFAR-100 binary records: <coarse label><fine label><3,072 pixels>.
#include "data/cifar100.h"

#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/cifar10.h"  // read_record_file, fingerprint_file, hex16

namespace lrtune {
namespace {
namespace fs = std::filesystem;

LabelledImages decode(const std::vector<unsigned char>& raw, const std::string& path, int label_byte,
                      std::int64_t classes) {
  const auto n = static_cast<std::int64_t>(raw.size()) / kCifar100RecordBytes;
  constexpr std::int64_t kPixels = kCifar100RecordBytes - 2;
  auto images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  auto labels = torch::empty({n}, torch::kInt64);
  auto* img = images.data_ptr<std::uint8_t>();
  auto* lab = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* rec = raw.data() + i * kCifar100RecordBytes;
    if (rec[label_byte] >= classes)
      throw DataError(path + ": record " + std::to_string(i) + " has " +
                      (label_byte == 0 ? "coarse" : "fine") + " label " +
                      std::to_string(rec[label_byte]) + " (labels are 0.." +
                      std::to_string(classes - 1) + ")");
    lab[i] = rec[label_byte];
    std::copy(rec + 2, rec + 2 + kPixels, img + i * kPixels);
  }
  return {images, labels};
}

// One name per line, from the archive; numbers and a warning when missing.
std::vector<std::string> class_names(const fs::path& file, std::int64_t classes,
                                     std::vector<std::string>& warnings) {
  std::vector<std::string> names;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (static_cast<std::int64_t>(names.size()) == classes) return names;
  warnings.push_back(file.string() + ": " +
                     (in.is_open() ? "holds " + std::to_string(names.size()) + " names, not " +
                               std::to_string(classes)
                         : std::string("not found")) +
                     "; the classes are named by their numbers");
  names.clear();
  for (std::int64_t c = 0; c < classes; ++c) names.push_back(std::to_string(c));
  return names;
}

}  // namespace

ImageDataset load_cifar100(const std::string& dir, const std::string& label) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": no such folder. Put the CIFAR-100 binary version there (train.bin, " +
                    "test.bin), run `lrtune data download --dataset cifar100`, or pass --data DIR");
  const bool coarse = label == "coarse";
  const std::int64_t classes = coarse ? 20 : 100;
  ImageDataset data;
  data.kind = "cifar100";
  data.class_names = class_names(fs::path(dir) / (coarse ? "coarse_label_names.txt" : "fine_label_names.txt"),
                                 classes, data.warnings);
  std::uint64_t hash = kFingerprintBasis;
  for (const std::string name : {"train.bin", "test.bin"}) {
    const std::string path = (fs::path(dir) / name).string();
    const std::vector<unsigned char> raw =
        read_record_file(path, kCifar100RecordBytes, "a CIFAR-100 binary file (3,074-byte records)");
    hash = fingerprint_file(hash, name, raw);
    (name == "train.bin" ? data.train : data.test) = decode(raw, path, coarse ? 0 : 1, classes);
  }
  data.fingerprint = hex16(hash);
  return data;
}

DatasetKind cifar100_dataset() {
  return {{"dataset", "cifar100",
           "CIFAR-100, binary version: 50,000 training and 10,000 test images, 3x32x32, "
           "100 classes or 20 superclasses (train.bin, test.bin)",
           {{"label", KeyType::text, "fine", "",
             "cifar100: fine (100 classes) or coarse (20 superclasses)", true,
             [](const nlohmann::json& v) -> std::optional<std::string> {
               if (v == "fine" || v == "coarse") return std::nullopt;
               return std::string("must be fine or coarse");
             }}},
           {},
           {{"augment", "flipcrop"}}},
          "data/cifar-100-binary",
          [](const TrainConfig& cfg, const std::string& folder) {
            return load_cifar100(folder, cfg.text("label"));
          }};
}

}  // namespace lrtune
