// Reader for the CIFAR-10 binary version: the whole data set in memory as
// uint8, with a fingerprint of the files it came from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace lrtune {

// Images are uint8 [N, 3, 32, 32] (channel planes, row-major); labels int64 [N].
struct LabelledImages {
  torch::Tensor images;
  torch::Tensor labels;
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Cifar10 {
  LabelledImages train;  // data_batch_1..5.bin (50,000 images officially)
  LabelledImages test;   // test_batch.bin (10,000 images)
  // 16 hex digits: a hash (FNV-1a, 64 bits, over 8-byte words) of the six
  // files' names, sizes and bytes. The same files give the same value under
  // any folder on any machine; another copy (re-encoded, reordered) another.
  // Kept in each run's provenance, not in a trial's identity.
  std::string fingerprint;
  // One line per file whose image count differs from the official 10,000
  // ("DIR/data_batch_3.bin: 9,999 images; ..."): read, but worth a warning.
  std::vector<std::string> warnings;
};

constexpr std::int64_t kOfficialImagesPerFile = 10000;

constexpr std::int64_t kRecordBytes = 1 + 3 * 32 * 32;

// Reads one binary batch file; throws DataError naming the file on a missing
// file, a size that is not whole records, or a label above 9.
LabelledImages read_cifar10_file(const std::string& path);

// Reads data_batch_1..5.bin and test_batch.bin from `dir`, and fingerprints them.
Cifar10 load_cifar10(const std::string& dir);

// FNV-1a (64 bits) continued from `hash` over `n` bytes, taken as
// little-endian 8-byte words (the tail zero-padded): 8x fewer multiplies
// than byte by byte, so the 184 MB of CIFAR-10 hash in a few tens of ms.
std::uint64_t fnv1a_words(std::uint64_t hash, const unsigned char* bytes, std::size_t n);

// The data folder: `flag` if set, else $LRTUNE_DATA, else ./data/cifar-10-batches-bin.
std::string resolve_data_dir(const std::string& flag);

}  // namespace lrtune
