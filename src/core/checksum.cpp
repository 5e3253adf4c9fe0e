// CRC-32C through Boost.CRC's table-driven template (header-only).
#include "core/checksum.h"

#include <boost/crc.hpp>

namespace lrtune {

std::uint32_t crc32c(const void* data, std::size_t n) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, n);
  return crc.checksum();
}

std::uint32_t mask_crc32c(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace lrtune
