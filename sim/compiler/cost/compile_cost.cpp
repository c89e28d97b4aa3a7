#include "compiler/cost/compile_cost.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <functional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "compiler/lower/lifetimes.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

namespace {

// The lowering's layout (sim/compiler/lower/memory_plan.hpp): 16 weight slices per MXM
// plane, 4 planes; activations in 6 quads of 4 slices.
constexpr std::int64_t kWeightSlicesPerPlane = 16;
constexpr std::int64_t kPlanes = 4;
constexpr std::int64_t kQuads = 6;

constexpr std::int64_t kSaturated = std::numeric_limits<std::int64_t>::max() / 4;

std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  return checked_add(a, b, r) && r < kSaturated ? r : kSaturated;
}
std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  return checked_mul(a, b, r) && r < kSaturated ? r : kSaturated;
}
std::uint64_t to_bytes(std::int64_t v) { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, v)); }

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::pair<std::int64_t, std::int64_t> matrix(const Graph& g, int tensor) {
  const auto& s = g.tensors[static_cast<std::size_t>(tensor)].shape;
  if (s.empty()) return {0, 0};
  if (s.size() == 1) return {1, s[0]};
  return {s[0], s[1]};
}

std::int64_t elements(const Graph& g, int tensor) {
  const auto [r, c] = matrix(g, tensor);
  return sat_mul(r, c);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return !prefix.empty() && s.compare(0, prefix.size(), prefix) == 0;
}

/// Counts a tensor or node once, or a prefix's `times` when its name has that prefix.
struct Repeat {
  const std::vector<LayerRepeat>& prefixes;
  std::int64_t of(const std::string& name) const {
    for (const auto& p : prefixes)
      if (starts_with(name, p.prefix)) return p.times;
    return 1;
  }
  std::int64_t most() const {
    std::int64_t m = 1;
    for (const auto& p : prefixes) m = std::max(m, p.times);
    return m;
  }
};

/// Tensors some node other than a Gather reads (the gathers run on the host).
std::vector<bool> tensors_read_on_chip(const Graph& g) {
  std::vector<bool> read(g.tensors.size(), false);
  for (const Node& node : g.nodes)
    if (node.kind != OpKind::Gather)
      for (int t : node.inputs) read[static_cast<std::size_t>(t)] = true;
  return read;
}

}  // namespace

std::int64_t weight_block_words(std::int64_t k_rows, std::int64_t n_cols, std::int64_t lanes, bool one_byte) {
  const std::int64_t rows_per_lw = one_byte ? kWeightSlicesPerPlane : kWeightSlicesPerPlane / 2;
  const std::int64_t full = n_cols / lanes, rest = n_cols % lanes;
  const std::int64_t per_k_tile = sat_add(sat_mul(full, ceil_div(lanes, rows_per_lw)), rest ? ceil_div(rest, rows_per_lw) : 0);
  return sat_mul(ceil_div(k_rows, lanes), per_k_tile);
}

