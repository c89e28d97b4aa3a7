#pragma once
// Runs simulate() (or simulate_system()) in a forked child process and returns its result,
// which comes back through the result codec (engine/exec/sim_result_codec.hpp). SystemC
// elaborates once per process, so commands that simulate several programs (estimate, verify)
// run each one this way; the calling process must not have started SystemC itself.
#include <vector>

#include "models/system.hpp"

namespace lpusim {

SimResult simulate_in_child(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options);
SystemResult simulate_system_in_child(const std::vector<ChipRun>& runs, const SystemConfig* system = nullptr);

}  // namespace lpusim
