#pragma once
// What the lowering takes and gives (its options, its output and statistics), apart from
// the driver (lowering.hpp), so that the lowering's parts can use them without including it.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/isa/program.hpp"
#include "compiler/ir/graph.hpp"

namespace lpusim {

struct LoweringOptions {
  WeightType weights = WeightType::Fp16;
  MatmulCompute compute = MatmulCompute::Native;
  /// Store each model weight as its checkpoint does (TensorInfo::checkpoint_format: fp8 as
  /// fp8, MXFP4 values in an fp8e4m3 container, the rest fp16) instead of as `weights`.
  bool checkpoint_weights = false;
  /// Generate the initial SRAM contents (weights, constants) for a functional run. Timing-only
  /// users (estimate, bench) turn it off: the schedule is the same, the compile much lighter.
  bool functional_data = true;
  /// Rows one instruction sequence handles with `repeat` (consecutive rows of a tile through
  /// the same chain, a cycle or the MXM rate apart); 1 schedules every row on its own.
  std::int64_t max_burst_rows = 1;

  WeightScenario weight_scenario() const { return WeightScenario(weights, compute, checkpoint_weights); }
};

/// Where a graph tensor ended up: tile j of row m is vector m of assembly tensor tiles[j].
struct TensorPlacement {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::string> tiles;
};

/// Instructions issued per unit, counting every repeat: the unit's busy issue slots.
struct UnitIssueSlots {
  std::int64_t mem = 0, vxm = 0, mxm = 0, sxm = 0, c2c = 0;
  UnitIssueSlots& operator+=(const UnitIssueSlots& o) {
    mem += o.mem;
    c2c += o.c2c;
    vxm += o.vxm;
    mxm += o.mxm;
    sxm += o.sxm;
    return *this;
  }
};

/// One node of the primitive graph in the schedule. A fused run's instructions are
/// attributed to its first node.
struct NodeAttribution {
  std::string name;
  int layer = -1;              ///< Node::layer
  std::int64_t end_cycle = 0;  ///< the cycle its last result lands
  UnitIssueSlots issued;
};

/// One transformer layer (or everything outside the layers) in the schedule.
struct LayerAttribution {
  int layer = -1;
  std::int64_t end_cycle = 0;  ///< the cycle the layer's last result lands
  /// From the end of the layers before it to its own end: its share of the critical path
  /// (layers overlap in a schedule, so these add up to the last layer's end).
  std::int64_t cycles = 0;
  UnitIssueSlots issued;
};

struct LoweringStats {
  std::int64_t weight_bytes = 0;        ///< SRAM used by weights and constants
  std::int64_t activation_bytes = 0;    ///< SRAM used by activations
  std::int64_t weight_blocks = 0;       ///< MXM weight blocks installed
  std::int64_t vxm_ops = 0;
  std::map<std::string, std::int64_t> node_end_cycle;  ///< per graph node: the cycle its last result lands
  std::vector<NodeAttribution> nodes;   ///< per node of the primitive graph, in graph order
  std::vector<LayerAttribution> layers; ///< per transformer layer (Node::layer), in order
  LayerAttribution outside_layers;      ///< nodes outside the layers (embeddings, LM head, JSON graphs)
  /// A gated pipeline stage's chip (lower_system): the cycle its stage's work may start, every
  /// hand-off into the stage readable. 0 for chips without hand-offs.
  std::int64_t stage_gate_cycle = 0;

  /// Records that `node`'s last result lands at cycle `end` (layers and nodes are attributed
  /// from these when the lowering ends).
  void note_node_end(const Node& node, std::int64_t end) { node_end_cycle[node.name] = end; }
  /// Cycles per model layer (LayerAttribution::cycles): empty for a graph without layers.
  std::vector<std::int64_t> cycles_per_layer() const {
    std::vector<std::int64_t> cycles;
    for (const auto& l : layers) cycles.push_back(l.cycles);
    return cycles;
  }
};

struct LoweredProgram {
  Program program;
  Cycle scheduled_length{0};
  std::int64_t instructions = 0;
  /// Initial SRAM contents for a functional run: assembly tensor -> values (vectors x lanes).
  std::map<std::string, std::vector<double>> data;
  std::map<std::string, TensorPlacement> placements;  ///< graph tensor name -> placement
  LoweringStats stats;
};

}  // namespace lpusim
