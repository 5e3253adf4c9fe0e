// Fetching the official CIFAR-10 binary archive (for users with internet).
#pragma once
#include <string>

namespace lrtune {

inline constexpr const char* kCifarUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
inline constexpr const char* kCifarMd5 = "c32a1d4ab5d03f1284b67883e8d87530";

// Downloads the archive next to `data_dir` (its parent folder), checks its MD5
// and unpacks it so that `data_dir` holds the batch files. `data_dir` must end
// in cifar-10-batches-bin, the folder name inside the archive. Throws
// DataError with what to do by hand when a step fails (no network, bad sum).
void download_cifar10(const std::string& data_dir, bool quiet);

}  // namespace lrtune
