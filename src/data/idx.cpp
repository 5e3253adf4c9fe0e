// IDX files (big-endian header, then unsigned bytes), gzipped or not, read
// with zlib (whose gzread passes plain files through unchanged).
#include "data/idx.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/format.h"
#include "data/datasets.h"
#include "data/cifar10.h"  // fnv1a_words

namespace lrtune {
namespace {
namespace fs = std::filesystem;

struct IdxFile {
  std::string path;                 // as read (NAME or NAME.gz)
  std::vector<std::int64_t> dims;   // from the header
  std::vector<unsigned char> bytes;  // everything after the header
};

// NAME.gz when it is there, else NAME; DataError naming both when neither is.
std::string find_file(const std::string& folder, const std::string& name) {
  const fs::path plain = fs::path(folder) / name, gz = fs::path(folder) / (name + ".gz");
  std::error_code ec;
  if (fs::is_regular_file(gz, ec)) return gz.string();
  if (fs::is_regular_file(plain, ec)) return plain.string();
  throw DataError(plain.string() + " (or " + gz.filename().string() + "): not found; the folder " +
                  "needs the four IDX files of MNIST or Fashion-MNIST");
}

std::vector<unsigned char> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError(path + ": cannot open");
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string what = err != Z_OK && err != Z_STREAM_END ? msg : "";
  gzclose(f);
  if (!what.empty()) throw DataError(path + ": cannot read (" + what + "): a damaged gzip file?");
  return out;
}

IdxFile read_idx(const std::string& path, int want_dims) {
  IdxFile f{path, {}, read_all(path)};
  const auto& b = f.bytes;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != want_dims) {
    char magic[16] = "(none)";
    if (b.size() >= 4) std::snprintf(magic, sizeof magic, "0x%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
    throw DataError(path + ": not an IDX file of unsigned bytes with " + std::to_string(want_dims) +
                    " dimension(s) (magic number " + magic + ", expected 0x000008" +
                    (want_dims == 3 ? "03" : "01") + ")");
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(want_dims);
  if (b.size() < header) throw DataError(path + ": cut short inside its header");
  // The product of the dimensions, in floating point: three 32-bit sizes can
  // overflow 64-bit integers, and any product past the file's size is refused.
  double expected = 1;
  std::string promised;
  for (int d = 0; d < want_dims; ++d) {
    const unsigned char* p = b.data() + 4 + 4 * d;
    f.dims.push_back((std::int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
    expected *= static_cast<double>(f.dims.back());
    promised += (d ? " x " : "") + std::to_string(f.dims.back());
  }
  const auto held = static_cast<std::int64_t>(b.size() - header);
  if (static_cast<double>(held) != expected)
    throw DataError(path + ": its header promises " + promised +
                    (expected < 1e15 ? " = " + format_count(expected) : std::string()) +
                    " bytes of data, the file holds " + format_count(static_cast<double>(held)) +
                    (static_cast<double>(held) < expected ? " (cut short?)" : ""));
  f.bytes.erase(f.bytes.begin(), f.bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return f;
}

std::uint64_t fingerprint(std::uint64_t hash, const std::string& name, const std::vector<unsigned char>& b) {
  hash = fnv1a_words(hash, reinterpret_cast<const unsigned char*>(name.data()), name.size());
  const std::uint64_t size = b.size();
  hash = fnv1a_words(hash, reinterpret_cast<const unsigned char*>(&size), sizeof size);
  return fnv1a_words(hash, b.data(), b.size());
}

// One part (train or t10k): its images and labels, checked against each other.
LabelledImages read_part(const std::string& folder, const std::string& part, std::int64_t classes,
                         std::uint64_t& hash) {
  const IdxFile images = read_idx(find_file(folder, part + "-images-idx3-ubyte"), 3);
  const IdxFile labels = read_idx(find_file(folder, part + "-labels-idx1-ubyte"), 1);
  if (images.dims[0] == 0) throw DataError(images.path + ": holds no images");
  if (images.dims[1] < 1 || images.dims[2] < 1 || images.dims[1] > 16384 || images.dims[2] > 16384)
    throw DataError(images.path + ": images of " + std::to_string(images.dims[1]) + " x " +
                    std::to_string(images.dims[2]) + " pixels; 1 to 16,384 each way are read");
  if (images.dims[0] != labels.dims[0])
    throw DataError(images.path + " holds " + std::to_string(images.dims[0]) + " images, but " +
                    labels.path + " " + std::to_string(labels.dims[0]) + " labels");
  for (std::size_t i = 0; i < labels.bytes.size(); ++i)
    if (labels.bytes[i] >= classes)
      throw DataError(labels.path + ": label " + std::to_string(labels.bytes[i]) + " of image " +
                      std::to_string(i) + " is not below the " + std::to_string(classes) + " classes");
  hash = fingerprint(fingerprint(hash, fs::path(images.path).stem().string(), images.bytes),
                     fs::path(labels.path).stem().string(), labels.bytes);
  const std::int64_t n = images.dims[0];
  LabelledImages out;
  out.images = torch::from_blob(const_cast<unsigned char*>(images.bytes.data()),
                                {n, 1, images.dims[1], images.dims[2]}, torch::kUInt8)
                   .clone();
  out.labels = torch::from_blob(const_cast<unsigned char*>(labels.bytes.data()), {n}, torch::kUInt8)
                   .to(torch::kInt64);
  return out;
}

}  // namespace

ImageDataset load_idx_folder(const std::string& folder, const std::vector<std::string>& class_names) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw DataError(folder + ": no such folder; it should hold the four IDX files "
                    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz); pass --data DIR");
  ImageDataset data;
  data.class_names = class_names;
  const auto classes = static_cast<std::int64_t>(class_names.size());
  std::uint64_t hash = kFingerprintBasis;
  data.train = read_part(folder, "train", classes, hash);
  data.test = read_part(folder, "t10k", classes, hash);
  if (data.train.images.size(2) != data.test.images.size(2) ||
      data.train.images.size(3) != data.test.images.size(3))
    throw DataError(folder + ": the training images and the test images differ in size");
  data.fingerprint = hex16(hash);
  return data;
}

namespace {

// An IDX data set kind: the four files of a folder, with its class names.
DatasetKind idx_kind(const char* name, const char* help, const char* augment, const char* folder,
                     std::vector<std::string> classes) {
  return {{"dataset", name, help, {}, {}, {{"augment", augment}}},
          folder,
          [classes = std::move(classes)](const TrainConfig&, const std::string& dir) {
            return load_idx_folder(dir, classes);
          }};
}

}  // namespace

DatasetKind mnist_dataset() {
  return idx_kind("mnist",
                  "MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28, "
                  "10 classes (the four IDX files, gzipped or not); augments by cropping "
                  "alone: a mirrored digit is not the same digit",
                  "crop", "data/mnist", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
}

DatasetKind fashion_mnist_dataset() {
  return idx_kind("fashion_mnist",
                  "Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothes, "
                  "1x28x28, 10 classes (the four IDX files; Debian's dataset-fashion-mnist)",
                  "flipcrop", "/usr/share/datasets/fashion-mnist",
                  {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"});
}

}  // namespace lrtune
