// fuse_pointwise: lets results flow from one unit to the next on streams instead of through
// MEM. A run of nodes marked fuse_into_next is lowered as one VXM chain: a matmul's
// results pass through the pointwise ops on their way from the MXM to MEM (an epilogue), and
// a pointwise op's result feeds the next pointwise op's ALU directly. Values stay fp32 on the
// streams, exactly as they would in MEM, so fusion changes cycles, never values.
#include <algorithm>
#include <vector>

#include "compiler/passes/passes.hpp"

namespace lpusim {

namespace {

/// Pointwise ops cost one VXM instruction per vector and can take a streamed first operand.
bool is_pointwise(OpKind k) {
  switch (k) {
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min: case OpKind::Neg:
    case OpKind::Exp: case OpKind::Exp2: case OpKind::Rsqrt: case OpKind::Tanh: case OpKind::Relu: case OpKind::Scale:
      return true;
    default:
      return false;
  }
}

bool is_commutative(OpKind k) {
  return k == OpKind::Add || k == OpKind::Mul || k == OpKind::Max || k == OpKind::Min;
}

// A chain longer than this ties up streams and ALUs for long enough that splitting it
// schedules no worse; the VXM has 16 ALUs per lane in any case.
constexpr int kMaxFusedOps = 6;

}  // namespace

bool is_fusable_pointwise(OpKind kind) { return is_pointwise(kind); }

Graph fuse_pointwise(Graph g) {
  std::vector<int> readers(g.tensors.size(), 0);
  for (const auto& n : g.nodes)
    for (int t : n.inputs) ++readers[static_cast<std::size_t>(t)];
  auto shape_of = [&](int t) { return g.tensors[static_cast<std::size_t>(t)].shape; };

  for (std::size_t head = 0; head < g.nodes.size(); ++head) {
    // Heads: a matmul (its results leave the MXM), an SXM lane move, or a pointwise op.
    const OpKind head_kind = g.nodes[head].kind;
    if (head_kind != OpKind::MatMul && head_kind != OpKind::PermuteLanes && !is_pointwise(head_kind)) continue;
    std::size_t tail = head;
    int fused = 0;
    while (fused < kMaxFusedOps) {
      const int t = g.nodes[tail].outputs[0];
      if (g.tensors[static_cast<std::size_t>(t)].role != TensorRole::Intermediate) break;
      // The one reader, and whether it can be moved right after the tail: nothing it reads
      // may be computed after the head, and it may not pass a state write (KV cache).
      std::size_t c = tail + 1;
      bool passes_assign = false;
      for (; c < g.nodes.size(); ++c) {
        const auto& ins = g.nodes[c].inputs;
        if (std::find(ins.begin(), ins.end(), t) != ins.end()) break;
        passes_assign = passes_assign || g.nodes[c].kind == OpKind::Assign;
      }
      if (c == g.nodes.size() || passes_assign) break;
      Node consumer = g.nodes[c];
      // Every read of t must be this consumer's (x * x reads it twice, from the same streams).
      if (readers[static_cast<std::size_t>(t)] != static_cast<int>(std::count(consumer.inputs.begin(), consumer.inputs.end(), t)))
        break;
      if (!is_pointwise(consumer.kind) || consumer.outputs.size() != 1 || shape_of(consumer.outputs[0]) != shape_of(t)) break;
      const bool squares = consumer.inputs.size() > 1 && consumer.inputs[0] == t && consumer.inputs[1] == t;
      if (consumer.inputs.size() > 1 && !squares) {
        if (consumer.inputs[0] != t) {
          if (!is_commutative(consumer.kind) || shape_of(consumer.inputs[0]) != shape_of(t)) break;
          std::swap(consumer.inputs[0], consumer.inputs[1]);
        }
        const int other = consumer.inputs[1];
        bool computed_late = false;
        for (std::size_t k = head; k < c && !computed_late; ++k)
          for (int out : g.nodes[k].outputs) computed_late = computed_late || out == other;
        if (computed_late) break;
      }
      g.nodes[tail].fuse_into_next = true;
      g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(c));
      g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(tail + 1), std::move(consumer));
      ++tail;
      ++fused;
    }
    head = tail;
  }
  return g;
}

}  // namespace lpusim
