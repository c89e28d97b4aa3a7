#include "compiler/lower/lowering.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/matmul_schedule.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/sxm_moves.hpp"
#include "compiler/lower/vxm_chains.hpp"
#include "compiler/lower/weight_tiling.hpp"
#include "compiler/passes/passes.hpp"
#include "arch/core/error.hpp"

namespace lpusim {

namespace {

/// The driver: walks the primitive graph in order, lowering each node through the parts
/// (placement, tiling, VXM chains, MXM scheduling) and freeing each intermediate's words
/// after its last reader; then emits the program.
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
        matmuls_(geo_, sb_, memory_, chains_, tiling_, options) {}

  LoweredProgram run() {
    if (chip_.mxm_fp8_rate_divisor == 0)
      for (const Node& n : g_.nodes) {
        const MatmulFormat f = matmul_format(n);
        if (dtype_is_float(f.weights) && dtype_bytes(f.weights) == 1)
          throw InputError(fmt::format("{}: fp8 weights need an fp8 MXM mode, and {} has none (no mxm.fp8_rate_divisor "
                                       "in {})", g_.file.empty() ? g_.name : g_.file, chip_.name, chip_.file));
      }
    for (std::size_t i = 0; i < g_.tensors.size(); ++i)
      if (g_.tensors[i].role == TensorRole::Input) {
        const auto [rows, cols] = memory_.matrix_shape(static_cast<int>(i));
        memory_.make_act(static_cast<int>(i), rows, cols);
      }
    place_constants_first();
    // Lifetimes: an intermediate tensor's words are freed after the node that reads it last,
    // directly or through a view (a row slice or concat shares its source's words).
    std::vector<int> last_use(g_.tensors.size(), -1);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      for (int t : g_.nodes[i].inputs) last_use[static_cast<std::size_t>(t)] = static_cast<int>(i);
    for (std::size_t i = g_.nodes.size(); i-- > 0;) {  // views of views come later: walk back
      const Node& n = g_.nodes[i];
      if (n.kind != OpKind::Slice && n.kind != OpKind::Concat) continue;
      for (int t : n.inputs)
        last_use[static_cast<std::size_t>(t)] =
            std::max(last_use[static_cast<std::size_t>(t)], last_use[static_cast<std::size_t>(n.outputs[0])]);
    }
    std::vector<std::vector<int>> release_after(g_.nodes.size());
    for (std::size_t t = 0; t < g_.tensors.size(); ++t)
      if (last_use[t] >= 0 && g_.tensors[t].role == TensorRole::Intermediate)
        release_after[static_cast<std::size_t>(last_use[t])].push_back(static_cast<int>(t));
    for (std::size_t first = 0; first < g_.nodes.size();) {
      // A fused run (fuse_pointwise) is lowered as one chain.
      std::size_t last = first;
      while (last + 1 < g_.nodes.size() && g_.nodes[last].int_attr("fuse_into_next", 0) != 0) ++last;
      chains_.start_node();
      if (last == first) lower_node(g_.nodes[first]);
      else lower_fused_run(first, last);
      memory_.settle_reads();
      for (std::size_t i = first; i <= last; ++i)
        for (int t : release_after[i]) memory_.release(t);  // views own no words: a no-op
      first = last + 1;
    }
    // Emission: every queue's instructions with exact nops, the tensors declared first.
    LoweredProgram out;
    std::vector<std::string> header{
        fmt::format("{}: compiled by lpusim for {} ({} weights)", g_.name, chip_.name,
                    weight_type_name(options_.weights)),
        fmt::format("scheduled length: {} cycles", sb_.length().value())};
    out.program = sb_.emit(g_.name + ".s", memory_.decls(), header, sxm_.lane_maps());
    out.scheduled_length = sb_.length();
    out.instructions = sb_.instructions();
    out.data = memory_.take_data();
    out.placements = memory_.placements();
    stats_.activation_bytes = memory_.activation_bytes();
    stats_.weight_bytes = memory_.weight_bytes();
    out.stats = stats_;
    return out;
  }

