// Reads CIFAR-10 binary batch files into uint8 tensors, checking every record.
#include "data/cifar10.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"

namespace lrtune {
namespace fs = std::filesystem;

LabelledImages read_cifar10_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw DataError(path + ": file not found (expected a CIFAR-10 binary batch file)");
  const auto bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  if (bytes == 0 || bytes % kRecordBytes != 0)
    throw DataError(path + ": size " + std::to_string(bytes) + " bytes is not a whole number of " +
                    std::to_string(kRecordBytes) + "-byte records (the official files are " +
                    "30,730,000 bytes); the file is truncated or not CIFAR-10 binary");
  const std::int64_t n = bytes / kRecordBytes;
  std::vector<unsigned char> raw(static_cast<size_t>(bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(raw.data()), bytes))
    throw DataError(path + ": read failed after " + std::to_string(in.gcount()) + " bytes");

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

Cifar10 load_cifar10(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": no such folder. Put the CIFAR-10 binary version there " +
                    "(data_batch_1.bin .. data_batch_5.bin, test_batch.bin), run " +
                    "`lrtune data download`, or pass --data DIR / set LRTUNE_DATA");
  std::vector<torch::Tensor> images, labels;
  for (int k = 1; k <= 5; ++k) {
    auto part = read_cifar10_file((fs::path(dir) / ("data_batch_" + std::to_string(k) + ".bin")).string());
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  Cifar10 data;
  data.train = {torch::cat(images), torch::cat(labels)};
  data.test = read_cifar10_file((fs::path(dir) / "test_batch.bin").string());
  return data;
}

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("LRTUNE_DATA"); env && *env) return env;
  return "data/cifar-10-batches-bin";
}

}  // namespace lrtune
