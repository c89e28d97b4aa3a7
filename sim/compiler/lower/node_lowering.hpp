#pragma once
// Lowering of one node, or one fused run of nodes, of a primitive graph (private to the
// lowering): matmuls through MatmulSchedule, lane moves through SxmMoves, and everything
// else (pointwise ops and their fused runs, compares, row reductions, row views, state
// writes) as VXM chains between MEM words. The driver (lowering.cpp) calls it node by node.
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/matmul_schedule.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/sxm_moves.hpp"
#include "compiler/lower/vxm_chains.hpp"

namespace lpusim {

class NodeLowering {
 public:
  NodeLowering(const Graph& graph, MemoryPlan& memory, VxmChains& chains, SxmMoves& sxm, MatmulSchedule& matmuls,
               LoweringStats& stats, std::int64_t max_burst_rows)
      : g_(graph), memory_(memory), chains_(chains), sxm_(sxm), matmuls_(matmuls), stats_(stats),
        max_burst_rows_(max_burst_rows) {}

  /// Lowers nodes [first, last] of the graph: one node, or a fused run (fuse_pointwise).
  void lower(std::size_t first, std::size_t last);

 private:
  /// Rows m .. m + count - 1 of one tile, lowered as one burst.
  struct Run {
    std::int64_t m;
    std::int64_t count;
  };

  void lower_node(const Node& node);
  static Opcode vxm_opcode(OpKind k);
  void finish_node(const Node& node, const Act& out);
  void append_pointwise(std::vector<Step>& steps, const Node& node, std::int64_t m, std::int64_t j, bool streamed,
                        std::int64_t cols, const Burst& burst);
  VecHome padding_ones(std::int64_t valid);
  Step pointwise_step(const Node& node, std::int64_t m, std::int64_t j, bool streamed, const Burst& burst);
  /// Whether row m's second operand of `node` is not the word after row m - 1's.
  bool operand_breaks(const Node& node, std::int64_t m, std::int64_t j);
  /// Per tile of `a`: its rows cut into bursts where `a` and the second operands of nodes
  /// [first, last] have consecutive rows, at most max_burst_rows each.
  std::vector<std::vector<Run>> row_runs(const Act& a, std::size_t first, std::size_t last);
  static void for_each_run(const std::vector<std::vector<Run>>& runs,
                           const std::function<void(std::int64_t j, const Run& run)>& body);
  /// The VXM steps of a chain for the burst of rows from row m.
  using StepsFor = std::function<std::vector<Step>(std::int64_t m, const Burst& burst)>;
  /// Rows m .. m + count - 1 of tile j from `a` through a chain into `out`, as one burst, or
  /// split in halves where the whole burst finds no room.
  void place_chain_run(const Act& a, Act& out, std::int64_t j, std::int64_t m, std::int64_t count,
                       const StepsFor& steps_for);
  /// Per tile: the quad a pointwise result goes to, not one its operands are read from.
  std::vector<int> result_quads(const Act& a, std::size_t first, std::size_t last);
  void lower_pointwise(std::size_t first, std::size_t last);
  void lower_fused_run(std::size_t first, std::size_t last);
  void lower_compare(const Node& node);
  void lower_row_view(const Node& node);
  const Act& lower_permute_lanes(const Node& node, int output, const MatmulSchedule::Epilogue& epilogue);
  void lower_assign(const Node& node);
  void lower_reduce_rows(const Node& node);

  const Graph& g_;
  MemoryPlan& memory_;
  VxmChains& chains_;
  SxmMoves& sxm_;
  MatmulSchedule& matmuls_;
  LoweringStats& stats_;
  std::int64_t max_burst_rows_;
  std::map<std::int64_t, VecHome> padding_ones_;
};

}  // namespace lpusim
