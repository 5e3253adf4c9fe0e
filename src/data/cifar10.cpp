// Reads CIFAR-10 binary batch files into uint8 tensors, checking every record,
// and fingerprints them while their bytes are in memory.
#include "data/cifar10.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "core/format.h"

namespace lrtune {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

LabelledImages decode(const std::vector<unsigned char>& raw, const std::string& path) {
  // CIFAR-100's reader (data/cifar100.cpp) decodes its own two-label records.
  const auto n = static_cast<std::int64_t>(raw.size()) / kRecordBytes;
  auto images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  auto labels = torch::empty({n}, torch::kInt64);
  auto* img = images.data_ptr<std::uint8_t>();
  auto* lab = labels.data_ptr<std::int64_t>();
  constexpr std::int64_t kPixels = kRecordBytes - 1;
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* rec = raw.data() + i * kRecordBytes;
    if (rec[0] > 9)
      throw DataError(path + ": record " + std::to_string(i) + " has label " +
                      std::to_string(rec[0]) + " (labels are 0..9)");
    lab[i] = rec[0];
    std::copy(rec + 1, rec + 1 + kPixels, img + i * kPixels);
  }
  return {images, labels};
}


}  // namespace

std::vector<unsigned char> read_record_file(const std::string& path, std::int64_t record_bytes,
                                            const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw DataError(path + ": is a folder; " + what + " of that name belongs there (did an " +
                    "archive unpack one level too deep?)");
  if (!fs::is_regular_file(path, ec)) throw DataError(path + ": file not found (expected " + what + ")");
  const auto bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  if (bytes == 0 || bytes % record_bytes != 0)
    throw DataError(path + ": size " + std::to_string(bytes) + " bytes is not a whole number of " +
                    std::to_string(record_bytes) + "-byte records; the file is truncated or not " + what);
  std::vector<unsigned char> raw(static_cast<size_t>(bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(raw.data()), bytes))
    throw DataError(path + ": read failed after " + std::to_string(in.gcount()) + " bytes");
  return raw;
}

std::uint64_t fingerprint_file(std::uint64_t hash, const std::string& name,
                               const std::vector<unsigned char>& raw) {
  const std::string head = name + ":" + std::to_string(raw.size()) + ";";
  hash = fnv1a_words(hash, reinterpret_cast<const unsigned char*>(head.data()), head.size());
  return fnv1a_words(hash, raw.data(), raw.size());
}

std::string hex16(std::uint64_t hash) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::uint64_t fnv1a_words(std::uint64_t hash, const unsigned char* bytes, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word = 0;
    for (int k = 7; k >= 0; --k) word = (word << 8) | bytes[i + static_cast<std::size_t>(k)];
    hash = (hash ^ word) * kFnvPrime;
  }
  if (i < n) {
    std::uint64_t word = 0;
    for (std::size_t k = n; k-- > i;) word = (word << 8) | bytes[k];
    hash = (hash ^ word) * kFnvPrime;
  }
  return hash;
}

static std::vector<unsigned char> read_records(const std::string& path) {
  return read_record_file(path, kRecordBytes, "a CIFAR-10 binary batch file");
}

LabelledImages read_cifar10_file(const std::string& path) { return decode(read_records(path), path); }

const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird", "cat", "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

ImageDataset load_cifar10(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": no such folder. Put the CIFAR-10 binary version there " +
                    "(data_batch_1.bin .. data_batch_5.bin, test_batch.bin), run " +
                    "`lrtune data download`, or pass --data DIR / set LRTUNE_DATA");
  std::vector<torch::Tensor> images, labels;
  std::uint64_t hash = kFingerprintBasis;
  ImageDataset data;
  data.kind = "cifar10";
  data.class_names = cifar10_classes();
  for (int k = 1; k <= 6; ++k) {
    const std::string name = k <= 5 ? "data_batch_" + std::to_string(k) + ".bin" : "test_batch.bin";
    const std::string path = (fs::path(dir) / name).string();
    const std::vector<unsigned char> raw = read_records(path);
    hash = fingerprint_file(hash, name, raw);
    LabelledImages part = decode(raw, path);
    if (part.size() != kOfficialImagesPerFile)
      data.warnings.push_back(path + ": " + format_count(static_cast<double>(part.size())) +
                              " images; the official CIFAR-10 files hold " +
                              format_count(static_cast<double>(kOfficialImagesPerFile)) +
                              " each (a truncated copy, or a subset made on purpose?)");
    if (k == 6) {
      data.test = std::move(part);
      break;
    }
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  data.train = {torch::cat(images), torch::cat(labels)};
  data.fingerprint = hex16(hash);
  return data;
}

DatasetKind cifar10_dataset() {
  return {{"dataset", "cifar10",
           "CIFAR-10, binary version: 50,000 training and 10,000 test images, 3x32x32, "
           "10 classes (data_batch_1..5.bin, test_batch.bin)",
           {},
           {},
           {{"augment", "flipcrop"}}},
          "data/cifar-10-batches-bin",
          [](const TrainConfig&, const std::string& folder) { return load_cifar10(folder); }};
}

}  // namespace lrtune
