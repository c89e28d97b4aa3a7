#include "compiler/lower/lowering.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "compiler/lower/lifetimes.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/matmul_schedule.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/node_lowering.hpp"
#include "compiler/lower/sxm_moves.hpp"
#include "compiler/lower/vxm_chains.hpp"
#include "compiler/lower/weight_tiling.hpp"

namespace lpusim {

namespace {

/// The driver: places what is loaded before the run, walks the primitive graph in order,
/// lowering each node or fused run (NodeLowering) and freeing each intermediate's words
/// after its last reader, then emits the program with its statistics and attributions.
class Lowerer {
 public:
  Lowerer(const Graph& g, const ChipConfig& chip, const LoweringOptions& options)
      : g_(g),
        chip_(chip),
        options_(options),
        geo_(chip),
        sb_(chip),
        memory_(g, chip, options),
        chains_(geo_, sb_, memory_, stats_),
        sxm_(geo_, sb_, memory_, chains_),
        tiling_(memory_, stats_, options.functional_data),
        matmuls_(geo_, sb_, memory_, chains_, tiling_, options),
        nodes_(g, memory_, chains_, sxm_, matmuls_, stats_, options.max_burst_rows) {}

  LoweredProgram run() {
    memory_.place_before_run();
    const auto release_after = release_after_nodes(g_);
    for (std::size_t first = 0; first < g_.nodes.size();) {
      // A fused run (fuse_pointwise) is lowered as one chain; its instructions are
      // attributed to its first node.
      std::size_t last = first;
      while (last + 1 < g_.nodes.size() && g_.nodes[last].fuse_into_next) ++last;
      chains_.start_node();
      sb_.set_attribution(static_cast<int>(first));
      nodes_.lower(first, last);
      memory_.settle_reads();
      for (std::size_t i = first; i <= last; ++i)
        for (int t : release_after[i]) memory_.release(t);  // views own no words: a no-op
      first = last + 1;
    }
    return emit();
  }

 private:
  /// Every queue's instructions with exact nops, the tensors declared first.
  LoweredProgram emit() {
    LoweredProgram out;
    std::vector<std::string> header{
        fmt::format("{}: compiled by lpusim for {} ({} weights)", g_.name, chip_.name, weight_type_name(options_.weights)),
        fmt::format("scheduled length: {} cycles", sb_.length().value())};
    out.program = sb_.emit(g_.name + ".s", memory_.decls(), header, sxm_.lane_maps());
    out.scheduled_length = sb_.length();
    out.instructions = sb_.instructions();
    out.data = memory_.take_data();
    out.placements = memory_.placements();
    stats_.activation_bytes = memory_.activation_bytes();
    stats_.weight_bytes = memory_.weight_bytes();
    attribute();
    out.stats = stats_;
    return out;
  }

  /// Per node and per layer: the cycle the last result lands and the instructions issued on
  /// each unit (counting repeats). A layer's cycles run from the end of the layers before it
  /// to its own end (layers overlap in a schedule; this is the critical-path share).
  void attribute() {
    const std::vector<UnitIssueSlots> issued = sb_.issued_by_attribution(static_cast<int>(g_.nodes.size()));
    int layers = 0;
    for (const Node& n : g_.nodes) layers = std::max(layers, n.layer + 1);
    stats_.layers.assign(static_cast<std::size_t>(layers), LayerAttribution{});
    for (int l = 0; l < layers; ++l) stats_.layers[static_cast<std::size_t>(l)].layer = l;
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      NodeAttribution a;
      a.name = n.name;
      a.layer = n.layer;
      const auto end = stats_.node_end_cycle.find(n.name);
      a.end_cycle = end == stats_.node_end_cycle.end() ? 0 : end->second;
      a.issued = issued[i];
      LayerAttribution& to = n.layer >= 0 ? stats_.layers[static_cast<std::size_t>(n.layer)] : stats_.outside_layers;
      to.end_cycle = std::max(to.end_cycle, a.end_cycle);
      to.issued += a.issued;
      stats_.nodes.push_back(std::move(a));
    }
    std::int64_t previous = 0;
    for (auto& l : stats_.layers) {
      l.cycles = l.end_cycle - previous;
      previous = std::max(previous, l.end_cycle);
    }
  }

  const Graph& g_;
  const ChipConfig& chip_;
  LoweringOptions options_;
  LoweringStats stats_;
  ChipGeometry geo_;
  ScheduleBuilder sb_;
  MemoryPlan memory_;
  VxmChains chains_;
  SxmMoves sxm_;
  WeightTiling tiling_;
  MatmulSchedule matmuls_;
  NodeLowering nodes_;
};

}  // namespace

LoweredProgram lower_graph(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options) {
  return Lowerer(graph, chip, options).run();
}

}  // namespace lpusim
