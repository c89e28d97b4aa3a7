#include "compiler/lower/lowering.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "arch/core/error.hpp"
#include "compiler/lower/c2c_transfers.hpp"
#include "compiler/lower/lifetimes.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/matmul_schedule.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/node_lowering.hpp"
#include "compiler/lower/sxm_moves.hpp"
#include "compiler/lower/vxm_chains.hpp"
#include "compiler/lower/weight_tiling.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

namespace {

/// The driver for one chip: places what is loaded before the run, walks the primitive graph
/// in order, lowering each node or fused run (NodeLowering; Send and Recv through
/// C2cTransfers) and freeing each intermediate's words after its last reader, then emits the
/// program with its statistics and attributions. A system's chips are lowered together: a
/// chip's walk pauses at a Recv whose Send another chip has not lowered yet.
class ChipLowering {
 public:
  ChipLowering(const Graph& g, const ChipConfig& chip, const LoweringOptions& options, TransferBoard* board,
               ChipId chip_id)
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
        nodes_(g, memory_, chains_, sxm_, matmuls_, stats_, options.max_burst_rows),
        transfers_(geo_, sb_, memory_, stats_, board, chip_id),
        release_after_(release_after_nodes(g)) {
    if (chip_.mxm_fp8_rate_divisor == 0)
      for (const Node& n : g_.nodes) {
        const MatmulFormat f = matmul_format(n);
        if (dtype_is_float(f.weights) && dtype_bytes(f.weights) == 1)
          throw InputError(fmt::format("{}: fp8 weights need an fp8 MXM mode, and {} has none (no mxm.fp8_rate_divisor "
                                       "in {})", g_.file.empty() ? g_.name : g_.file, chip_.name, chip_.file));
      }
    memory_.place_before_run();
    // A gated stage's hand-offs get their words now, in graph order, whatever order they
    // arrive in: the stage's schedule after its gate must not depend on that order.
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      if (n.kind != OpKind::Recv || !n.stage_input || !board) continue;
      handoffs_.push_back(i);
      const auto [rows, cols] = memory_.matrix_shape(n.outputs[0]);
      memory_.make_act(n.outputs[0], rows, cols, transfers_.arrival_side(n));
    }
  }

  bool done() const { return next_ >= g_.nodes.size(); }
  /// Whether the chip waits at its stage gate: every hand-off received, the gate not yet open.
  bool at_gate() const { return !gate_open_ && handoffs_left_ == 0; }
  bool gated() const { return !handoffs_.empty(); }
  /// The cycle this chip's last hand-off is readable.
  Cycle handoffs_readable() const { return handoffs_end_; }
  /// Opens the stage gate at `gate`: the chip's own work starts there (or, `stop`, nothing
  /// more is lowered).
  void open_gate(Cycle gate, bool stop) {
    gate_open_ = true;
    if (stop) next_ = g_.nodes.size();
    gate_ = gate;
    sb_.set_floor(gate);
    memory_.start_at(gate);
    matmuls_.start_at(gate);
    transfers_.start_at(gate);
  }
  C2cTransfers& transfers() { return transfers_; }
  const Node& waiting_at() const { return g_.nodes[next_]; }

  /// Lowers nodes until the graph ends or a Recv must wait for its Send; returns whether it
  /// lowered any.
  bool advance() {
    bool progressed = false;
    if (!gate_open_ && !handoffs_.empty()) {
      // Before the gate: only the hand-offs, each peer's in the order it sent them.
      if (handoffs_left_ < 0) handoffs_left_ = static_cast<std::int64_t>(handoffs_.size());
      std::set<int> waiting_peers;
      for (std::size_t k : handoffs_) {
        const Node& n = g_.nodes[k];
        if (taken_early_.count(k) || waiting_peers.count(n.peer)) continue;
        sb_.set_attribution(static_cast<int>(k));
        if (!transfers_.receive(n)) {
          waiting_peers.insert(n.peer);
          continue;
        }
        taken_early_.insert(k);
        --handoffs_left_;
        handoffs_end_ = std::max(handoffs_end_, Cycle(stats_.node_end_cycle.at(n.name)));
        progressed = true;
      }
      return progressed;  // the driver opens the gate once the whole stage is here
    }
    while (!done()) {
      // A fused run (fuse_pointwise) is lowered as one chain; its instructions are
      // attributed to its first node.
      const std::size_t first = next_;
      std::size_t last = first;
      while (last + 1 < g_.nodes.size() && g_.nodes[last].fuse_into_next) ++last;
      chains_.start_node();
      sb_.set_attribution(static_cast<int>(first));
      const Node& node = g_.nodes[first];
      if (taken_early_.count(first)) {  // a Recv already lowered out of order (below)
        next_ = first + 1;
        continue;
      }
      if (node.kind == OpKind::Send) {
        transfers_.send(node);
      } else if (node.kind == OpKind::Recv) {
        if (!transfers_.receive(node)) {
          // Transfers are taken in the order they reach each port, not the graph's: a
          // collective's partials in arrival order, and a later Recv's transfer that came
          // first on a shared link (a partial from a stage peer ahead of a hand-off forwarded
          // by that peer). A Recv reads nothing, so it can be lowered early; only a peer's
          // transfers must be taken in the order it sent them (the k-th Recv from a chip
          // takes its k-th Send), so a peer with an earlier Recv still waiting is skipped.
          std::set<int> waiting_peers{node.peer};
          for (std::size_t k = first + 1; k < g_.nodes.size(); ++k) {
            const Node& later = g_.nodes[k];
            if (later.kind != OpKind::Recv || taken_early_.count(k) || waiting_peers.count(later.peer)) continue;
            sb_.set_attribution(static_cast<int>(k));
            if (transfers_.receive(later)) {
              taken_early_.insert(k);
              progressed = true;
            } else {
              waiting_peers.insert(later.peer);
            }
          }
          return progressed;
        }
      } else {
        nodes_.lower(first, last);
      }
      memory_.settle_reads();
      for (std::size_t i = first; i <= last; ++i)
        for (int t : release_after_[i]) memory_.release(t);  // views own no words: a no-op
      next_ = last + 1;
      progressed = true;
    }
    return progressed;
  }