namespace {

std::int64_t block_words(std::int64_t k_rows, std::int64_t n_cols, std::int64_t lanes, bool one_byte) {
  return weight_block_words(k_rows, n_cols, lanes, one_byte);
}

bool one_byte(WeightType t) { return weight_type_bytes(t) == 1; }

/// Words per weight slice of one full output tile of a [k_rows, n_cols] weight: its input
/// tiles' blocks, each lw words of 16 one-byte or 8 fp16 rows.
std::int64_t tile_words(std::int64_t k_rows, std::int64_t n_cols, std::int64_t lanes, bool one_byte) {
  const std::int64_t rows_per_lw = one_byte ? kWeightSlicesPerPlane : kWeightSlicesPerPlane / 2;
  return sat_mul(ceil_div(k_rows, lanes), ceil_div(std::min(lanes, n_cols), rows_per_lw));
}

/// Block words of a constant matrix with its all-zero blocks skipped, as the lowering does.
std::int64_t constant_block_words(const std::vector<float>& w, std::int64_t k_rows, std::int64_t n_cols, bool transpose,
                                  std::int64_t lanes, bool one_byte) {
  const std::int64_t rows_per_lw = one_byte ? kWeightSlicesPerPlane : kWeightSlicesPerPlane / 2;
  if (static_cast<std::int64_t>(w.size()) != k_rows * n_cols) return block_words(k_rows, n_cols, lanes, one_byte);
  const std::int64_t k_tiles = ceil_div(k_rows, lanes), n_tiles = ceil_div(n_cols, lanes);
  std::vector<char> nonzero(static_cast<std::size_t>(k_tiles * n_tiles), 0);
  // In memory order (w is outer x inner: k x n, or n x k transposed), one tile's run of a
  // row at a time, skipping runs of tiles already known to hold a non-zero: a decompose
  // constant can be millions of values, costed again for every chip compiled.
  const std::int64_t outer_count = transpose ? n_cols : k_rows, inner_count = transpose ? k_rows : n_cols;
  for (std::int64_t outer = 0; outer < outer_count; ++outer) {
    const float* row = w.data() + outer * inner_count;
    for (std::int64_t begin = 0; begin < inner_count; begin += lanes) {
      const std::int64_t k = transpose ? begin : outer, n = transpose ? outer : begin;
      char& tile = nonzero[static_cast<std::size_t>((k / lanes) * n_tiles + n / lanes)];
      if (tile) continue;
      const std::int64_t end = std::min(inner_count, begin + lanes);
      tile = std::any_of(row + begin, row + end, [](float v) { return v != 0.0f; }) ? 1 : 0;
    }
  }
  std::int64_t words = 0;
  for (std::int64_t kt = 0; kt < k_tiles; ++kt)
    for (std::int64_t nt = 0; nt < n_tiles; ++nt)
      if (nonzero[static_cast<std::size_t>(kt * n_tiles + nt)])
        words += ceil_div(std::min(lanes, n_cols - nt * lanes), rows_per_lw);
  return words;
}

/// Host bytes of the constant matrices decompose makes for one high-level node, keyed so that
/// constants it shares between nodes (by shape) count once. Mirrors sim/compiler/passes/
/// decompose.cpp: what is large there is here (routing E^3, rotations N^2, placements).
void decompose_constants(const Graph& g, const Node& node, std::int64_t times,
                         std::map<std::string, std::int64_t>& shared, std::int64_t& own) {
  auto share = [&](const std::string& key, std::int64_t n) { shared[key] = n; };
  const auto [rows, cols] = node.inputs.empty() ? std::make_pair<std::int64_t, std::int64_t>(0, 0) : matrix(g, node.inputs[0]);
  const std::int64_t lanes = 320;
  switch (node.kind) {
    case OpKind::LayerNorm: case OpKind::RmsNorm: {
      const std::int64_t group = node.kind == OpKind::RmsNorm ? node.int_attr("group", 0) : 0;
      if (group > 0 && group < cols) {
        // Per-head norms (qwen3, gemma3 q/k): group sums [W, W/G] and their expansion
        // [W/G, W], shared by shape; the gamma tiled over the row [W], per node.
        share(fmt::format("group_sum_{}_{}", cols, group), sat_mul(cols, cols / group));
        share(fmt::format("group_expand_{}_{}", cols, group), sat_mul(cols / group, cols));
        own = sat_add(own, sat_mul(times, cols));
      } else {
        share(fmt::format("ones_{}", cols), sat_mul(cols, lanes));
      }
      break;
    }
    case OpKind::Softmax:
      share(fmt::format("ones_{}", cols), sat_mul(cols, lanes));
      if (cols <= 1024)
        for (std::int64_t s = 1; s < cols; s *= 2) share(fmt::format("rotate_{}_{}", cols, s), sat_mul(cols, cols));
      break;
    case OpKind::Slice:
      if (node.int_attr("axis", 0) == 1)
        own = sat_add(own, sat_mul(times, sat_mul(cols, std::max<std::int64_t>(0, node.int_attr("end", 0) - node.int_attr("begin", 0)))));
      break;
    case OpKind::Concat:
      if (node.int_attr("axis", 1) == 1) {
        std::int64_t total = 0;
        for (int in : node.inputs) total = sat_add(total, matrix(g, in).second);
        // Placement matrices (materialised), or the matmul weight split in row parts.
        own = sat_add(own, sat_mul(times, sat_mul(total, total)));
      }
      break;
    case OpKind::Rope: case OpKind::Attention: {
      // cos and sin per row; the head reduce / expand / kv dup matrices.
      own = sat_add(own, sat_mul(times, sat_mul(4, elements(g, node.inputs[0]))));
      const std::int64_t heads = node.int_attr("heads", 0), d = node.int_attr("head_dim", 0);
      if (node.kind == OpKind::Attention) share(fmt::format("heads_{}_{}", heads, d), sat_mul(3, sat_mul(heads, sat_mul(heads, d))));
      break;
    }
    case OpKind::MoeMlp: {
      const std::int64_t e = node.int_attr("experts", 0), pairs = sat_mul(e, e);
      // Spreads [E, E^2] x 2, rank counts [E^2, E] x 2, ones [E, E], identity, ones tile,
      // one lane expansion [E, hidden] per expert.
      share(fmt::format("moe_routing_{}", e), sat_add(sat_mul(4, sat_mul(e, pairs)), sat_add(sat_mul(2, pairs), sat_mul(e, lanes))));
      share(fmt::format("moe_expand_{}_{}", e, cols), sat_mul(pairs, cols));
      break;
    }
    default: break;
  }
}

/// Issued instructions (a repeat counts as its repeats, as LoweredProgram::instructions) for
/// one primitive node, from the lowering's patterns: an fp32 vector is read or written as 4
/// byte planes (4 MEM instructions); a VXM step is one instruction per vector; a weight
/// block is 16 reads and an lw of `lws` words plus an iw; each row of each block an abc fed
/// by a read and a conversion chain; each output vector an acc, its post-processing steps
/// and a write.
std::int64_t node_instructions(const Graph& g, const Node& node, bool fused_in, std::int64_t lanes,
                               const std::function<std::int64_t(int, bool, bool)>& weight_words_of) {
  const auto [rows, cols] = node.outputs.empty() ? matrix(g, node.inputs.size() > 1 ? node.inputs[1] : node.inputs[0])
                                                 : matrix(g, node.outputs[0]);
  const std::int64_t tiles = ceil_div(cols, lanes), vectors = sat_mul(rows, tiles);
  const bool fused_out = node.fuse_into_next;
  const std::int64_t read = fused_in ? 0 : 4, write = fused_out ? 0 : 4;
  switch (node.kind) {
    case OpKind::MatMul: {
      const MatmulFormat format = matmul_format(node);
      const bool small_rows = dtype_bytes(format.weights) == 1;  // 16 rows per lw word, else 8
      const bool transpose = node.int_attr("transpose_w", 0) != 0;
      std::int64_t lw_words = 0, blocks = 0, activation_rows = 0;
      for (std::size_t i = 0; i + 1 < node.inputs.size(); i += 2) {
        const auto [wr, wc] = matrix(g, node.inputs[i + 1]);
        const std::int64_t k = transpose ? wc : wr;
        if (g.tensors[static_cast<std::size_t>(node.inputs[i + 1])].role != TensorRole::Weight) {
          // Activation weights (attention): every row of every input tile read, converted and
          // loaded on its own (4 reads, cvt, lw), no storage.
          blocks = sat_add(blocks, sat_mul(ceil_div(k, lanes), tiles));
          activation_rows = sat_add(activation_rows, sat_mul(ceil_div(k, lanes), transpose ? wr : wc));
          continue;
        }
        const std::int64_t words = weight_words_of(node.inputs[i + 1], transpose, small_rows);
        lw_words = sat_add(lw_words, words);
        // Blocks actually stored (zero blocks of constants are skipped), from their words.
        const std::int64_t per_block = small_rows ? ceil_div(std::min(lanes, cols), 16) : ceil_div(std::min(lanes, cols), 8);
        blocks = sat_add(blocks, std::min(sat_mul(ceil_div(k, lanes), tiles), ceil_div(words, std::max<std::int64_t>(1, per_block))));
      }
      // Per block: 16 reads + lw, each repeated over its words; iw. Per block row: read 4,
      // convert 1 (fp16) or scale and convert 2 (int8, fp8 native), abc. Per output vector:
      // acc, int32 -> fp32 (int8 activations), dequantise (int8 and fp8 weights), write.
      const std::int64_t per_block = 2;
      const std::int64_t per_block_row = 4 + (format.scaled_activations() ? 2 : 1) + 1;
      const std::int64_t per_vector = 1 + (format.accumulator() == DType::Int32 ? 1 : 0) + (format.scaled_weights() ? 1 : 0) +
                                      (node.int_attr("bias", -1) >= 0 ? 1 : 0) + write;
      return sat_add(sat_add(sat_add(sat_mul(17, lw_words), sat_mul(6, activation_rows)), sat_mul(blocks, per_block)),
                     sat_add(sat_mul(sat_mul(blocks, rows), per_block_row), sat_mul(vectors, per_vector)));
    }
    case OpKind::Slice: case OpKind::Concat: return 0;  // row views
    case OpKind::SumRows: case OpKind::MaxRows: {
      // A tree of binary ops over the input's rows, per tile.
      const auto [in_rows, in_cols] = matrix(g, node.inputs[0]);
      return sat_mul(sat_mul(std::max<std::int64_t>(1, in_rows), ceil_div(in_cols, lanes)), 9);
    }
    case OpKind::Assign: {
      const auto [src_rows, src_cols] = matrix(g, node.inputs[1]);
      return sat_mul(sat_mul(src_rows, ceil_div(src_cols, lanes)), 9);
    }
    default: {
      // Pointwise, compares, lane permutations: read, one or two steps, a second operand's
      // read when it has one, write.
      const std::int64_t operand = node.inputs.size() > 1 ? 4 : 0;
      const std::int64_t steps = node.kind == OpKind::Greater || node.kind == OpKind::GreaterEqual ? 2 : 1;
      return sat_mul(vectors, read + operand + steps + write);
    }
  }
}

std::string name_of(const Graph& g, const Node& node) {
  return node.outputs.empty() ? node.name : g.tensors[static_cast<std::size_t>(node.outputs[0])].name;
}

void fill_capacities(CompileCost& cost, const ChipConfig& chip) {
  cost.weight_word_capacity = kPlanes * chip.mem_slice_words;
  cost.weight_sram_bytes = sat_mul(sat_mul(cost.weight_words, kWeightSlicesPerPlane), chip.lanes());
  cost.weight_sram_capacity = sat_mul(sat_mul(cost.weight_word_capacity, kWeightSlicesPerPlane), chip.lanes());
  cost.resident_word_capacity = kQuads * chip.mem_slice_words;
  cost.words_per_slice = chip.mem_slice_words;
}

/// The intermediates' peak words and largest tile (CompileCost::peak_intermediate_words), in
/// the lowering's order. Layers run one after another, so a model costed from one layer of
/// each kind has the same peak as the whole model.
void count_intermediates(const Graph& g, std::int64_t lanes, CompileCost& cost) {
  const std::vector<std::vector<int>> release_after = release_after_nodes(g);
  std::vector<bool> view(g.tensors.size(), false);
  for (const Node& n : g.nodes)
    if ((n.kind == OpKind::Slice || n.kind == OpKind::Concat) && !n.outputs.empty())
      view[static_cast<std::size_t>(n.outputs[0])] = true;
  auto words = [&](int t) {
    const auto [r, c] = matrix(g, t);
    return sat_mul(r, ceil_div(c, lanes));
  };
  std::int64_t live = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    for (int t : g.nodes[i].outputs) {
      // A fused chain's inner results stay on the streams (fuse_pointwise: their one reader is
      // the next node).
      if (g.tensors[static_cast<std::size_t>(t)].role != TensorRole::Intermediate || view[static_cast<std::size_t>(t)] ||
          g.nodes[i].fuse_into_next)
        continue;
      live = sat_add(live, words(t));
      cost.largest_intermediate_rows = std::max(cost.largest_intermediate_rows, matrix(g, t).first);
    }
    cost.peak_intermediate_words = std::max(cost.peak_intermediate_words, live);
    for (int t : release_after[i])
      if (!view[static_cast<std::size_t>(t)]) live -= words(t);
  }
}

}  // namespace

