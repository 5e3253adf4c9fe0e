// What produced a result: lrtune version, git commit, LibTorch version, and
// which copy of the data (a run's provenance, and the check across a study).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lrtune {

std::string lrtune_version();  // "0.2.0": the project version in CMakeLists.txt
std::string git_commit();      // short hash at build time (+"-dirty"), or "unknown"
std::string torch_version();   // e.g. "1.13.1"
std::string version_line();    // one line with all three

// What a run records about itself: the three versions, device, thread count,
// seed and host.
nlohmann::json run_provenance(const std::string& device, int threads, std::int64_t seed);

// The provenance key of the data's fingerprint (data/cifar10.h: the same
// files give the same value under any path, on any machine).
inline constexpr const char* kDataFingerprintKey = "data_fingerprint";

// The provenance keys of the data set's kind and shape ("fashion_mnist",
// "1x28x28, 10 classes"); trials recorded before them were all CIFAR-10.
inline constexpr const char* kDataSetKey = "dataset";
inline constexpr const char* kDataShapeKey = "data_shape";

// One warning line when the provenances (trials' info) record more than one
// data fingerprint for the same data set kind: their results came from
// different copies of it and may not compare. "" when they agree, or record
// none. (A study over several kinds has one fingerprint per kind.)
std::string mixed_data_warning(const std::vector<nlohmann::json>& provenances);

// The data sets the provenances record, for reports: "fashion_mnist
// (1x28x28, 10 classes)", or with several "cifar10 (3x32x32, 10 classes): 3
// trials; fashion_mnist (...): 3 trials". "" when none records one.
std::string data_sets_line(const std::vector<nlohmann::json>& provenances);

}  // namespace lrtune