  /// Every queue's instructions with exact nops, the tensors declared first.
  LoweredProgram emit() {
    if (!done()) throw std::logic_error("ChipLowering::emit before the graph is lowered");
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
    stats_.stage_gate_cycle = gate_.value();
    attribute();
    out.stats = stats_;
    return out;
  }

 private:
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
  C2cTransfers transfers_;
  std::vector<std::vector<int>> release_after_;
  std::size_t next_ = 0;
  std::set<std::size_t> taken_early_;  ///< Recv nodes lowered before the nodes ahead of them
  std::vector<std::size_t> handoffs_;   ///< the stage's hand-off Recvs (Node::stage_input), in graph order
  std::int64_t handoffs_left_ = -1;     ///< not yet received (-1: not counted yet)
  Cycle handoffs_end_{0};
  bool gate_open_ = false;
  Cycle gate_{0};
};

}  // namespace

LoweredProgram lower_graph(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options) {
  ChipLowering lowering(graph, chip, options, nullptr, ChipId(0));
  lowering.advance();  // without a board, a Send or Recv is an InputError, so it never waits
  return lowering.emit();
}

std::vector<LoweredProgram> lower_system(const std::vector<Graph>& graphs, const SystemConfig& system,
                                         const LoweringOptions& options, const std::vector<int>& stage_of_chip,
                                         const std::vector<bool>& stop_at_gate) {
  if (static_cast<int>(graphs.size()) > system.chips)
    throw InputError(fmt::format("{}: {} chip programs for a system of {} chips", system.file, graphs.size(),
                                 system.chips));
  // Chips a transfer is routed through but that run no graph of their own still get a
  // program: the receives and sends that forward it.
  std::size_t count = graphs.size();
  for (std::size_t c = 0; c < graphs.size(); ++c)
    for (const Node& n : graphs[c].nodes)
      if (n.kind == OpKind::Send)
        for (const Hop& hop : system.route(ChipId(static_cast<int>(c)), ChipId(n.peer)))
          count = std::max(count, static_cast<std::size_t>(hop.to.value()) + 1);
  std::vector<Graph> forwarders(count - graphs.size());
  for (std::size_t k = 0; k < forwarders.size(); ++k)
    forwarders[k].name = fmt::format("chip{} (forwarding only)", graphs.size() + k);
  TransferBoard board(system);
  std::vector<std::unique_ptr<ChipLowering>> chips;
  for (std::size_t c = 0; c < count; ++c) {
    const Graph& g = c < graphs.size() ? graphs[c] : forwarders[c - graphs.size()];
    chips.push_back(std::make_unique<ChipLowering>(g, system.chip, options, &board, ChipId(static_cast<int>(c))));
  }
  for (std::size_t c = 0; c < count; ++c) board.attach(ChipId(static_cast<int>(c)), &chips[c]->transfers());
  // Round robin: each chip lowers until it waits for a transfer; a round where none moves
  // with some unfinished is a deadlock of the graphs' transfer order (a compiler bug).
  // A stage's gate opens when all of its gated chips have their hand-offs (a chip with no
  // stage of its own is a stage alone).
  auto stage = [&](std::size_t c) {
    return c < stage_of_chip.size() && stage_of_chip[c] >= 0 ? stage_of_chip[c] : -1 - static_cast<int>(c);
  };
  auto open_gates = [&] {
    bool opened = false;
    std::map<int, std::pair<bool, Cycle>> stages;  // stage -> (all at the gate, the latest hand-off)
    for (std::size_t c = 0; c < chips.size(); ++c) {
      if (!chips[c]->gated()) continue;
      auto& s = stages.try_emplace(stage(c), std::make_pair(true, Cycle(0))).first->second;
      if (!chips[c]->at_gate()) s.first = false;
      s.second = std::max(s.second, chips[c]->handoffs_readable());
    }
    for (std::size_t c = 0; c < chips.size(); ++c) {
      if (!chips[c]->gated() || !chips[c]->at_gate()) continue;
      const auto& s = stages.at(stage(c));
      if (!s.first) continue;
      chips[c]->open_gate(s.second, c < stop_at_gate.size() && stop_at_gate[c]);
      opened = true;
    }
    return opened;
  };
  for (bool progressed = true; progressed;) {
    progressed = false;
    for (auto& c : chips)
      if (!c->done()) progressed = c->advance() || progressed;
    progressed = open_gates() || progressed;
  }
  std::string waiting;
  for (std::size_t c = 0; c < chips.size(); ++c)
    if (!chips[c]->done()) waiting += fmt::format("{}chip {} at '{}'", waiting.empty() ? "" : ", ", c, chips[c]->waiting_at().name);
  if (!waiting.empty())
    throw std::logic_error(fmt::format("lower_system: chips wait forever for transfers (their peers never send): {}",
                                       waiting));
  if (board.untaken() > 0)
    throw std::logic_error(fmt::format("lower_system: {} transfers were sent and never received", board.untaken()));
  std::vector<LoweredProgram> programs;
  for (auto& c : chips) programs.push_back(c->emit());
  return programs;
}

}  // namespace lpusim
