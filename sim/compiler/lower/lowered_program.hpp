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
};

/// Where a graph tensor ended up: tile j of row m is vector m of assembly tensor tiles[j].
struct TensorPlacement {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::string> tiles;
};

struct LoweringStats {
  std::int64_t weight_bytes = 0;        ///< SRAM used by weights and constants
  std::int64_t activation_bytes = 0;    ///< SRAM used by activations
  std::int64_t weight_blocks = 0;       ///< MXM weight blocks installed
  std::int64_t vxm_ops = 0;
  std::map<std::string, std::int64_t> node_end_cycle;  ///< per graph node: the cycle its last result lands
  /// Per model layer (Node::layer): the cycle the layer's last result lands; empty for a
  /// graph without layers.
  std::vector<std::int64_t> layer_end_cycle;

  /// Records that `node`'s last result lands at cycle `end`.
  void note_node_end(const Node& node, std::int64_t end) {
    node_end_cycle[node.name] = end;
    if (node.layer < 0) return;
    const auto layer = static_cast<std::size_t>(node.layer);
    if (layer_end_cycle.size() <= layer) layer_end_cycle.resize(layer + 1, 0);
    layer_end_cycle[layer] = std::max(layer_end_cycle[layer], end);
  }
  /// Cycles per model layer: from the end of the layers before it to the end of its own last
  /// result (layers overlap in a static schedule; an overlapped stretch counts once, for the
  /// layer that ends first).
  std::vector<std::int64_t> cycles_per_layer() const {
    std::vector<std::int64_t> cycles;
    std::int64_t previous = 0;
    for (auto end : layer_end_cycle) {
      cycles.push_back(end - previous);
      previous = std::max(previous, end);
    }
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
