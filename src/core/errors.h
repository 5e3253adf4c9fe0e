// Typed errors thrown by the library. Messages name the file/key and say what
// was expected. Where a process ends (main(), and a study worker process) an
// error becomes one line and a non-zero exit. Below that a few callers catch
// on purpose: a study worker records a trial's error as the trial's failure
// and goes on, a heartbeat retries after a busy database, and `lrtune train`
// removes a run folder it has just made, then rethrows.
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
// A write that failed because the disk (or the user's quota) is full: what
// was done before it is kept, and the work can go on once there is room.
struct NoSpaceError : StoreError {
  using StoreError::StoreError;
};
// A results store out of reach for longer than its retry time (a database
// server down, a cut network link): the work stored so far is kept, and the
// work can go on once the store is back.
struct StoreUnavailableError : StoreError {
  using StoreError::StoreError;
};

}  // namespace lrtune
