#pragma once
// Stage reuse: a pipelined step simulated one stage class at a time (docs/multichip.md,
// "Stage reuse").
//
// With the stage gate (lower_system), a stage's schedule from its gate on depends only on its
// chips' graphs and the links its transfers take, not on when its hand-offs arrived. Two
// stages are the same class when their graphs are the same up to layer numbering and their
// transfers' routes have the same shape: the hand-off in (from the stage before), the
// collectives among its chips and the hand-off out (to the stage after), hop by hop the same
// link class and ports, through the same chips of the three stages relative to the stage's
// first chip (or through chips outside them, which are idle while a one-batch step passes).
// Each class is compiled and simulated once, in a window: its own chips, the stage before
// reduced to the Sends of its hand-off (which then leave at once: the gate hides when), and
// the stage after lowered only up to its gate (its hand-off out received, which times the
// next stage).
// The step is then composed: gate k = gate k-1 + (the window's next gate - its gate), and
// every stage's work, C2C split and links count as its class's window measured them.
#include <map>
#include <string>
#include <vector>

#include "arch/config/system_config.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "compiler/pipeline.hpp"
#include "runtime/system_run.hpp"

namespace lpusim {

/// Which stage simulates each stage's class.
struct StageClasses {
  std::vector<int> representative;  ///< per stage: the first stage of its class
  int classes() const;
  /// Chips compiled and simulated in the windows (their stages' chips, the phantom sender and
  /// receiver chips included).
  int window_chips(const PartitionPlan& plan) const;
};

/// Each stage's class from its chips' partitioned graphs (partition_graph's, chip c for chip c)
/// and the system's routes: the proof that reused stages are identical.
StageClasses classify_stages(const std::vector<Graph>& chip_graphs, const PartitionPlan& plan,
                             const SystemConfig& system);

/// The same from the config alone (for the cost checked before work): stages with the same
/// layer count, place (first, middle, last) and route shapes, assuming their layers build
/// the same graphs. classify_stages may find more classes (layers of different kinds).
StageClasses classify_stages_by_plan(const PartitionPlan& plan, const SystemConfig& system);

/// What the composed step reports, in the shape of a system run.
struct ReusedStep {
  std::int64_t cycles = 0;            ///< the step's end: the last stage's last chip
  std::int64_t scheduled_cycles = 0;  ///< the same from the compiler's schedules
  std::vector<StageTime> stage_times;
  std::vector<std::int64_t> stage_gates;  ///< per stage: the cycle its work may start
  StageClasses classes;
  int chips_simulated = 0;
  std::int64_t c2c_vectors_sent = 0;      ///< over the whole system, each stage as its class's
  std::int64_t c2c_link_busy_cycles = 0;
  std::int64_t program_instructions = 0;  ///< the whole system's, each stage as its class's
  std::int64_t simulated_instructions = 0;
  SimResult last_stage_chip;   ///< the last stage's first chip, its total the step's end
  LoweringStats first_chip_lowering;  ///< chip 0's
  double simulate_seconds = 0;
};

/// Compiles and simulates (timing only) one window per class and composes the step.
/// `options` as for compile_system (pipeline_stages is set here). A chip whose simulated
/// cycles differ from its schedule is a compiler bug (std::logic_error).
ReusedStep run_reused_stages(const std::vector<Graph>& chip_graphs, const PartitionPlan& plan,
                             const SystemConfig& system, const StageClasses& classes, CompileOptions options,
                             const std::string& name);

}  // namespace lpusim
