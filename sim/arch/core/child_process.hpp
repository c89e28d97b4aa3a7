#pragma once
// Running work in a forked child process and collecting what it writes. SystemC elaborates
// once per process, so everything that simulates several programs (estimate, verify, the
// bench, the simulation tests) runs each simulation in a child.
#include <functional>
#include <string>

namespace lpusim {

struct ChildOutput {
  std::string text;  ///< what the child produced
  int status = 0;    ///< waitpid status
};

/// Forks; the child runs `produce` (which must not throw: callers turn their exceptions into
/// the text they return), writes the result to a pipe and exits 0. Returns the text and the
/// child's status. Throws std::runtime_error if pipe or fork fails.
ChildOutput run_in_forked_child(const std::function<std::string()>& produce);

/// Reads a file descriptor to its end.
std::string read_to_end(int fd);

/// Whether a waitpid status is a normal exit with code 0.
bool exited_cleanly(int status);

}  // namespace lpusim
