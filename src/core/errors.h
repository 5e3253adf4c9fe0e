// Typed errors thrown by the library; only main() catches them, prints one line
// and exits non-zero. Messages name the file/key and say what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace lrtune {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A bad configuration value, study file or command-line flag.
struct ConfigError : Error {
  using Error::Error;
};
// Missing, truncated or malformed CIFAR-10 data.
struct DataError : Error {
  using Error::Error;
};
// A problem with a run directory, checkpoint or results database.
struct StoreError : Error {
  using Error::Error;
};

}  // namespace lrtune
