// Fuzz targets: one function per input format lrtune reads, each checking
// properties of the result. libFuzzer programs (fuzz/fuzz_main.cpp) and the
// regression test (tests/fuzz/) call them; a violated property aborts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
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
int fuzz_store_url(const std::uint8_t* data, std::size_t size);   // core/url.h: parse and redact
// First 16 bytes: --start-lr and --end-lr (doubles); the rest: a --compare list.
int fuzz_lr_find(const std::uint8_t* data, std::size_t size);     // lr-find's checks

// The data set readers (fuzz/data_targets.cpp). IDX: the first byte splits
// the rest into an images file and a labels file (gzipped when they start so),
// read as both parts of a data set. Image: the bytes as one image file of an
// image folder, decoded and resized. Tensors: the bytes as a file torch.save wrote.
int fuzz_idx(const std::uint8_t* data, std::size_t size);           // load_idx_folder
int fuzz_image_folder(const std::uint8_t* data, std::size_t size);  // decode_image, resize_image
int fuzz_tensors(const std::uint8_t* data, std::size_t size);       // load_tensors_bytes

// `bytes` as the file `name` in a folder of this process (removed at exit).
std::string write_input(const std::string& name, const std::string& bytes);
// Runs `read`: a typed lrtune error is a fine answer to bad input, anything
// else escaping is a finding (the user would see no one-line message).
void expect_typed_errors(const char* target, const std::function<void()>& read);

// Prints "fuzz check failed at FILE:LINE: WHAT" and aborts: a finding.
[[noreturn]] void fail(const std::string& what, const char* file, int line);
// Aborts, naming the condition and `what`, when `cond` is false.
#define FUZZ_CHECK(cond, what) \
  ((cond) ? (void)0 : ::lrtune::fuzz::fail(std::string(#cond) + ": " + (what), __FILE__, __LINE__))
// `s` readable in a message: printable ASCII kept, other bytes as \xNN.
std::string shown(const std::string& s);

// The targets by name ("cifar10", ...), for the regression test.
using FuzzTarget = int (*)(const std::uint8_t*, std::size_t);
struct NamedTarget {
  const char* name;
  FuzzTarget run;
};
const std::vector<NamedTarget>& fuzz_targets();

}  // namespace lrtune::fuzz
