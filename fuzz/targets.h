// Fuzz targets: one function per input format lrtune reads, each checking
// properties of the result. libFuzzer programs (fuzz/fuzz_main.cpp) and the
// regression test (tests/fuzz/) call them; a violated property aborts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lrtune::fuzz {

// Each returns 0; bad input must end in a typed lrtune error (caught here).
int fuzz_cifar10(const std::uint8_t* data, std::size_t size);     // read_cifar10_file
int fuzz_config(const std::uint8_t* data, std::size_t size);      // train --config FILE
int fuzz_study_file(const std::uint8_t* data, std::size_t size);  // read_study_file
// First byte: bit 0, the rest gets a valid CRC-32C trailer (so it reaches LibTorch's
// archive loader); bit 1, the rest chooses the entries of an archive built in memory.
int fuzz_checkpoint(const std::uint8_t* data, std::size_t size);  // load_checkpoint
int fuzz_store(const std::uint8_t* data, std::size_t size);       // results.sqlite as study status opens it
int fuzz_escape(const std::uint8_t* data, std::size_t size);      // report/escape.h

// Prints "fuzz check failed at FILE:LINE: WHAT" and aborts: a finding.
[[noreturn]] void fail(const std::string& what, const char* file, int line);

// The targets by name ("cifar10", ...), for the regression test.
using FuzzTarget = int (*)(const std::uint8_t*, std::size_t);
struct NamedTarget {
  const char* name;
  FuzzTarget run;
};
const std::vector<NamedTarget>& fuzz_targets();

}  // namespace lrtune::fuzz
