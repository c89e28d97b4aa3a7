#pragma once
// The host side of a system of chips: one compiled program per chip (compile_system), packed
// with each chip's inputs, simulated together in one kernel with the system's C2C links (in
// a child process), each chip's outputs unpacked. The multi-chip counterpart of run_compiled.
#include <map>
#include <string>
#include <vector>

#include "arch/config/system_config.hpp"
#include "compiler/ir/partition_plan.hpp"
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

/// One pipeline stage's share of a step: its span, from the end of the stage before it (0 for
/// the first) to the end of its last chip's own work (its graph's last result; forwarding
/// other stages' transfers does not count; the last stage's span runs to the step's end),
/// split by what that chip's schedule was doing
/// whenever its frontier (the latest result so far) moved: a transfer (a Send or Recv node,
/// the hand-off in and the collectives' waits) or compute (every other node, and the
/// program's tail). compute + c2c = span, and the stages' spans add up to the step's cycles.
struct StageTime {
  std::int64_t span = 0, compute = 0, c2c = 0;
};
std::vector<StageTime> stage_times(const SystemStepResult& step, const PartitionPlan& plan);
/// A chip's own work ends with its graph's last result (forwards of other chips' transfers,
/// attributed to no node, do not count), at most at its program's end.
std::int64_t own_work_end(const LoweringStats& chip, std::int64_t total_cycles);
/// The span from `previous` to `end` (the chip's cycles) split by what `chip`'s schedule was
/// doing whenever its frontier moved (stage_times); up to the stage's `gate` it waits for its
/// hand-offs (C2C).
StageTime split_stage_span(const LoweringStats& chip, std::int64_t previous, std::int64_t end, std::int64_t gate);

/// Simulates compiled programs on the first compiled.size() chips of `system`. `inputs[c]`
/// and `outputs[c]` are chip c's (graph tensor names). A schedule hazard on any chip is a
/// compiler bug (std::logic_error).
SystemStepResult run_compiled_system(const SystemConfig& system, std::vector<CompileResult> compiled, bool functional,
                                     const std::vector<std::map<std::string, std::vector<float>>>& inputs,
                                     const std::vector<std::vector<std::string>>& outputs, const std::string& name);

}  // namespace lpusim
