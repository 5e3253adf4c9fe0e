// PNG and JPEG decoding (libpng's simplified API, libjpeg-turbo's TurboJPEG),
// the two formats of the image_folder kind, from bytes in memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace lrtune {

// The image as uint8 [channels, H, W]: channels 1 or 3 converts (colour is
// made grey or grey colour; PNG alpha is composited onto black), 0 keeps the
// file's own (1 grey, 3 colour; PNG alpha not counted). DataError naming
// `name` when the bytes are neither a PNG nor a JPEG, or cannot be decoded.
torch::Tensor decode_image(const std::vector<unsigned char>& bytes, int channels, const std::string& name);

// `image` (uint8 [C, H, W]) resized to size x size: bilinear with
// antialiasing, as torchvision's Resize((size, size)) of a tensor; unchanged
// when it already is that size.
torch::Tensor resize_image(const torch::Tensor& image, std::int64_t size);

}  // namespace lrtune
