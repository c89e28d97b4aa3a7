#include <fmt/format.h>

#include "compiler/passes/passes.hpp"
#include "arch/core/error.hpp"

namespace lpusim {

namespace {
std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}
std::pair<std::int64_t, std::int64_t> as_matrix(const std::vector<std::int64_t>& s) {
  return s.size() == 1 ? std::make_pair<std::int64_t, std::int64_t>(1, std::int64_t{s[0]}) : std::make_pair(s[0], s[1]);
}
}  // namespace

void infer_shapes(Graph& g) {
  for (const auto& node : g.nodes) {
    auto shape = [&](std::size_t i) -> const std::vector<std::int64_t>& {
      return g.tensors[static_cast<std::size_t>(node.inputs[i])].shape;
    };
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}: node '{}' ({}): {}", g.file.empty() ? g.name : g.file, node.name, op_name(node.kind), what));
    };
    std::vector<std::int64_t> out;
    switch (node.kind) {
      case OpKind::MatMul: {
        const auto [m, k] = as_matrix(shape(0));
        const auto [wr, wc] = as_matrix(shape(1));
        const bool transpose = node.int_attr("transpose_w", 0) != 0;
        const std::int64_t wk = transpose ? wc : wr, n = transpose ? wr : wc;
        if (k != wk) fail(fmt::format("inner dimensions differ: {} x {}{}", shape_text(shape(0)), shape_text(shape(1)),
                                      transpose ? " (transposed)" : ""));
        out = {m, n};
        break;
      }
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min:
      case OpKind::Greater: case OpKind::GreaterEqual: {
        out = shape(0);
        if (node.inputs.size() > 1) {
          const auto [am, an] = as_matrix(shape(0));
          const auto [bm, bn] = as_matrix(shape(1));
          const bool tile = node.string_attr("broadcast", "") == "tile" && bn == 320 && (bm == am || bm == 1);
          if (!tile && !(bn == an && (bm == am || bm == 1)))
            fail(fmt::format("cannot broadcast {} onto {} (expected the same shape or one row of {})", shape_text(shape(1)),
                             shape_text(shape(0)), an));
        }
        break;
      }
      case OpKind::LayerNorm: case OpKind::RmsNorm: {
        out = shape(0);
        auto [m, n] = as_matrix(shape(0));
        (void)m;
        // RmsNorm attr "group" = G: each run of G lanes is normalised on its own (per-head
        // q/k norms) and the gamma is [G], shared by every group.
        if (const std::int64_t group = node.int_attr("group", 0); node.kind == OpKind::RmsNorm && group > 0) {
          if (n % group != 0) fail(fmt::format("group {} does not divide the {} lanes", group, n));
          n = group;
        }
        for (std::size_t i = 1; i < node.inputs.size(); ++i)
          if (as_matrix(shape(i)).second != n || as_matrix(shape(i)).first != 1)
            fail(fmt::format("parameter {} must be [{}], got {}", i, n, shape_text(shape(i))));
        break;
      }
      case OpKind::Concat: {
        const auto axis = node.int_attr("axis", 1);
        if (axis != 0 && axis != 1) fail(fmt::format("axis must be 0 or 1, got {}", axis));
        auto [m, n] = as_matrix(shape(0));
        for (std::size_t i = 1; i < node.inputs.size(); ++i) {
          const auto [mi, ni] = as_matrix(shape(i));
          if (axis == 0 ? ni != n : mi != m) fail(fmt::format("input {} has shape {}, which does not concatenate along axis {}", i, shape_text(shape(i)), axis));
          (axis == 0 ? m : n) += axis == 0 ? mi : ni;
        }
        out = {m, n};
        break;
      }
      case OpKind::Slice: {
        const auto axis = node.int_attr("axis", 0);
        const auto [m, n] = as_matrix(shape(0));
        const auto dim = axis == 0 ? m : n;
        const auto begin = node.int_attr("begin", 0), end = node.int_attr("end", dim);
        if (axis != 0 && axis != 1) fail(fmt::format("axis must be 0 or 1, got {}", axis));
        if (begin < 0 || end > dim || begin >= end) fail(fmt::format("slice [{}, {}) is outside [0, {})", begin, end, dim));
        out = axis == 0 ? std::vector<std::int64_t>{end - begin, n} : std::vector<std::int64_t>{m, end - begin};
        break;
      }
      case OpKind::Transpose: {
        const auto [m, n] = as_matrix(shape(0));
        out = {n, m};
        break;
      }
      case OpKind::Gather: {
        const auto [v, n] = as_matrix(shape(0));
        (void)v;
        out = {as_matrix(shape(1)).second, n};
        break;
      }
      case OpKind::SumRows: case OpKind::MaxRows: out = {1, as_matrix(shape(0)).second}; break;
      case OpKind::Assign: case OpKind::Send: break;
      case OpKind::Recv: continue;  // its output keeps the shape the partition gave it
      case OpKind::Rope: {
        const auto hd = node.int_attr("head_dim", 0);
        if (hd <= 0 || hd % 2 || as_matrix(shape(0)).second % hd)
          fail(fmt::format("head_dim {} must be even and divide the width {}", hd, as_matrix(shape(0)).second));
        out = shape(0);
        break;
      }
      default: out = shape(0); break;
    }
    for (int o : node.outputs) g.tensors[static_cast<std::size_t>(o)].shape = out;
  }
}

}  // namespace lpusim