 private:
  /// Everything loaded before the run goes below the intermediates (whose words are reused
  /// and so cannot hold data from cycle 0): vector operands that are weights or state (biases,
  /// norm weights, rope's cos/sin, KV caches) and one dequantisation vector per int8 matmul
  /// output tile.
  void place_constants_first() {
    // A model whose weights alone exceed the weight slices fails here, before any work.
    check_weights_fit(g_, chip_, options_.weights, options_.checkpoint_weights);
    std::int64_t dequant_words = 0;
    for (const Node& n : g_.nodes) {
      for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        const bool weight_block = n.kind == OpKind::MatMul && i % 2 == 1;
        const TensorRole role = g_.tensors[static_cast<std::size_t>(n.inputs[i])].role;
        if (!weight_block && (role == TensorRole::Weight || role == TensorRole::State)) memory_.vector_constant(n.inputs[i]);
      }
      if (n.kind != OpKind::MatMul) continue;
      if (const auto bias = n.int_attr("bias", -1); bias >= 0) memory_.vector_constant(static_cast<int>(bias));
      const auto [w_rows, w_cols] = memory_.matrix_shape(n.inputs[1]);
      const std::int64_t n_cols = n.int_attr("transpose_w", 0) != 0 ? w_rows : w_cols;
      if (matmul_format(n).scaled_weights()) dequant_words += memory_.tiles_of(n_cols);
    }
    memory_.reserve_constant_words(dequant_words);
  }

  void lower_node(const Node& node) {
    switch (node.kind) {
      case OpKind::MatMul: finish_node(node, matmuls_.lower(node, node.outputs[0])); return;
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min:
      case OpKind::Neg: case OpKind::Exp: case OpKind::Exp2: case OpKind::Rsqrt: case OpKind::Tanh:
      case OpKind::Relu: case OpKind::Scale: {
        const auto index = static_cast<std::size_t>(&node - g_.nodes.data());
        lower_pointwise(index, index);
        return;
      }
      case OpKind::Greater: case OpKind::GreaterEqual: lower_compare(node); return;
      case OpKind::SumRows: case OpKind::MaxRows: lower_reduce_rows(node); return;
      case OpKind::Slice: case OpKind::Concat: lower_row_view(node); return;
      case OpKind::Assign: lower_assign(node); return;
      case OpKind::PermuteLanes: finish_node(node, lower_permute_lanes(node, node.outputs[0], {})); return;
      case OpKind::AllReduce: case OpKind::Send: case OpKind::Recv:
        throw InputError(fmt::format("{}: node '{}': lowering {} to C2C transfers is not implemented yet (a "
                                     "multi-chip graph can be interpreted, not yet compiled)", g_.file, node.name,
                                     op_name(node.kind)));
      default:
        throw InputError(fmt::format("{}: node '{}': op {} reached lowering undecomposed (a compiler bug)", g_.file,
                                     node.name, op_name(node.kind)));
    }
  }

  static Opcode vxm_opcode(OpKind k) {
    switch (k) {
      case OpKind::Add: return Opcode::Add;
      case OpKind::Sub: return Opcode::Sub;
      case OpKind::Mul: case OpKind::Scale: return Opcode::Mul;
      case OpKind::Max: return Opcode::Max;
      case OpKind::Min: return Opcode::Min;
      case OpKind::Neg: return Opcode::Neg;
      case OpKind::Exp: return Opcode::Exp;
      case OpKind::Exp2: return Opcode::Exp2;
      case OpKind::Rsqrt: return Opcode::Rsqrt;
      case OpKind::Tanh: return Opcode::Tanh;
      case OpKind::Relu: return Opcode::Relu;
      default: return Opcode::Mov;
    }
  }

  void finish_node(const Node& node, const Act& out) {
    Cycle end{0};
    for (auto r : out.ready) end = std::max(end, r);
    stats_.note_node_end(node, end.value());
  }

