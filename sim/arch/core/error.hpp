#pragma once
// Errors that reach the user. Each carries the process exit code the CLI returns:
// 2 for bad input (a file, key or flag the user handed in), 3 for a program whose
// static schedule is wrong (a hazard or a deadlock found while simulating).
#include <stdexcept>
#include <string>

namespace lpusim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  static constexpr int exit_code = 2;
};

/// A compiled schedule would send a C2C port more vectors than its buffer holds (the
/// lowering's account: docs/multichip.md, "Port buffers"). An input error like any other,
/// told apart so that `estimate` can retry a prompt in smaller chunks.
class PortBufferOverflow : public InputError {
 public:
  using InputError::InputError;
};

class ScheduleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  static constexpr int exit_code = 3;
};

}  // namespace lpusim
