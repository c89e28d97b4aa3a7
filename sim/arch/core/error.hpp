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

class ScheduleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  static constexpr int exit_code = 3;
};

}  // namespace lpusim
