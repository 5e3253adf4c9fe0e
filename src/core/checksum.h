// CRC-32C (Castagnoli), the checksum of TensorBoard's event files (TFRecord
// framing) and of checkpoint files, and TFRecord's masked form of it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lrtune {

// CRC-32C of n bytes: reflected, polynomial 0x1EDC6F41, initial value and
// final xor 0xFFFFFFFF ("123456789" gives 0xE3069283).
std::uint32_t crc32c(const void* data, std::size_t n);

// TFRecord stores CRCs masked, so that a CRC of bytes that hold CRCs stays
// well distributed: rotate right by 15 bits, add 0xa282ead8.
std::uint32_t mask_crc32c(std::uint32_t crc);
inline std::uint32_t masked_crc32c(const void* data, std::size_t n) {
  return mask_crc32c(crc32c(data, n));
}

}  // namespace lrtune
