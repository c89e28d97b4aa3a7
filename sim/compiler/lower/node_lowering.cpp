#include "compiler/lower/node_lowering.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

void NodeLowering::lower(std::size_t first, std::size_t last) {
  if (last == first) lower_node(g_.nodes[first]);
  else lower_fused_run(first, last);
}

void NodeLowering::lower_node(const Node& node) {
  switch (node.kind) {
    case OpKind::MatMul: finish_node(node, matmuls_.lower(node, node.outputs[0], MatmulSchedule::Epilogue{})); return;
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
    case OpKind::PermuteLanes: finish_node(node, lower_permute_lanes(node, node.outputs[0], MatmulSchedule::Epilogue{})); return;
    case OpKind::AllReduce: case OpKind::Send: case OpKind::Recv:
      throw InputError(fmt::format("{}: node '{}': a {} needs a system of chips to run on (a partitioned model "
                                   "compiles for a system: lpusim verify/estimate --tp/--pp)",
                                   g_.file, node.name, op_name(node.kind)));
    default:
      throw InputError(fmt::format("{}: node '{}': op {} reached lowering undecomposed (a compiler bug)", g_.file,
                                   node.name, op_name(node.kind)));
  }
}

Opcode NodeLowering::vxm_opcode(OpKind k) {
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

void NodeLowering::finish_node(const Node& node, const Act& out) {
  Cycle end{0};
  for (auto r : out.ready) end = std::max(end, r);
  stats_.note_node_end(node, end.value());
}

/// The steps of a pointwise node. Lanes past a tensor's width hold 0, and rsqrt(0) = inf
/// would reach the next matmul as inf x 0 = NaN; so on a tile with such lanes, rsqrt is
/// preceded by adding a vector that is 0 on the tensor's lanes (exact) and 1 past them.
void NodeLowering::append_pointwise(std::vector<Step>& steps, const Node& node, std::int64_t m, std::int64_t j,
                                    bool streamed, std::int64_t cols, const Burst& burst) {
  const std::int64_t valid = cols - j * memory_.lanes();
  if (node.kind == OpKind::Rsqrt && valid < memory_.lanes())
    steps.push_back(Step::with_vector(Opcode::Add, padding_ones(valid), 0));
  steps.push_back(pointwise_step(node, m, j, streamed, burst));
}

bool NodeLowering::operand_breaks(const Node& node, std::int64_t m, std::int64_t j) {
  if (node.inputs.size() < 2 || node.inputs[1] == node.inputs[0] || node.kind == OpKind::Scale) return false;
  const Act& b = memory_.act(node.inputs[1]);
  if (b.rows == 1) return false;  // the same row for every row: stride 0
  return !b.consecutive(m - 1, 2, node.string_attr("broadcast", "") == "tile" ? 0 : j);
}

std::vector<std::vector<NodeLowering::Run>> NodeLowering::row_runs(const Act& a, std::size_t first, std::size_t last) {
  std::vector<std::vector<Run>> runs(static_cast<std::size_t>(a.tiles));
  const std::int64_t max_burst = std::max<std::int64_t>(1, max_burst_rows_);
  for (std::int64_t j = 0; j < a.tiles; ++j) {
    auto& tile = runs[static_cast<std::size_t>(j)];
    for (std::int64_t m = 0; m < a.rows; ++m) {
      bool extend = !tile.empty() && tile.back().count < max_burst && a.consecutive(m - 1, 2, j);
      for (std::size_t k = first; extend && k <= last; ++k) extend = !operand_breaks(g_.nodes[k], m, j);
      if (extend) ++tile.back().count;
      else tile.push_back(Run{m, 1});
    }
  }
  return runs;
}

void NodeLowering::for_each_run(const std::vector<std::vector<Run>>& runs,
                                const std::function<void(std::int64_t j, const Run& run)>& body) {
  // Round robin over the tiles (with one-row runs: row by row, tile by tile).
  for (std::size_t r = 0;; ++r) {
    bool any = false;
    for (std::size_t j = 0; j < runs.size(); ++j)
      if (r < runs[j].size()) {
        any = true;
        body(static_cast<std::int64_t>(j), runs[j][r]);
      }
    if (!any) return;
  }
}

/// A constant vector: 0 on the first `valid` lanes, 1 on the others.
VecHome NodeLowering::padding_ones(std::int64_t valid) {
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

/// The VXM step of a pointwise node for row m, tile j of its result; its first operand is
/// the node's first input (or the previous step of a chain).
/// `streamed`: the first operand arrives on streams from the previous step of a fused run,
/// so an op on that value with itself (x * x) takes it twice from the same streams.
Step NodeLowering::pointwise_step(const Node& node, std::int64_t m, std::int64_t j, bool streamed, const Burst& burst) {
  const Opcode op = vxm_opcode(node.kind);
  if (node.kind == OpKind::Scale) return Step::with_immediate(op, node.float_attr("value", 1.0));
  if (streamed && node.inputs.size() > 1 && node.inputs[1] == node.inputs[0]) {
    Step s{op};
    s.b.kind = StepOperand::Kind::SameAsFirst;
    return s;
  }
  if (node.inputs.size() > 1) {
    const Act& b = memory_.act(node.inputs[1]);
    const std::int64_t tile = node.string_attr("broadcast", "") == "tile" ? 0 : j;
    if (b.rows == 1) return Step::with_vector(op, b.at(0, tile), 0);
    return Step::with_vector(op, b.burst_at(m, tile, burst), 1);
  }
  if (node.kind == OpKind::Add || node.kind == OpKind::Sub || node.kind == OpKind::Mul || node.kind == OpKind::Max ||
      node.kind == OpKind::Min)
    return Step::with_immediate(op, node.float_attr("immediate", 0.0));
  return Step{op};
}

/// Pointwise nodes [first, last] of the graph (a single node, or a fused run whose each
/// node reads the previous one's result), as one MEM -> VXM chain -> MEM per vector.
void NodeLowering::place_chain_run(const Act& a, Act& out, std::int64_t j, std::int64_t m, std::int64_t count,
                                   const StepsFor& steps_for) {
  const Burst burst{count, 1};
  const std::vector<Step> steps = steps_for(m, burst);
  std::optional<Cycle> ready;
  if (count == 1) {
    ready = chains_.mem_to_mem(a.burst_at(m, j, burst), steps, out.at(m, j), Cycle(0), burst);
  } else {
    ready = chains_.try_mem_to_mem(a.burst_at(m, j, burst), steps, out.at(m, j), Cycle(0), burst, 1,
                                   burst_search_window(burst));
    if (!ready) {  // no room for the whole burst: its halves on their own
      place_chain_run(a, out, j, m, count / 2, steps_for);
      place_chain_run(a, out, j, m + count / 2, count - count / 2, steps_for);
      return;
    }
  }
  for (std::int64_t k = 0; k < count; ++k) out.ready_at(m + k, j) = *ready + Cycle(k);
}

std::vector<int> NodeLowering::result_quads(const Act& a, std::size_t first, std::size_t last) {
  std::vector<int> quads;
  for (std::int64_t j = 0; j < a.tiles; ++j) {
    // Not a quad the tile's operands are read from: a burst would hold its queues twice.
    std::vector<int> avoid = a.tile_quads(j);
    for (std::size_t k = first; k <= last; ++k) {
      const Node& n = g_.nodes[k];
      if (n.inputs.size() < 2 || n.kind == OpKind::Scale || n.inputs[1] == n.inputs[0]) continue;
      const Act& b = memory_.act(n.inputs[1]);
      for (int q : b.tile_quads(std::min(n.string_attr("broadcast", "") == "tile" ? 0 : j, b.tiles - 1))) avoid.push_back(q);
    }
    quads.push_back(memory_.pick_quad(std::nullopt, max_burst_rows_ > 1 ? avoid : std::vector<int>{}));
  }
  return quads;
}

void NodeLowering::lower_pointwise(std::size_t first, std::size_t last) {
  const Act& a = memory_.act(g_.nodes[first].inputs[0]);
  for (std::size_t k = first; k <= last; ++k)
    if (g_.nodes[k].inputs.size() > 1 && (k == first || g_.nodes[k].inputs[1] != g_.nodes[k].inputs[0]))
      memory_.act(g_.nodes[k].inputs[1]);  // places constants in order
  Act& out = memory_.make_act(g_.nodes[last].outputs[0], a.rows, a.cols, std::nullopt, result_quads(a, first, last));
  for_each_run(row_runs(a, first, last), [&](std::int64_t j, const Run& run) {
    place_chain_run(a, out, j, run.m, run.count, [&](std::int64_t m, const Burst& burst) {
      std::vector<Step> steps;
      for (std::size_t k = first; k <= last; ++k) append_pointwise(steps, g_.nodes[k], m, j, k > first, a.cols, burst);
      return steps;
    });
  });
  for (std::size_t k = first; k <= last; ++k) finish_node(g_.nodes[k], out);
}

/// A fused run: a matmul whose results pass through the run's pointwise ops on their way
/// from the MXM to MEM, or a chain of pointwise ops.
void NodeLowering::lower_fused_run(std::size_t first, std::size_t last) {
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
  MatmulSchedule::Epilogue epilogue;
  epilogue.steps = [&](std::int64_t m, std::int64_t n, const Burst& burst) {
    std::vector<Step> steps;
    for (std::size_t k = first + 1; k <= last; ++k) append_pointwise(steps, g_.nodes[k], m, n, true, head_cols, burst);
    return steps;
  };
  epilogue.breaks_before = [&](std::int64_t m, std::int64_t n) {
    for (std::size_t k = first + 1; k <= last; ++k)
      if (operand_breaks(g_.nodes[k], m, n)) return true;
    return false;
  };
  const int output = g_.nodes[last].outputs[0];
  const Act& out = head.kind == OpKind::MatMul ? matmuls_.lower(head, output, epilogue)
                                               : lower_permute_lanes(head, output, epilogue);
  for (std::size_t k = first; k <= last; ++k) finish_node(g_.nodes[k], out);
}

/// a > b (or >=) as 1.0 / 0.0: the VXM compare gives an int8 0/1 mask, cvt makes it fp32.
void NodeLowering::lower_compare(const Node& node) {
  const Act& a = memory_.act(node.inputs[0]);
  const Act* b = node.inputs.size() > 1 ? &memory_.act(node.inputs[1]) : nullptr;
  const auto index = static_cast<std::size_t>(&node - g_.nodes.data());
  Act& out = memory_.make_act(node.outputs[0], a.rows, a.cols, std::nullopt, result_quads(a, index, index));
  const Opcode op = node.kind == OpKind::Greater ? Opcode::CmpGt : Opcode::CmpGe;
  const bool broadcast_tile = node.string_attr("broadcast", "") == "tile";
  for_each_run(row_runs(a, index, index), [&](std::int64_t j, const Run& run) {
    place_chain_run(a, out, j, run.m, run.count, [&](std::int64_t m, const Burst& burst) {
      const std::int64_t tile = broadcast_tile ? 0 : j;
      const Step compare = !b ? Step::with_immediate(op, node.float_attr("immediate", 0.0))
                           : b->rows == 1 ? Step::with_vector(op, b->at(0, tile), 0)
                                          : Step::with_vector(op, b->burst_at(m, tile, burst), 1);
      return std::vector<Step>{compare, Step{Opcode::Cvt, DType::Int8, DType::Fp32}};
    });
  });
  finish_node(node, out);
}

/// Row slices and row concatenations are views: no data moves. So are slices and
/// concatenations along lanes of whole tiles (decompose's attention makes them).
void NodeLowering::lower_row_view(const Node& node) {
  const int lanes = memory_.lanes();
  if (node.int_attr("axis", 0) == 1) {
    Act view;
    std::vector<std::pair<const Act*, std::pair<std::int64_t, std::int64_t>>> parts;  // source, its tiles [first, end)
    if (node.kind == OpKind::Slice) {
      const Act& src = memory_.act(node.inputs[0]);
      const std::int64_t begin = node.int_attr("begin", 0), end = node.int_attr("end", 0);
      if (begin % lanes != 0 || (end % lanes != 0 && end != src.cols))
        throw std::logic_error(fmt::format("lowering: lane slice [{}, {}) of '{}' is not of whole tiles", begin, end, node.name));
      parts.push_back({&src, {begin / lanes, (end + lanes - 1) / lanes}});
      view.cols = end - begin;
    } else {
      for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        const Act& src = memory_.act(node.inputs[i]);
        if (i + 1 < node.inputs.size() && src.cols % lanes != 0)
          throw std::logic_error(fmt::format("lowering: lane concat '{}' of parts that are not whole tiles", node.name));
        parts.push_back({&src, {0, src.tiles}});
        view.cols += src.cols;
      }
    }
    view.rows = parts[0].first->rows;
    view.tiles = (view.cols + lanes - 1) / lanes;
    for (std::int64_t m = 0; m < view.rows; ++m)
      for (const auto& [src, range] : parts)
        for (std::int64_t j = range.first; j < range.second; ++j) {
          view.homes.push_back(src->homes[static_cast<std::size_t>(m * src->tiles + j)]);
          view.ready.push_back(src->ready[static_cast<std::size_t>(m * src->tiles + j)]);
        }
    memory_.set_view(node.outputs[0], std::move(view));
    finish_node(node, memory_.act(node.outputs[0]));
    return;
  }
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
const Act& NodeLowering::lower_permute_lanes(const Node& node, int output, const MatmulSchedule::Epilogue& epilogue) {
  const Act& x = memory_.act(node.inputs[0]);
  const auto& map = g_.values.at(node.string_attr("lane_map", ""));
  const std::int64_t offset = node.int_attr("tile_offset", 0);
  const int lanes = memory_.lanes();
  auto source_tile = [&](std::int64_t j) { return std::clamp<std::int64_t>(j + offset, 0, x.tiles - 1); };
  std::vector<int> tile_quads;
  for (std::int64_t j = 0; j < x.tiles; ++j)
    tile_quads.push_back(memory_.pick_quad(memory_.quad(x.at(0, source_tile(j)).quad)[0].hemisphere,
                                           max_burst_rows_ > 1 ? x.tile_quads(source_tile(j)) : std::vector<int>{}));
  Act& out = memory_.make_act(output, x.rows, x.cols, std::nullopt, tile_quads);
  const std::int64_t max_burst = std::max<std::int64_t>(1, max_burst_rows_);
  for (std::int64_t j = 0; j < x.tiles; ++j) {
    std::vector<int> tile_map(static_cast<std::size_t>(lanes));
    for (int i = 0; i < lanes; ++i) tile_map[static_cast<std::size_t>(i)] = static_cast<int>(map[static_cast<std::size_t>(j * lanes + i)]);
    const std::string name = sxm_.lane_map(tile_map, fmt::format("{} tile {}", node.name, j));
    const std::int64_t src = source_tile(j);
    for (std::int64_t m = 0; m < x.rows;) {
      std::int64_t count = 1;
      while (m + count < x.rows && count < max_burst && x.consecutive(m + count - 1, 2, src) &&
             !(epilogue && epilogue.breaks_before(m + count, j)))
        ++count;
      std::function<void(std::int64_t, std::int64_t)> place = [&](std::int64_t first, std::int64_t rows) {
        const Burst burst{rows, 1};
        const std::vector<Step> post = epilogue ? epilogue.steps(first, j, burst) : std::vector<Step>{};
        const auto ready = rows == 1 ? std::optional<Cycle>(sxm_.permute(x.burst_at(first, src, burst), name,
                                                                          out.at(first, j), post, burst))
                                     : sxm_.try_permute(x.burst_at(first, src, burst), name, out.at(first, j), post,
                                                        burst, burst_search_window(burst));
        if (!ready) {  // no room for the whole burst: its halves on their own
          place(first, rows / 2);
          place(first + rows / 2, rows - rows / 2);
          return;
        }
        for (std::int64_t k = 0; k < rows; ++k) out.ready_at(first + k, j) = *ready + Cycle(k);
      };
      place(m, count);
      m += count;
    }
  }
  return out;
}

/// Writes src's rows into a state tensor (the KV cache) from row attr "row".
void NodeLowering::lower_assign(const Node& node) {
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
void NodeLowering::lower_reduce_rows(const Node& node) {
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


}  // namespace lpusim