  /// The VXM step of a pointwise node for row m, tile j of its result; its first operand is
  /// the node's first input (or the previous step of a chain).
  /// The steps of a pointwise node. Lanes past a tensor's width hold 0, and rsqrt(0) = inf
  /// would reach the next matmul as inf x 0 = NaN; so on a tile with such lanes, rsqrt is
  /// preceded by adding a vector that is 0 on the tensor's lanes (exact) and 1 past them.
  void append_pointwise(std::vector<Step>& steps, const Node& node, std::int64_t m, std::int64_t j, bool streamed,
                        std::int64_t cols) {
    const std::int64_t valid = cols - j * memory_.lanes();
    if (node.kind == OpKind::Rsqrt && valid < memory_.lanes()) steps.push_back(Step::with_vector(Opcode::Add, padding_ones(valid)));
    steps.push_back(pointwise_step(node, m, j, streamed));
  }

  /// A constant vector: 0 on the first `valid` lanes, 1 on the others.
  VecHome padding_ones(std::int64_t valid) {
    if (auto it = padding_ones_.find(valid); it != padding_ones_.end()) return it->second;
    const VecHome h = memory_.take_constant_word("a padding vector");
    TensorDecl d;
    d.name = fmt::format("pad{}", valid);
    d.dtype = DType::Fp32;
    d.slices.assign(memory_.quad(h.quad).begin(), memory_.quad(h.quad).end());
    d.address = h.address;
    d.comment = fmt::format("1 on lanes {}.. (past a tensor's width), 0 before", valid);
    std::vector<double> v(static_cast<std::size_t>(memory_.lanes()), 0.0);
    for (std::int64_t i = valid; i < memory_.lanes(); ++i) v[static_cast<std::size_t>(i)] = 1.0;
    memory_.set_data(d.name, std::move(v));
    memory_.declare(std::move(d));
    padding_ones_[valid] = h;
    return h;
  }

  /// `streamed`: the first operand arrives on streams from the previous step of a fused run,
  /// so an op on that value with itself (x * x) takes it twice from the same streams.
  Step pointwise_step(const Node& node, std::int64_t m, std::int64_t j, bool streamed) {
    const Opcode op = vxm_opcode(node.kind);
    if (node.kind == OpKind::Scale) return Step::with_immediate(op, node.float_attr("value", 1.0));
    if (streamed && node.inputs.size() > 1 && node.inputs[1] == node.inputs[0]) {
      Step s{op};
      s.b.kind = StepOperand::Kind::SameAsFirst;
      return s;
    }
    if (node.inputs.size() > 1) {
      const Act& b = memory_.act(node.inputs[1]);
      const bool broadcast_tile = node.string_attr("broadcast", "") == "tile";
      return Step::with_vector(op, b.at(b.rows == 1 ? 0 : m, broadcast_tile ? 0 : j));
    }
    if (node.kind == OpKind::Add || node.kind == OpKind::Sub || node.kind == OpKind::Mul || node.kind == OpKind::Max ||
        node.kind == OpKind::Min)
      return Step::with_immediate(op, node.float_attr("immediate", 0.0));
    return Step{op};
  }

