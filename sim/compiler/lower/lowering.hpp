#pragma once
// Lowering: places every tensor of a primitive graph in MEM and schedules every vector
// operation on the chip's units, cycle by cycle, through a ScheduleBuilder.
//
// Layout. An activation tensor [M, N] is M x ceil(N/320) fp32 vectors; tile j of every row
// lives in one "quad" of 4 MEM slices near the VXM (plane b of the fp32 value in slice b of
// the quad), M consecutive words. Lanes beyond N are padding that every consumer ignores.
// Weights are stored as MXM rows: a block of up to 320 output rows x 320 input lanes, fp16
// (8 rows per lw, plane 0 and 1 of row 8t + j in slices 2j and 2j+1 of the plane's 16-slice
// group, word t) or int8 (16 rows per lw, row 16t + q in slice q, word t).
//
// Operations. Elementwise ops are VXM chains: operands read from MEM to arrive at the VXM
// together, the result written back to a quad. A matmul runs each output tile on one MXM
// plane: for each input tile, the weight block streams in (lw), is installed (iw), and every
// row's activation is converted on the VXM (fp32 -> fp16, or scaled to int8) on its way to
// the MXM (abc) into an accumulator slot per row; acc then emits each row's result back to
// a quad, through the VXM when an int8 scale or a fused epilogue applies.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/config/system_config.hpp"
#include "compiler/lower/lowered_program.hpp"

namespace lpusim {

/// Lowers a graph of primitive ops (MatMul, elementwise, Scale, SumRows, MaxRows). Weight
/// values come from the graph's explicit values or its deterministic init. Throws
/// InputError when the model does not fit the chip (with the chips it would need).
LoweredProgram lower_graph(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options);

/// Lowers one graph per chip of a system (graph c on chip c) together: each chip is scheduled
/// as lower_graph would, and its Send and Recv nodes become C2C transfers timed against each
/// other (compiler/lower/c2c_transfers.hpp). The chips' programs share one global cycle count
/// from cycle 0 (docs/multichip.md, "Time"). Chips past the last graph that a transfer is
/// routed through get programs too (their forwarding), so the result may be longer.
///
/// Stage gate: `stage_of_chip[c]` is chip c's pipeline stage (chips without one: -1, or the
/// list left empty). A chip with hand-off Recvs (Node::stage_input) first receives only
/// those; once every chip of its stage has, the stage's gate is the cycle the last of them
/// is readable, and nothing of the stage's own work issues before it. A stage's schedule from
/// its gate on then depends on its graphs and its links alone, not on when its hand-offs
/// came: what lets identical stages be simulated once (docs/multichip.md, "Stage reuse").
/// LoweringStats::stage_gate_cycle reports it. A chip marked in `stop_at_gate` is lowered only
/// up to its gate (its hand-offs received, as they would be with the rest of its graph).
std::vector<LoweredProgram> lower_system(const std::vector<Graph>& graphs, const SystemConfig& system,
                                         const LoweringOptions& options, const std::vector<int>& stage_of_chip = {},
                                         const std::vector<bool>& stop_at_gate = {});

}  // namespace lpusim
