#pragma once
// The compiler pipeline: a straight line of passes, each timed, with a verifier after each
// (verify_graph; after the lowering, verify_lowered_program):
//   shape_inference -> last_row_outputs (prefill: only the last row's logits) -> decompose
//   -> quantization -> calibration (int8 activation scales) -> fuse_pointwise -> lowering
//   (placement, tiling onto MXM blocks, VXM chains, cycle scheduling, assembly emission)
#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "compiler/cost/compile_cost.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/lower/lowering.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

struct CompileOptions {
  LoweringOptions lowering;
  std::string dump_after;  ///< a pass name: its IR is returned in CompileResult::dump
  /// Compute only the last row of the graph's outputs (a prefill needs only the last
  /// token's logits to pick the next token).
  bool last_row_outputs = false;
  /// Run pointwise ops as VXM chains fed straight from the MXM or the previous op (off only
  /// to measure what fusion buys).
  bool fuse_pointwise = true;
  /// The graph's rows are this many sequences of equal length, one after another (a batch):
  /// last_row_outputs then keeps the last row of each.
  std::int64_t sequences = 1;
  /// The calibration input for int8 activation scales (used only for int8 compiles with
  /// functional data).
  Calibration calibration;
  /// Instruction lines the program may have: the assembly loader's limit for a program
  /// that is written out (`lpusim compile`); programs bound in memory are limited only by
  /// the instructions they issue.
  std::int64_t max_program_lines = std::numeric_limits<std::int64_t>::max();
  /// A system compile: each chip's pipeline stage, for the stage gates (lower_system; empty:
  /// a chip with hand-offs is a stage of its own). pipeline_stages(plan) gives a plan's.
  std::vector<int> pipeline_stages;
  /// Chips lowered only up to their stage gate: their hand-offs received, nothing after (the
  /// stage after a stage-reuse window's, runtime/stage_reuse.hpp).
  std::vector<bool> stop_at_gate;
};

struct CompileResult {
  Graph primitive;           ///< the graph after decompose
  LoweredProgram lowered;
  std::map<std::string, double> pass_seconds;
  /// The cost estimated from the primitive graph before lowering (checked against the chip
  /// and the limits before the lowering ran).
  CompileCost cost;
  std::string dump;
};

/// Pass names, in order, for --dump-after; CompileResult::pass_seconds has one entry each.
const std::vector<std::string>& pass_names();

CompileResult compile_graph(Graph graph, const ChipConfig& chip, const CompileOptions& options);

/// One graph per chip of a system (partition_graph's, graph c for chip c), each through the
/// passes on its own (expand_collectives turning its AllReduces into transfers), then lowered
/// together (lower_system) so that every transfer's receive is timed by its send. One result
/// per chip.
std::vector<CompileResult> compile_system(std::vector<Graph> graphs, const SystemConfig& system,
                                          const CompileOptions& options);

}  // namespace lpusim
