// Decoding with the libraries torchvision.io uses: libpng and libjpeg-turbo.
#include "data/image_decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>
#include <memory>

#include <torch/torch.h>

#include "core/errors.h"

namespace lrtune {
namespace {

bool is_png(const std::vector<unsigned char>& b) {
  return b.size() >= 8 && png_sig_cmp(b.data(), 0, 8) == 0;
}
bool is_jpeg(const std::vector<unsigned char>& b) { return b.size() >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff; }

[[noreturn]] void not_an_image(const std::string& name) {
  throw DataError(name + ": neither a PNG nor a JPEG file (by its first bytes)");
}

using Jpeg = std::unique_ptr<void, int (*)(tjhandle)>;

struct JpegHeader {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
};

JpegHeader jpeg_header(tjhandle h, const std::vector<unsigned char>& b, const std::string& name) {
  JpegHeader j;
  if (tjDecompressHeader3(h, b.data(), static_cast<unsigned long>(b.size()), &j.width, &j.height,
                          &j.subsampling, &j.colorspace) != 0)
    throw DataError(name + ": a damaged JPEG file (" + tjGetErrorStr2(h) + ")");
  return j;
}

// A PNG's header read; its libpng state is freed with it, on every path.
struct PngRead {
  png_image img;
  PngRead(const std::vector<unsigned char>& b, const std::string& name) {
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, b.data(), b.size())) {
      const std::string why = img.message;
      png_image_free(&img);  // no destructor runs for a constructor that throws
      throw DataError(name + ": a damaged PNG file (" + why + ")");
    }
  }
  ~PngRead() { png_image_free(&img); }
  PngRead(const PngRead&) = delete;
  PngRead& operator=(const PngRead&) = delete;
};

// 8,192 x 8,192 (a 67-megapixel photo; 201 MB decoded in colour): more is a
// damaged header, or an image to shrink before training on it.
constexpr std::int64_t kMaxPixels = 1LL << 26;

void check_size(std::int64_t w, std::int64_t h, const std::string& name) {
  if (w <= 0 || h <= 0 || w * h > kMaxPixels)
    throw DataError(name + ": " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels; images of up to 67,108,864 pixels (8,192x8,192) are read");
}

}  // namespace

torch::Tensor decode_image(const std::vector<unsigned char>& bytes, int channels, const std::string& name) {
  torch::Tensor hwc;
  if (is_png(bytes)) {
    PngRead png(bytes, name);
    png_image& img = png.img;
    check_size(img.width, img.height, name);
    if (channels == 0) channels = img.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    hwc = torch::empty({img.height, img.width, channels}, torch::kUInt8);
    if (!png_image_finish_read(&img, nullptr, hwc.data_ptr<std::uint8_t>(), 0, nullptr))
      throw DataError(name + ": a damaged PNG file (" + img.message + ")");
  } else if (is_jpeg(bytes)) {
    Jpeg h(tjInitDecompress(), tjDestroy);
    const JpegHeader j = jpeg_header(h.get(), bytes, name);
    check_size(j.width, j.height, name);
    if (channels == 0) channels = j.colorspace == TJCS_GRAY ? 1 : 3;
    hwc = torch::empty({j.height, j.width, channels}, torch::kUInt8);
    if (tjDecompress2(h.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                      hwc.data_ptr<std::uint8_t>(), j.width, 0, j.height,
                      channels == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_ACCURATEDCT) != 0) {
      // A warning (a few stray bytes) leaves a whole image; a cut-short file does not.
      const std::string why = tjGetErrorStr2(h.get());
      if (tjGetErrorCode(h.get()) == TJERR_FATAL || why.find("Premature end") != std::string::npos)
        throw DataError(name + ": a damaged JPEG file (" + why + ")");
    }
  } else {
    not_an_image(name);
  }
  return hwc.permute({2, 0, 1}).contiguous();
}

torch::Tensor resize_image(const torch::Tensor& image, std::int64_t size) {
  if (image.size(1) == size && image.size(2) == size) return image;
  namespace F = torch::nn::functional;
  const auto resized = F::interpolate(
      image.unsqueeze(0).to(torch::kFloat32),
      F::InterpolateFuncOptions()
          .size(std::vector<std::int64_t>{size, size})
          .mode(torch::kBilinear)
          .align_corners(false)
          .antialias(true));
  return resized.squeeze(0).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace lrtune
