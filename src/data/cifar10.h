// Reader for the CIFAR-10 binary version: the whole data set in memory as
// uint8 (an ImageDataset of kind "cifar10"), with a fingerprint of the files
// it came from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"

namespace lrtune {

struct DatasetKind;  // data/datasets.h

// The ten classes, in label order.
const std::vector<std::string>& cifar10_classes();

constexpr std::int64_t kOfficialImagesPerFile = 10000;

constexpr std::int64_t kRecordBytes = 1 + 3 * 32 * 32;

// Reads one binary batch file; throws DataError naming the file on a missing
// file, a size that is not whole records, or a label above 9.
LabelledImages read_cifar10_file(const std::string& path);

// Reads data_batch_1..5.bin (the training part) and test_batch.bin from
// `dir`, and fingerprints them. A file whose image count differs from the
// official 10,000 is read, with a warning line naming it.
ImageDataset load_cifar10(const std::string& dir);

// A file of fixed-size records, whole, for the CIFAR readers: DataError
// naming it (and `what` it should be) when it is missing, a folder, empty or
// not a whole number of records.
std::vector<unsigned char> read_record_file(const std::string& path, std::int64_t record_bytes,
                                            const std::string& what);

// Data set fingerprints: FNV-1a (64 bits) from this basis over the files,
// shown as 16 hex digits.
inline constexpr std::uint64_t kFingerprintBasis = 0xcbf29ce484222325ULL;
std::string hex16(std::uint64_t hash);
// `hash` continued over one file: its name (not its folder), size and bytes.
std::uint64_t fingerprint_file(std::uint64_t hash, const std::string& name,
                               const std::vector<unsigned char>& raw);

// FNV-1a (64 bits) continued from `hash` over `n` bytes, taken as
// little-endian 8-byte words (the tail zero-padded): 8x fewer multiplies
// than byte by byte, so the 184 MB of CIFAR-10 hash in a few tens of ms.
std::uint64_t fnv1a_words(std::uint64_t hash, const unsigned char* bytes, std::size_t n);

// The `cifar10` data set kind: its keys and how it reads its folder.
DatasetKind cifar10_dataset();

}  // namespace lrtune
