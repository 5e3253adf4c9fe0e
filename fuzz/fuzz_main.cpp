// libFuzzer's entry point for one target of fuzz/targets.h, chosen at build
// time (fuzz/CMakeLists.txt defines LRTUNE_FUZZ_TARGET as fuzz_<name>).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lrtune::fuzz::LRTUNE_FUZZ_TARGET(data, size);
}