bool CompileCost::activations_fit() const {
  return sat_add(resident_words, peak_intermediate_words) <= resident_word_capacity &&
         largest_intermediate_rows <= words_per_slice;
}

bool CompileCost::weights_fit() const {
  return sat_add(weight_words, sat_mul(4, weight_tile_words)) <= weight_word_capacity;
}

CompileCost estimate_graph_cost(const Graph& g, const ChipConfig& chip, const WeightScenario& weights,
                                const std::string& repeat_prefix, std::int64_t repeat) {
  return estimate_graph_cost(g, chip, weights, std::vector<LayerRepeat>{{repeat_prefix, repeat}});
}

CompileCost estimate_graph_cost(const Graph& g, const ChipConfig& chip, const WeightScenario& weights,
                                const std::vector<LayerRepeat>& repeats) {
  const Repeat rep{repeats};
  const std::int64_t lanes = chip.lanes();
  auto stored_one_byte = [&](int w) { return one_byte(stored_weight_type(g.tensors[static_cast<std::size_t>(w)], weights)); };
  CompileCost cost;
  std::set<std::pair<int, bool>> stored;
  std::vector<bool> matmul_weight(g.tensors.size(), false);
  // The embedding lookup runs on the host: a table or token ids that only a Gather reads
  // (or, after decompose, that nothing reads) never occupy SRAM.
  const std::vector<bool> read_on_chip = tensors_read_on_chip(g);
  auto store = [&](int w, bool transpose, bool as_one_byte) {
    if (!stored.insert({w, transpose}).second) return;
    matmul_weight[static_cast<std::size_t>(w)] = true;
    const auto [r, c] = matrix(g, w);
    const std::int64_t words = transpose ? block_words(c, r, lanes, as_one_byte) : block_words(r, c, lanes, as_one_byte);
    cost.weight_words = sat_add(cost.weight_words, sat_mul(words, rep.of(g.tensors[static_cast<std::size_t>(w)].name)));
    cost.weight_tile_words = std::max(cost.weight_tile_words, transpose ? tile_words(c, r, lanes, as_one_byte)
                                                                        : tile_words(r, c, lanes, as_one_byte));
  };
  std::map<int, std::int64_t> cache_rows;  // KV caches: the positions this step reaches
  std::map<std::string, std::int64_t> shared_constants;
  std::int64_t own_constants = 0;
  std::int64_t nodes = 0;
  for (const Node& node : g.nodes) {
    const std::int64_t times = rep.of(name_of(g, node));
    nodes = sat_add(nodes, times);
    if (node.kind == OpKind::MatMul && node.inputs.size() >= 2 &&
        g.tensors[static_cast<std::size_t>(node.inputs[1])].role == TensorRole::Weight)
      store(node.inputs[1], node.int_attr("transpose_w", 0) != 0, stored_one_byte(node.inputs[1]));
    if (node.kind == OpKind::MoeMlp) {  // the router stays fp16; every expert's weights as stored; biases are vectors
      const MoeLayout layout = moe_layout(node);
      store(node.inputs[1], false, false);
      for (std::int64_t e = 0; e < layout.experts_listed(node.inputs.size()); ++e)
        for (std::size_t part = 0; part < 3; ++part) {
          const int w = node.inputs[layout.input(e, part)];
          store(w, false, stored_one_byte(w));
        }
    }
    if (node.kind == OpKind::Attention && node.inputs.size() >= 5) {
      const std::int64_t reach = sat_add(node.int_attr("past", 0), matrix(g, node.inputs[0]).first);
      for (int cache : {node.inputs[3], node.inputs[4]}) cache_rows[cache] = std::max(cache_rows[cache], reach);
    }
    decompose_constants(g, node, times, shared_constants, own_constants);
  }
  std::int64_t constants = own_constants;
  for (const auto& [key, n] : shared_constants) constants = sat_add(constants, n);
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorInfo& t = g.tensors[i];
    const std::int64_t times = rep.of(t.name);
    auto [r, c] = matrix(g, static_cast<int>(i));
    if (t.role == TensorRole::Weight && t.init != "data") {
      cost.parameters = sat_add(cost.parameters, sat_mul(times, sat_mul(r, c)));
      cost.weight_value_bytes = sat_add(cost.weight_value_bytes,
                                        sat_mul(sat_mul(times, sat_mul(r, c)), weight_type_bytes(stored_weight_type(t, weights))));
    }
    if (t.role == TensorRole::State && cache_rows.count(static_cast<int>(i))) r = std::min(r, cache_rows[static_cast<int>(i)]);
    const bool resident = t.role == TensorRole::Output || t.role == TensorRole::State ||
                          ((t.role == TensorRole::Input || (t.role == TensorRole::Weight && !matmul_weight[i])) && read_on_chip[i]);
    if (resident) cost.resident_words = sat_add(cost.resident_words, sat_mul(times, sat_mul(r, ceil_div(c, lanes))));
  }
  cost.constant_host_bytes = to_bytes(sat_mul(constants, 4));
  fill_capacities(cost, chip);
  // The graph itself (a few hundred bytes a tensor and node) and the constants decompose makes.
  const std::int64_t graph_bytes = sat_mul(sat_add(nodes, sat_mul(static_cast<std::int64_t>(g.tensors.size()), rep.most())), 512);
  cost.host_bytes = kCompileHostBaseBytes + to_bytes(graph_bytes) + cost.constant_host_bytes;
  return cost;
}

