#pragma once
// Runs simulate() in a forked child process and returns its result. SystemC elaborates once
// per process, so commands that simulate several programs (estimate, verify) run each one
// this way; the calling process must not have started SystemC itself.
#include "models/chip.hpp"

namespace lpusim {

SimResult simulate_in_child(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options);

}  // namespace lpusim
