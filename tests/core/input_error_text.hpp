#pragma once
// The message of the InputError a call throws, or "(no error)": for tests that assert what a
// user is told (CHECK_THAT(input_error_text([&] { ... }), Contains("...")).
#include <functional>
#include <string>

#include "arch/core/error.hpp"

namespace lpusim::testing {

inline std::string input_error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace lpusim::testing