CompileCost estimate_primitive_cost(const Graph& g, const ChipConfig& chip, const WeightScenario& weights,
                                    bool functional_data, const std::string& repeat_prefix, std::int64_t repeat) {
  return estimate_primitive_cost(g, chip, weights, functional_data, std::vector<LayerRepeat>{{repeat_prefix, repeat}});
}

CompileCost estimate_primitive_cost(const Graph& g, const ChipConfig& chip, const WeightScenario& weights,
                                    bool functional_data, const std::vector<LayerRepeat>& repeats) {
  const Repeat rep{repeats};
  const std::int64_t lanes = chip.lanes();
  CompileCost cost;
  std::map<std::tuple<int, bool, bool>, std::int64_t> stored;  // words of each stored weight
  std::vector<bool> matmul_weight(g.tensors.size(), false);
  // The embedding lookup runs on the host: a table or token ids that only a Gather reads
  // (or, after decompose, that nothing reads) never occupy SRAM.
  const std::vector<bool> read_on_chip = tensors_read_on_chip(g);
  std::int64_t block_data = 0;  // bytes of the blocks whose values the compile holds (constants; weights with functional data)
  // A constant shared by several matmuls (a norm's ones, the heads' expansions) is stored
  // once per plane its users' tiles land on (WeightTiling::block): counted once per use, up
  // to the 4 planes, an upper bound.
  // Uses count as often as their node repeats (a model costed from one layer of each kind).
  std::map<std::tuple<int, bool, bool>, std::int64_t> uses;
  std::int64_t node_times = 1;  // the repeats of the node being costed
  auto weight_words_of = [&](int w, bool transpose, bool one_byte) -> std::int64_t {
    const auto key = std::make_tuple(w, transpose, one_byte);
    if (auto it = stored.find(key); it != stored.end()) {
      if (g.tensors[static_cast<std::size_t>(w)].init == "data" && uses.count(key)) {
        std::int64_t& n = uses[key];
        const std::int64_t more = std::min(kPlanes, sat_add(n, node_times)) - std::min(kPlanes, n);
        n = sat_add(n, node_times);
        cost.weight_words = sat_add(cost.weight_words, sat_mul(it->second, more));
      }
      return it->second;
    }
    const TensorInfo& t = g.tensors[static_cast<std::size_t>(w)];
    const auto [r, c] = matrix(g, w);
    const std::int64_t k = transpose ? c : r, n = transpose ? r : c;
    std::int64_t words = 0;
    if (auto v = g.values.find(t.name); t.init == "data" && v != g.values.end())
      words = constant_block_words(v->second, k, n, transpose, lanes, one_byte);
    else
      words = block_words(k, n, lanes, one_byte);
    stored[key] = words;
    matmul_weight[static_cast<std::size_t>(w)] = true;
    std::int64_t times = rep.of(t.name);
    if (t.init == "data" && times == 1) {  // a shared constant: the first use's copies, up to one per plane
      uses[key] = node_times;
      times = std::min(kPlanes, node_times);
    }
    cost.weight_words = sat_add(cost.weight_words, sat_mul(words, times));
    // Blocks whose values the compile holds are declared with them: per word, one vector of
    // doubles per lw part (16 one-byte rows or 8 fp16 row pairs).
    if (t.init == "data" || functional_data)
      block_data = sat_add(block_data, sat_mul(sat_mul(words, times), sat_mul(one_byte ? 16 : 8, sat_mul(lanes, 8))));
    return words;
  };
  std::int64_t instructions = 0, dequant_words = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    const bool fused_in = i > 0 && g.nodes[i - 1].fuse_into_next;
    const std::int64_t times = rep.of(name_of(g, node));
    node_times = times;
    instructions = sat_add(instructions, sat_mul(times, node_instructions(g, node, fused_in, lanes, weight_words_of)));
    if (node.kind == OpKind::MatMul && !node.outputs.empty()) {  // every term's blocks of a tile on one plane
      const bool one = dtype_bytes(matmul_format(node).weights) == 1;
      const bool transpose = node.int_attr("transpose_w", 0) != 0;
      const std::int64_t n_cols = matrix(g, node.outputs[0]).second;
      std::int64_t words = 0;
      for (std::size_t t = 1; t < node.inputs.size(); t += 2) {
        if (g.tensors[static_cast<std::size_t>(node.inputs[t])].role != TensorRole::Weight) continue;  // not stored
        const auto [r, c] = matrix(g, node.inputs[t]);
        words = sat_add(words, tile_words(transpose ? c : r, n_cols, lanes, one));
      }
      cost.weight_tile_words = std::max(cost.weight_tile_words, words);
    }
    if (node.kind == OpKind::MatMul && matmul_format(node).scaled_weights() && !node.outputs.empty())
      dequant_words = sat_add(dequant_words, sat_mul(times, ceil_div(matrix(g, node.outputs[0]).second, lanes)));
  }
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorInfo& t = g.tensors[i];
    const std::int64_t times = rep.of(t.name);
    const auto [r, c] = matrix(g, static_cast<int>(i));
    if (t.role == TensorRole::Weight && t.init != "data") {
      cost.parameters = sat_add(cost.parameters, sat_mul(times, sat_mul(r, c)));
      cost.weight_value_bytes = sat_add(cost.weight_value_bytes,
                                        sat_mul(sat_mul(times, sat_mul(r, c)), weight_type_bytes(stored_weight_type(t, weights))));
    }
    const bool resident = t.role == TensorRole::Output || t.role == TensorRole::State ||
                          ((t.role == TensorRole::Input || (t.role == TensorRole::Weight && !matmul_weight[i])) && read_on_chip[i]);
    if (resident) cost.resident_words = sat_add(cost.resident_words, sat_mul(times, sat_mul(r, ceil_div(c, lanes))));
  }
  cost.resident_words = sat_add(cost.resident_words, dequant_words);
  std::int64_t constants = 0;
  for (const auto& [name, values] : g.values) constants = sat_add(constants, sat_mul(static_cast<std::int64_t>(values.size()), rep.of(name)));
  cost.constant_host_bytes = to_bytes(sat_mul(constants, 4));
  cost.instructions = instructions;
  fill_capacities(cost, chip);
  count_intermediates(g, lanes, cost);
  // The schedule and program text per instruction, the constants' values (floats, then the
  // blocks' declared contents as doubles per lane), the graph.
  const std::int64_t graph_bytes = sat_mul(sat_add(static_cast<std::int64_t>(g.nodes.size()), static_cast<std::int64_t>(g.tensors.size())),
                                           sat_mul(512, rep.most()));
  cost.host_bytes = kCompileHostBaseBytes + to_bytes(sat_mul(instructions, kCompileHostBytesPerInstruction)) +
                    cost.constant_host_bytes + to_bytes(block_data) + to_bytes(graph_bytes);
  return cost;
}