  /// Pointwise nodes [first, last] of the graph (a single node, or a fused run whose each
  /// node reads the previous one's result), as one MEM -> VXM chain -> MEM per vector.
  void lower_pointwise(std::size_t first, std::size_t last) {
    const Act& a = memory_.act(g_.nodes[first].inputs[0]);
    Act& out = memory_.make_act(g_.nodes[last].outputs[0], a.rows, a.cols);
    for (std::size_t k = first; k <= last; ++k)
      if (g_.nodes[k].inputs.size() > 1 && (k == first || g_.nodes[k].inputs[1] != g_.nodes[k].inputs[0]))
        memory_.act(g_.nodes[k].inputs[1]);  // places constants in order
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t j = 0; j < a.tiles; ++j) {
        std::vector<Step> steps;
        for (std::size_t k = first; k <= last; ++k) append_pointwise(steps, g_.nodes[k], m, j, k > first, a.cols);
        out.ready_at(m, j) = chains_.mem_to_mem(a.at(m, j), steps, out.at(m, j), Cycle(0));
      }
    for (std::size_t k = first; k <= last; ++k) finish_node(g_.nodes[k], out);
  }

  /// A fused run: a matmul whose results pass through the run's pointwise ops on their way
  /// from the MXM to MEM, or a chain of pointwise ops.
  void lower_fused_run(std::size_t first, std::size_t last) {
    const Node& head = g_.nodes[first];
    if (head.kind != OpKind::MatMul && head.kind != OpKind::PermuteLanes) {
      lower_pointwise(first, last);
      return;
    }
    std::int64_t head_cols = 0;  // the run's width: every node of it has the same shape
    if (head.kind == OpKind::MatMul) {
      const auto [w_rows, w_cols] = memory_.matrix_shape(head.inputs[1]);
      head_cols = head.int_attr("transpose_w", 0) != 0 ? w_rows : w_cols;
    } else {
      head_cols = memory_.act(head.inputs[0]).cols;
    }
    auto epilogue = [&](std::int64_t m, std::int64_t n) {
      std::vector<Step> steps;
      for (std::size_t k = first + 1; k <= last; ++k) append_pointwise(steps, g_.nodes[k], m, n, true, head_cols);
      return steps;
    };
    const int output = g_.nodes[last].outputs[0];
    const Act& out = head.kind == OpKind::MatMul ? matmuls_.lower(head, output, epilogue)
                                                 : lower_permute_lanes(head, output, epilogue);
    for (std::size_t k = first; k <= last; ++k) finish_node(g_.nodes[k], out);
  }

  /// a > b (or >=) as 1.0 / 0.0: the VXM compare gives an int8 0/1 mask, cvt makes it fp32.
  void lower_compare(const Node& node) {
    const Act& a = memory_.act(node.inputs[0]);
    const Act* b = node.inputs.size() > 1 ? &memory_.act(node.inputs[1]) : nullptr;
    Act& out = memory_.make_act(node.outputs[0], a.rows, a.cols);
    const Opcode op = node.kind == OpKind::Greater ? Opcode::CmpGt : Opcode::CmpGe;
    const bool broadcast_tile = node.string_attr("broadcast", "") == "tile";
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t j = 0; j < a.tiles; ++j) {
        const Step compare = b ? Step::with_vector(op, b->at(b->rows == 1 ? 0 : m, broadcast_tile ? 0 : j))
                               : Step::with_immediate(op, node.float_attr("immediate", 0.0));
        out.ready_at(m, j) =
            chains_.mem_to_mem(a.at(m, j), {compare, Step{Opcode::Cvt, DType::Int8, DType::Fp32}}, out.at(m, j), Cycle(0));
      }
    finish_node(node, out);
  }

  /// Row slices and row concatenations are views: no data moves.
  void lower_row_view(const Node& node) {
    if (node.kind == OpKind::Slice && node.int_attr("axis", 0) != 0)
      throw std::logic_error("lowering: a lane slice must be decomposed into a matmul");
    std::vector<std::pair<const Act*, std::pair<std::int64_t, std::int64_t>>> parts;
    if (node.kind == OpKind::Slice) {
      parts.push_back({&memory_.act(node.inputs[0]), {node.int_attr("begin", 0), node.int_attr("end", 0)}});
    } else {
      for (int in : node.inputs) parts.push_back({&memory_.act(in), {0, memory_.act(in).rows}});
    }
    Act view;
    view.cols = parts[0].first->cols;
    view.tiles = parts[0].first->tiles;
    for (const auto& [src, range] : parts)
      for (std::int64_t m = range.first; m < range.second; ++m)
        for (std::int64_t j = 0; j < view.tiles; ++j) {
          view.homes.push_back(src->homes[static_cast<std::size_t>(m * src->tiles + j)]);
          view.ready.push_back(src->ready[static_cast<std::size_t>(m * src->tiles + j)]);
        }
    view.rows = static_cast<std::int64_t>(view.homes.size()) / view.tiles;
    memory_.set_view(node.outputs[0], std::move(view));
    finish_node(node, memory_.act(node.outputs[0]));
  }

  /// Lanes moved within tiles on the SXM (rotate-half of rope); output tile j is placed on
  /// the side of its source tile, whose edge the SXM is at.
  using Epilogue = std::function<std::vector<Step>(std::int64_t m, std::int64_t n)>;
  const Act& lower_permute_lanes(const Node& node, int output, const Epilogue& epilogue) {
    const Act& x = memory_.act(node.inputs[0]);
    const auto& map = g_.values.at(node.string_attr("lane_map", ""));
    const std::int64_t offset = node.int_attr("tile_offset", 0);
    const int lanes = memory_.lanes();
    auto source_tile = [&](std::int64_t j) { return std::clamp<std::int64_t>(j + offset, 0, x.tiles - 1); };
    std::vector<int> tile_quads;
    for (std::int64_t j = 0; j < x.tiles; ++j)
      tile_quads.push_back(memory_.pick_quad(memory_.quad(x.at(0, source_tile(j)).quad)[0].hemisphere));
    Act& out = memory_.make_act(output, x.rows, x.cols, std::nullopt, tile_quads);
    for (std::int64_t j = 0; j < x.tiles; ++j) {
      std::vector<int> tile_map(static_cast<std::size_t>(lanes));
      for (int i = 0; i < lanes; ++i) tile_map[static_cast<std::size_t>(i)] = static_cast<int>(map[static_cast<std::size_t>(j * lanes + i)]);
      const std::string name = sxm_.lane_map(tile_map, fmt::format("{} tile {}", node.name, j));
      for (std::int64_t m = 0; m < x.rows; ++m)
        out.ready_at(m, j) = sxm_.permute(x.at(m, source_tile(j)), name, out.at(m, j),
                                          epilogue ? epilogue(m, j) : std::vector<Step>{});
    }
    return out;
  }

  /// Writes src's rows into a state tensor (the KV cache) from row attr "row".
  void lower_assign(const Node& node) {
    memory_.vector_constant(node.inputs[0]);
    Act& dst = memory_.mutable_act(node.inputs[0]);
    const Act& src = memory_.act(node.inputs[1]);
    const std::int64_t row = node.int_attr("row", 0);
    Cycle end{0};
    for (std::int64_t m = 0; m < src.rows; ++m)
      for (std::int64_t j = 0; j < src.tiles; ++j) {
        // Readers of the old contents must be done: the cache rows written here are new.
        const VecHome to = dst.at(row + m, j);
        const Cycle ready = chains_.mem_to_mem(src.at(m, j), {Step{Opcode::Mov}}, to, to.ready);
        dst.ready_at(row + m, j) = ready;
        end = std::max(end, ready);
      }
    stats_.note_node_end(node, end.value());
  }

  /// Sum or max over rows: a pairwise tree on the VXM, each op combining two vectors.
  void lower_reduce_rows(const Node& node) {
    const Act& a = memory_.act(node.inputs[0]);
    Act& out = memory_.make_act(node.outputs[0], 1, a.cols);
    const Opcode op = node.kind == OpKind::SumRows ? Opcode::Add : Opcode::Max;
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      std::vector<VecHome> level;
      for (std::int64_t m = 0; m < a.rows; ++m) level.push_back(a.at(m, j));
      if (level.size() == 1) {  // a copy
        out.ready_at(0, j) = chains_.mem_to_mem(level[0], {Step{Opcode::Mov}}, out.at(0, j), Cycle(0));
        continue;
      }
      while (level.size() > 1) {
        std::vector<VecHome> next;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
          VecHome dest;
          if (level.size() == 2) {
            dest = out.at(0, j);
          } else {
            dest = memory_.alloc_temporary(fmt::format("a partial result of '{}'", node.name));
          }
          dest.ready = chains_.mem_to_mem(level[i], {Step::with_vector(op, level[i + 1])}, dest, Cycle(0));
          if (level.size() != 2) memory_.set_temporary_ready(dest);
          next.push_back(dest);
        }
        if (level.size() % 2 == 1) next.push_back(level.back());
        level = std::move(next);
      }
      out.ready_at(0, j) = level[0].ready;
    }
    finish_node(node, out);
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
  std::map<std::int64_t, VecHome> padding_ones_;
};

}  // namespace

LoweredProgram lower_graph(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options) {
  return Lowerer(graph, chip, options).run();
}

}  // namespace lpusim
