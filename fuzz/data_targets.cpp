// Fuzz targets of the data set readers: IDX files, image files, tensors files.
#include <filesystem>

#include <torch/torch.h>

#include "data/idx.h"
#include "data/image_decode.h"
#include "data/tensors.h"
#include "targets.h"

namespace lrtune::fuzz {
namespace fs = std::filesystem;

int fuzz_idx(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t split = std::min<std::size_t>(size - 1, std::size_t{data[0]} * 4);
  const std::string images(reinterpret_cast<const char*>(data) + 1, split);
  const std::string labels(reinterpret_cast<const char*>(data) + 1 + split, size - 1 - split);
  const fs::path folder = fs::path(write_input("train-images-idx3-ubyte", images)).parent_path();
  write_input("train-labels-idx1-ubyte", labels);
  write_input("t10k-images-idx3-ubyte", images);
  write_input("t10k-labels-idx1-ubyte", labels);
  expect_typed_errors("idx", [&] {
    const ImageDataset d = load_idx_folder(folder.string(), {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
    const std::int64_t n = d.train.size();
    FUZZ_CHECK(d.train.images.dim() == 4 && d.train.images.size(0) == n && d.train.images.size(1) == 1,
               "images shape");
    FUZZ_CHECK(d.train.images.dtype() == torch::kUInt8, "images dtype");
    FUZZ_CHECK(torch::equal(d.train.images, d.test.images), "the same file read twice differs");
    FUZZ_CHECK(n == 0 || (d.train.labels.min().item<std::int64_t>() >= 0 &&
                          d.train.labels.max().item<std::int64_t>() < 10),
               "a label outside 0..9");
    FUZZ_CHECK(d.fingerprint.size() == 16, "fingerprint");
  });
  return 0;
}

int fuzz_image_folder(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  expect_typed_errors("image_folder", [&] {
    const int channels = static_cast<int>(decode_image(bytes, 0, "x.png").size(0));
    FUZZ_CHECK(channels == 1 || channels == 3, "channels " + std::to_string(channels));
    for (const int want : {1, 3}) {
      const torch::Tensor image = decode_image(bytes, want, "x.png");
      FUZZ_CHECK(image.dim() == 3 && image.size(0) == want && image.size(1) > 0 && image.size(2) > 0,
                 "decoded shape");
      FUZZ_CHECK(image.dtype() == torch::kUInt8 && image.is_contiguous(), "decoded dtype");
      if (image.numel() <= 1 << 20) {  // resizing huge images only costs time
        const torch::Tensor small = resize_image(image, 8);
        FUZZ_CHECK(small.sizes() == torch::IntArrayRef({want, 8, 8}), "resized shape");
      }
    }
  });
  return 0;
}

int fuzz_tensors(const std::uint8_t* data, std::size_t size) {
  const std::vector<char> bytes(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
  expect_typed_errors("tensors", [&] {
    const ImageDataset d = load_tensors_bytes(bytes, "dataset.pt");
    const auto classes = static_cast<std::int64_t>(d.class_names.size());
    FUZZ_CHECK(classes > 0, "no classes");
    for (const LabelledImages* part : {&d.train, &d.test}) {
      FUZZ_CHECK(part->images.dim() == 4 && part->images.dtype() == torch::kUInt8, "images");
      FUZZ_CHECK(part->images.size(1) == 1 || part->images.size(1) == 3, "channels");
      FUZZ_CHECK(part->labels.dim() == 1 && part->labels.size(0) == part->images.size(0), "label count");
      FUZZ_CHECK(part->size() == 0 || (part->labels.min().item<std::int64_t>() >= 0 &&
                                       part->labels.max().item<std::int64_t>() < classes),
                 "a label outside the classes");
    }
    FUZZ_CHECK(d.train.images.sizes().slice(1) == d.test.images.sizes().slice(1), "train and test shapes");
  });
  return 0;
}

}  // namespace lrtune::fuzz