std::string format_bytes(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

void require_compile_fits(const CompileCost& cost, const ChipConfig& chip, const WeightScenario& weights,
                          const std::string& what) {
  // Bytes per parameter: the scenario's type's, or (checkpoint weights, some 16-bit) an average.
  const double per_parameter = cost.parameters > 0 ? static_cast<double>(cost.weight_value_bytes) / static_cast<double>(cost.parameters)
                                                   : weight_type_bytes(weights.weights);
  const std::string bytes = per_parameter == 1.0 ? "1 byte"
                            : per_parameter == 2.0 ? "2 bytes"
                                                   : fmt::format("{:.2f} bytes on average, as the checkpoint stores them", per_parameter);
  if (!cost.weights_fit()) {
    if (cost.weight_words <= cost.weight_word_capacity)
      throw InputError(fmt::format(
          "{}: does not fit in one {} chip: its weights take {} of the {} words in each weight slice of the 4 MXM "
          "planes, and placing them whole by output tile needs room for 4 x its largest tile ({} words on one plane) "
          "beyond that; more chips (--tp/--pp) or a chip with more words per slice",
          what, chip.name, cost.weight_words, cost.weight_word_capacity, cost.weight_tile_words));
    const auto chips = ceil_div(cost.weight_words, cost.weight_word_capacity);
    const bool padded = static_cast<double>(cost.weight_sram_bytes) > 1.2 * static_cast<double>(cost.weight_value_bytes);
    throw InputError(fmt::format(
        "{}: does not fit in one {} chip: the weights alone are {} ({} parameters x {}){} but the chip's weight "
        "SRAM holds {} (4 MXM planes x 16 slices x {} word{} x {} lanes of its {} SRAM); about {} chips are needed "
        "(lpusim estimate spreads such a model over a system; --tp/--pp choose the plan)",
        what, chip.name, format_bytes(static_cast<double>(cost.weight_value_bytes)), cost.parameters, bytes,
        padded ? fmt::format(", {} as 320-lane MXM blocks", format_bytes(static_cast<double>(cost.weight_sram_bytes))) : "",
        format_bytes(static_cast<double>(cost.weight_sram_capacity)), chip.mem_slice_words,
        chip.mem_slice_words == 1 ? "" : "s", chip.lanes(),
        format_bytes(static_cast<double>(chip.sram_bytes())), std::max<std::int64_t>(2, chips)));
  }
  if (cost.resident_words > cost.resident_word_capacity) {
    const double vector_bytes = 4.0 * chip.lanes();
    throw InputError(fmt::format(
        "{}: does not fit in one {} chip: its inputs, outputs, KV caches and vector weights need {} of activation SRAM "
        "({} fp32 vectors) but the 24 MEM slices next to the VXM hold {} ({} vectors); a shorter context or smaller "
        "batch fits, or more chips (--tp/--pp)",
        what, chip.name, format_bytes(static_cast<double>(cost.resident_words) * vector_bytes), cost.resident_words,
        format_bytes(static_cast<double>(cost.resident_word_capacity) * vector_bytes), cost.resident_word_capacity));
  }
  if (!cost.activations_fit()) {
    const double vector_bytes = 4.0 * chip.lanes();
    if (cost.largest_intermediate_rows > cost.words_per_slice)
      throw InputError(fmt::format(
          "{}: does not fit in one {} chip: an intermediate of {} rows is longer than a MEM slice's {} words (each "
          "320-lane column tile's rows are consecutive words of one slice); a shorter prompt or smaller batch fits",
          what, chip.name, cost.largest_intermediate_rows, cost.words_per_slice));
    throw InputError(fmt::format(
        "{}: does not fit in one {} chip: the step's intermediates need at least {} of activation SRAM at once ({} "
        "fp32 vectors) beside {} of inputs, outputs, KV caches and vector weights, more than the 24 MEM slices next "
        "to the VXM hold ({}); a shorter prompt or smaller batch fits, or more chips (--tp/--pp)",
        what, chip.name, format_bytes(static_cast<double>(cost.peak_intermediate_words) * vector_bytes),
        cost.peak_intermediate_words, format_bytes(static_cast<double>(cost.resident_words) * vector_bytes),
        format_bytes(static_cast<double>(cost.resident_word_capacity) * vector_bytes)));
  }
  if (cost.instructions > kMaxCompiledInstructions)
    throw InputError(fmt::format(
        "{}: the compiled program would issue about {} instructions, more than the {} (2^24) lpusim compiles "
        "(about a minute of compile and {} of host memory); a shorter prompt or fewer layers fits",
        what, cost.instructions, kMaxCompiledInstructions,
        format_bytes(static_cast<double>(kMaxCompiledInstructions) * kCompileHostBytesPerInstruction)));
  limits::require_host_memory(cost.host_bytes, fmt::format("{}: compiling it ({} instructions, {} of constants)", what,
                                                           cost.instructions,
                                                           format_bytes(static_cast<double>(cost.constant_host_bytes))));
}

void require_compilable_chip(const ChipConfig& chip) {
  const std::string file = chip.file.empty() ? chip.name : chip.file;
  auto need = [&](bool ok, const std::string& key, const std::string& what) {
    if (!ok) throw InputError(fmt::format("{}: key '{}': the compiler needs {}", file, key, what));
  };
  need(chip.mem_slices_per_hemisphere >= 44, "mem.slices_per_hemisphere",
       fmt::format("at least 44 MEM slices per hemisphere (12 for activations, 32 for weights), got {}", chip.mem_slices_per_hemisphere));
  need(chip.mxm_planes == 4, "mxm.planes", fmt::format("4 MXM planes, got {}", chip.mxm_planes));
  need(chip.mxm_rows == chip.lanes() && chip.mxm_cols == chip.lanes(), "mxm.rows",
       fmt::format("an MXM plane of lanes x lanes = {} x {} (one weight block per 320-lane tile), got {} x {}",
                   chip.lanes(), chip.lanes(), chip.mxm_rows, chip.mxm_cols));
  // The weight layout streams one slice of a plane's group per weight stream of an lw.
  if (chip.mxm_max_weight_streams != kWeightSlicesPerPlane || chip.streams_per_direction < 2 * kWeightSlicesPerPlane)
    throw InputError(fmt::format("{}: the compiler's weight layout needs mxm.max_weight_streams = {} and at least {} "
                                 "streams per direction (this chip has {} and {})", file, kWeightSlicesPerPlane,
                                 2 * kWeightSlicesPerPlane, chip.mxm_max_weight_streams, chip.streams_per_direction));
}

std::uint64_t simulation_host_bytes(std::int64_t instructions) {
  return to_bytes(sat_mul(instructions, kSimulateHostBytesPerInstruction));
}

}  // namespace lpusim
