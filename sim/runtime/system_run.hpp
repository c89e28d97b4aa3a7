#pragma once
// The host side of a system of chips: one compiled program per chip (compile_system), packed
// with each chip's inputs, simulated together in one kernel with the system's C2C links (in
// a child process), each chip's outputs unpacked. The multi-chip counterpart of run_compiled.
#include <map>
#include <string>
#include <vector>

#include "arch/config/system_config.hpp"
#include "compiler/pipeline.hpp"
#include "engine/exec/sim_result.hpp"
#include "runtime/tile_rows.hpp"

namespace lpusim {

struct SystemStepResult {
  SystemResult simulated;          ///< per chip and the totals (dumps moved to outputs)
  std::vector<Cycle> scheduled;    ///< per chip: the compiler's schedule length
  std::vector<LoweringStats> lowering;  ///< per chip
  std::int64_t program_instructions = 0;  ///< over all chips
  /// Functional mode: per chip, the outputs asked for, by tensor name.
  std::vector<std::map<std::string, HostTensor>> outputs;

  Cycle scheduled_length() const;
  /// Whether every chip ran exactly as long as its schedule says.
  bool simulated_equals_scheduled() const;
};

/// Simulates compiled programs on the first compiled.size() chips of `system`. `inputs[c]`
/// and `outputs[c]` are chip c's (graph tensor names). A schedule hazard on any chip is a
/// compiler bug (std::logic_error).
SystemStepResult run_compiled_system(const SystemConfig& system, std::vector<CompileResult> compiled, bool functional,
                                     const std::vector<std::map<std::string, std::vector<float>>>& inputs,
                                     const std::vector<std::vector<std::string>>& outputs, const std::string& name);

}  // namespace lpusim
