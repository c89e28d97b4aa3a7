#pragma once
// Running another program (python3 for the plots) and collecting its output.
#include <string>
#include <vector>

namespace lpusim::cli {

struct ExternalResult {
  int exit_code = -1;  ///< -1: could not start, or killed by a signal
  std::string output;  ///< stdout and stderr together
};

/// Runs `args` (args[0] looked up on PATH) with stdin from /dev/null and waits for it.
ExternalResult run_external(const std::vector<std::string>& args);

/// A script shipped in the source tree's tools/ folder (LPUSIM_TOOLS_DIR overrides).
std::string tools_script(const std::string& name);

/// Absolute path of the running lpusim binary.
std::string self_executable();

}  // namespace lpusim::cli
