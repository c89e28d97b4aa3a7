// Decompose: high-level ops -> primitives the lowering schedules.
//
// The chip reduces across lanes only in the MXM (a dot product sums 320 lanes), so every
// lane reduction or lane movement becomes a matmul with a constant matrix the pass makes:
//   sum over a row (norms, softmax)     x . Ones[N, 320]     every output lane = the row sum
//   per-head dot products (attention)   (k ⊙ q) . Reduce     lane h = sum over head h's lanes
//   per-head broadcast (attention)      p . Expand           head h's lanes = lane h
//   GQA key/value sharing               k . Dup              kv head j copied to its query heads
//   concat / slice along lanes          x . Place            identity blocks at an offset
//   lane max (softmax)                  max(m, m . Rotate_s), s = 1, 2, 4, ...   cyclic lane rotations
// Rope's rotate-half is a lane permutation on the SXM (permute_lanes), not a matmul.
// Division is rsqrt(x)^2 (the VXM has no divide); sigmoid, gelu and silu are VXM chains.
// Attention runs per query over the cached rows with heads on lanes, so the softmax
// reductions are across rows: elementwise max/add on the VXM.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "compiler/ir/weight_init.hpp"
#include "compiler/passes/passes.hpp"
#include "arch/core/error.hpp"

namespace lpusim {

namespace {

class Rewriter {
 public:
  explicit Rewriter(const Graph& in) : in_(in) {
    out_.name = in.name;
    out_.file = in.file;
    out_.values = in.values;
    map_.assign(in.tensors.size(), -1);
    // Tensors that only a Gather reads (token ids) and its table keep their role; the
    // gathered rows become a host input.
    for (std::size_t i = 0; i < in.tensors.size(); ++i) {
      const auto& t = in.tensors[i];
      if (t.role == TensorRole::Input || t.role == TensorRole::Weight || t.role == TensorRole::State)
        map_[i] = out_.add_tensor(t);
    }
    for (const auto& node : in.nodes)
      for (int i : node.inputs) ++uses_[i];
    // A KV cache needs only the positions this graph reaches, not the model's maximum.
    std::map<int, std::int64_t> needed;
    for (const auto& node : in.nodes) {
      if (node.kind != OpKind::Attention || node.inputs.size() < 5) continue;
      const auto& q = in.tensors[static_cast<std::size_t>(node.inputs[0])].shape;
      const std::int64_t reach = node.int_attr("past", 0) + (q.size() == 1 ? 1 : q[0]);
      for (int cache : {node.inputs[3], node.inputs[4]}) needed[cache] = std::max(needed[cache], reach);
    }
    for (const auto& [cache, rows] : needed) {
      auto& shape = out_.tensors[static_cast<std::size_t>(map_[static_cast<std::size_t>(cache)])].shape;
      if (!shape.empty() && shape[0] > rows) shape[0] = rows;
    }
  }

  Graph run() {
    for (const auto& node : in_.nodes) rewrite(node);
    for (std::size_t i = 0; i < in_.tensors.size(); ++i)
      if (in_.tensors[i].role == TensorRole::Output && map_[i] >= 0)
        out_.tensors[static_cast<std::size_t>(map_[i])].role = TensorRole::Output;
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const Node& node, const std::string& what) const {
    throw InputError(fmt::format("{}: node '{}' ({}): {}", in_.file.empty() ? in_.name : in_.file, node.name,
                                 op_name(node.kind), what));
  }

  bool is_graph_output(const Node& node) const {
    return !node.outputs.empty() && in_.tensors[static_cast<std::size_t>(node.outputs[0])].role == TensorRole::Output;
  }
  /// Row slices and row concats are views of their sources' words (no data moves); a graph
  /// output cannot be one (its words are what the host reads), so the view gets its own name
  /// and a copy under the output's name follows.
  std::string view_name(const Node& node, const std::string& name) const {
    return is_graph_output(node) ? name + ".view" : name;
  }
  int materialised_if_output(const Node& node, int view, const std::string& name) {
    return is_graph_output(node) ? scale(view, 1.0, name) : view;
  }

  const std::vector<std::int64_t>& shape_of(int out_tensor) const {
    return out_.tensors[static_cast<std::size_t>(out_tensor)].shape;
  }
  std::int64_t rows(int t) const { return shape_of(t).size() == 1 ? 1 : shape_of(t)[0]; }
  std::int64_t cols(int t) const { return shape_of(t).back(); }

  int tensor(const std::string& name, std::vector<std::int64_t> shape) {
    TensorInfo t;
    t.name = name;
    t.shape = std::move(shape);
    return out_.add_tensor(t);
  }

  int constant(const std::string& name, std::vector<std::int64_t> shape, std::vector<float> values) {
    TensorInfo t;
    t.name = name;
    t.shape = std::move(shape);
    t.role = TensorRole::Weight;
    t.init = "data";
    out_.values[name] = std::move(values);
    return out_.add_tensor(t);
  }

  int emit(OpKind kind, std::vector<int> inputs, std::vector<std::int64_t> shape, const std::string& name,
           std::map<std::string, AttrValue> attrs = {}) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    n.layer = layer_;
    if (kind != OpKind::Assign) n.outputs.push_back(tensor(name, std::move(shape)));
    out_.nodes.push_back(n);
    return n.outputs.empty() ? -1 : n.outputs[0];
  }

  int unary(OpKind k, int x, const std::string& name) { return emit(k, {x}, shape_of(x), name); }
  int scale(int x, double v, const std::string& name) { return emit(OpKind::Scale, {x}, shape_of(x), name, {{"value", v}}); }
  int add_imm(int x, double v, const std::string& name) { return emit(OpKind::Add, {x}, shape_of(x), name, {{"immediate", v}}); }
  int binary(OpKind k, int a, int b, const std::string& name, const std::string& broadcast = "") {
    std::map<std::string, AttrValue> attrs;
    if (!broadcast.empty()) attrs["broadcast"] = broadcast;
    return emit(k, {a, b}, shape_of(a), name, attrs);
  }
  int matmul(int x, int w, const std::string& name, bool transpose = false) {
    const auto& ws = shape_of(w);
    const std::int64_t n = transpose ? ws[0] : ws.back();
    std::map<std::string, AttrValue> attrs;
    if (transpose) attrs["transpose_w"] = std::int64_t{1};
    return emit(OpKind::MatMul, {x, w}, {rows(x), n}, name, attrs);
  }
  /// 1 / x as rsqrt(x)^2.
  int reciprocal(int x, const std::string& name) {
    const int r = unary(OpKind::Rsqrt, x, name + ".rsqrt");
    return binary(OpKind::Mul, r, r, name);
  }
  /// Row sum broadcast to every lane of one tile: x . Ones[N, lanes].
  int row_sum(int x, const std::string& name) {
    const std::int64_t n = cols(x);
    const std::string key = fmt::format("ones_{}", n);
    if (!ones_.count(n)) ones_[n] = constant(key, {n, kLanes}, std::vector<float>(static_cast<std::size_t>(n * kLanes), 1.0f));
    return matmul(x, ones_[n], name);
  }

  /// The row's max in every lane, for softmax. Lanes move only through the MXM, so it is a
  /// doubling tree of cyclic lane rotations: m = max(m, m . Rotate_s) for s = 1, 2, 4, ...
  /// until s >= N, after which lane i has seen lanes i .. i+2s-1 (mod N), i.e. all of them.
  /// The rotation passes values through the MXM's fp16, so m is the max rounded to fp16
  /// (relative error <= 2^-11); softmax is exact for any per-row shift, and the rounding
  /// only has to keep exp(x - m) finite, which holds for every |x| below fp16's 65504.
  int lane_max(int x, const std::string& name) {
    const std::int64_t n = cols(x);
    int m = x;
    for (std::int64_t s = 1; s < n; s *= 2) {
      const std::string key = fmt::format("rotate_lanes_{}_{}", n, s);
      if (!rotate_lanes_.count(key)) {
        std::vector<float> r(static_cast<std::size_t>(n * n), 0.0f);
        for (std::int64_t i = 0; i < n; ++i) r[static_cast<std::size_t>(((i + s) % n) * n + i)] = 1.0f;  // y_i = x_(i+s)
        rotate_lanes_[key] = constant(key, {n, n}, r);
      }
      const int rotated = matmul(m, rotate_lanes_[key], fmt::format("{}.rot{}", name, s));
      m = binary(OpKind::Max, m, rotated, 2 * s >= n ? name : fmt::format("{}.step{}", name, s));
    }
    return m;
  }

  int sigmoid(int x, const std::string& name) {
    // 1 / (1 + 2^(-x log2 e))
    const int e = unary(OpKind::Exp2, scale(x, -1.4426950408889634, name + ".nlog2e"), name + ".exp2");
    return reciprocal(add_imm(e, 1.0, name + ".plus1"), name);
  }

  int gelu_tanh(int x, const std::string& name) {
    const int x3 = binary(OpKind::Mul, binary(OpKind::Mul, x, x, name + ".x2"), x, name + ".x3");
    const int inner = binary(OpKind::Add, x, scale(x3, 0.044715, name + ".cx3"), name + ".inner");
    const int t = unary(OpKind::Tanh, scale(inner, std::sqrt(2.0 / M_PI), name + ".arg"), name + ".tanh");
    return binary(OpKind::Mul, scale(x, 0.5, name + ".half"), add_imm(t, 1.0, name + ".plus1"), name);
  }

  int gelu_erf(int x, const std::string& name) {
    // gelu(x) = 0.5 (x + |x| erf(|x| / sqrt 2)); erf on [0, inf) by Abramowitz & Stegun
    // 7.1.26 (absolute error below 1.5e-7): erf(a) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-a^2),
    // t = 1 / (1 + p a).
    const double p = 0.3275911, a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027,
                 a5 = 1.061405429;
    const int ax = binary(OpKind::Max, x, unary(OpKind::Neg, x, name + ".neg"), name + ".abs");
    const int a = scale(ax, 1.0 / std::sqrt(2.0), name + ".a");
    const int t = reciprocal(add_imm(scale(a, p, name + ".pa"), 1.0, name + ".1pa"), name + ".t");
    int poly = scale(t, a5, name + ".p5");
    int k = 4;
    for (double c : {a4, a3, a2, a1}) {
      poly = binary(OpKind::Mul, add_imm(poly, c, fmt::format("{}.c{}", name, k)), t, fmt::format("{}.p{}", name, k));
      --k;
    }
    const int e = unary(OpKind::Exp, unary(OpKind::Neg, binary(OpKind::Mul, a, a, name + ".a2"), name + ".na2"), name + ".ea2");
    const int erf = add_imm(unary(OpKind::Neg, binary(OpKind::Mul, poly, e, name + ".pe"), name + ".npe"), 1.0, name + ".erf");
    return scale(binary(OpKind::Add, x, binary(OpKind::Mul, ax, erf, name + ".axerf"), name + ".sum"), 0.5, name);
  }

  /// Norm statistics: y = x * rsqrt(mean(x^2) + eps) (rms) or centred (layer).
  int layer_norm(const Node& node, int x, int gamma, int beta, const std::string& name) {
    const double n = static_cast<double>(cols(x));
    const int mean = scale(row_sum(x, name + ".sum"), 1.0 / n, name + ".mean");
    const int xc = binary(OpKind::Sub, x, mean, name + ".centred", "tile");
    const int var = scale(row_sum(binary(OpKind::Mul, xc, xc, name + ".sq"), name + ".sqsum"), 1.0 / n, name + ".var");
    const int rstd = unary(OpKind::Rsqrt, add_imm(var, node.float_attr("eps", 1e-5), name + ".vareps"), name + ".rstd");
    const int xn = binary(OpKind::Mul, xc, rstd, name + ".normed", "tile");
    return binary(OpKind::Add, binary(OpKind::Mul, xn, gamma, name + ".scaled"), beta, name);
  }

  /// RmsNorm of every run of `group` lanes on its own (per-head q/k norms), gamma [group]:
  ///   sums = (x * x) . R   R [W, W/group] one-hot: the group of each lane
  ///   rstd = rsqrt(sums / group + eps)                                   [rows, W/group]
  ///   y = x * (rstd . E) * gamma_tiled   E [W/group, W] back onto the group's lanes, as an
  /// exact two-term spread (the MXM would round rstd to fp16).
  int grouped_rms_norm(const Node& node, int x, int gamma, std::int64_t group, const std::string& name) {
    const std::int64_t w = cols(x), groups = w / group;
    const int sq = binary(OpKind::Mul, x, x, name + ".sq");
    const int sum_groups = routing_constant(fmt::format("group_sum_{}_{}", w, group), w, groups,
                                            [&](std::int64_t r, std::int64_t c) { return r / group == c ? 1.0f : 0.0f; });
    const int ms = scale(matmul(sq, sum_groups, name + ".sqsum"), 1.0 / static_cast<double>(group), name + ".ms");
    const int rstd = unary(OpKind::Rsqrt, add_imm(ms, node.float_attr("eps", 1e-6), name + ".mseps"), name + ".rstd");
    const int expand = routing_constant(fmt::format("group_expand_{}_{}", groups, group), groups, w,
                                        [&](std::int64_t r, std::int64_t c) { return c / group == r ? 1.0f : 0.0f; });
    const int lanes = exact_spread(rstd, fp16_remainder(rstd, name + ".rstd"), expand, name + ".rstd_lanes");
    auto values = weight_values(out_, gamma);
    std::vector<float> tiled(static_cast<std::size_t>(w));
    for (std::int64_t i = 0; i < w; ++i)
      tiled[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(i % group)] + (node.int_attr("adds_one", 0) ? 1.0f : 0.0f);
    const int g = constant(name + ".gamma_tiled", {w}, tiled);
    return binary(OpKind::Mul, binary(OpKind::Mul, x, lanes, name + ".normed"), g, name);
  }

  int rms_norm(const Node& node, int x, int gamma, const std::string& name) {
    if (const std::int64_t group = node.int_attr("group", 0); group > 0 && group < cols(x))
      return grouped_rms_norm(node, x, gamma, group, name);
    const double n = static_cast<double>(cols(x));
    const int ms = scale(row_sum(binary(OpKind::Mul, x, x, name + ".sq"), name + ".sqsum"), 1.0 / n, name + ".ms");
    const int rstd = unary(OpKind::Rsqrt, add_imm(ms, node.float_attr("eps", 1e-6), name + ".mseps"), name + ".rstd");
    const int xn = binary(OpKind::Mul, x, rstd, name + ".normed", "tile");
    int g = gamma;
    if (node.int_attr("adds_one", 0)) {
      auto values = weight_values(out_, gamma);
      for (auto& v : values) v += 1.0f;
      g = constant(name + ".gamma_plus_one", shape_of(gamma), values);
    }
    return binary(OpKind::Mul, xn, g, name);
  }

  std::vector<double> rope_inverse_frequencies(const Node& node, std::int64_t head_dim) const {
    const double theta = node.float_attr("theta", 10000.0);
    const std::string kind = node.string_attr("scaling_kind", "none");
    const double factor = node.float_attr("scaling_factor", 1.0);
    std::vector<double> inv(static_cast<std::size_t>(head_dim / 2));
    // YaRN: dimensions below `low` keep their frequency, those above `high` are slowed by
    // `factor`, a linear ramp between (transformers' _compute_yarn_parameters).
    double ramp_low = 0, ramp_high = 0;
    if (kind == "yarn") {
      const double original = node.float_attr("scaling_original_max_position", 8192.0);
      const auto correction_dim = [&](double rotations) {
        return static_cast<double>(head_dim) * std::log(original / (rotations * 2.0 * M_PI)) / (2.0 * std::log(theta));
      };
      ramp_low = correction_dim(node.float_attr("scaling_beta_fast", 32.0));
      ramp_high = correction_dim(node.float_attr("scaling_beta_slow", 1.0));
      if (node.int_attr("scaling_truncate", 1) != 0) {
        ramp_low = std::floor(ramp_low);
        ramp_high = std::ceil(ramp_high);
      }
      ramp_low = std::max(ramp_low, 0.0);
      ramp_high = std::min(ramp_high, static_cast<double>(head_dim - 1));
      if (ramp_low == ramp_high) ramp_high += 0.001;
    }
    for (std::int64_t i = 0; i < head_dim / 2; ++i) {
      double f = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      if (kind == "linear") f /= factor;
      if (kind == "yarn") {
        const double ramp = std::clamp((static_cast<double>(i) - ramp_low) / (ramp_high - ramp_low), 0.0, 1.0);
        const double extrapolation = 1.0 - ramp;  // the share of the unscaled frequency
        f = f / factor * (1.0 - extrapolation) + f * extrapolation;
      }
      if (kind == "llama3") {
        const double low = node.float_attr("scaling_low_freq_factor", 1.0);
        const double high = node.float_attr("scaling_high_freq_factor", 4.0);
        const double original = node.float_attr("scaling_original_max_position", 8192.0);
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen > original / low) {
          f /= factor;
        } else if (wavelen >= original / high) {
          const double smooth = (original / wavelen - low) / (high - low);
          f = (1.0 - smooth) * f / factor + smooth * f;
        }
      }
      inv[static_cast<std::size_t>(i)] = f;
    }
    return inv;
  }

  /// Rope in rotate-half form: y = x cos + rotate_half(x) sin, where rotate_half moves lane
  /// i + D/2 of each head to i (negated) and i to i + D/2. The move is an SXM permute within
  /// a 320-lane tile; a head that straddles two tiles takes some lanes from the neighbouring
  /// tile, so there is one permute per tile offset (-1, 0, +1) that occurs, each multiplied
  /// by a sin vector that is zero on the lanes another offset provides and carries the sign.
  int rope(const Node& node, int x, const std::string& name) {
    const std::int64_t d = node.int_attr("head_dim", 0), f = cols(x), t_rows = rows(x);
    // Partial rotary (phi): only the first r lanes of each head rotate (halves of r), the
    // rest pass through (cos 1, sin 0).
    const std::int64_t r = node.int_attr("rotary_dim", d);
    if (r < 2 || r > d || r % 2 != 0) fail(node, fmt::format("rotary_dim {} must be even and in [2, head_dim {}]", r, d));
    const std::int64_t position = node.int_attr("position", 0);
    const std::int64_t tiles = (f + kLanes - 1) / kLanes;
    // A batch stacks sequences at the same positions: row t is at position + t mod period.
    const std::int64_t period = std::max<std::int64_t>(1, node.int_attr("rows_per_sequence", t_rows));
    const auto inv = rope_inverse_frequencies(node, r);
    // Source column and sign of every output column.
    std::vector<std::int64_t> source(static_cast<std::size_t>(f));
    std::vector<float> sign(static_cast<std::size_t>(f));
    for (std::int64_t c = 0; c < f; ++c) {
      const std::int64_t i = c % d;
      const bool first_half = i < r / 2;
      source[static_cast<std::size_t>(c)] = i >= r ? c : first_half ? c + r / 2 : c - r / 2;
      sign[static_cast<std::size_t>(c)] = i >= r ? 0.0f : first_half ? -1.0f : 1.0f;
    }
    std::vector<float> cos_v(static_cast<std::size_t>(t_rows * f));
    std::vector<float> sin_v(cos_v.size());
    // YaRN scales cos and sin of the rotated lanes (1 otherwise).
    const double attention_factor = node.float_attr("scaling_attention_factor", 1.0);
    // Ministral 3 / Llama 4 queries: times 1 + beta ln(1 + floor(position / original max)),
    // every lane of the row, so folded into cos and sin (rope is linear in x).
    const double query_beta = node.float_attr("query_scale_beta", 0.0);
    const std::int64_t query_positions = node.int_attr("query_scale_positions", 1);
    const auto query_scale = [&](std::int64_t t) { return llama4_query_scale(query_beta, query_positions, position + t % period); };
    for (std::int64_t t = 0; t < t_rows; ++t)
      for (std::int64_t j = 0; j < f; ++j) {
        const std::int64_t i = j % d;
        const double angle =
            i >= r ? 0.0 : static_cast<double>(position + t % period) * inv[static_cast<std::size_t>(i % (r / 2))];
        const double m = (i >= r ? 1.0 : attention_factor) * query_scale(t);
        cos_v[static_cast<std::size_t>(t * f + j)] = static_cast<float>(m * std::cos(angle));
        sin_v[static_cast<std::size_t>(t * f + j)] = static_cast<float>(m * std::sin(angle));
      }
    struct Part {
      std::int64_t offset;
      std::vector<float> map, masked_sin;
    };
    std::vector<Part> parts;
    for (std::int64_t offset : {0, -1, 1}) {
      // A permutation of each tile's lanes: the lanes this offset provides go where they
      // belong; the other output lanes take the unused source lanes in order (multiplied by 0).
      std::vector<float> map(static_cast<std::size_t>(tiles * kLanes));
      bool used_anywhere = false;
      for (std::int64_t j = 0; j < tiles; ++j) {
        std::vector<bool> taken(kLanes, false), filled(kLanes, false);
        for (std::int64_t i = 0; i < kLanes && j * kLanes + i < f; ++i) {
          const std::int64_t src = source[static_cast<std::size_t>(j * kLanes + i)];
          if (src / kLanes - j != offset) continue;
          map[static_cast<std::size_t>(j * kLanes + i)] = static_cast<float>(src % kLanes);
          taken[static_cast<std::size_t>(src % kLanes)] = filled[static_cast<std::size_t>(i)] = true;
          used_anywhere = true;
        }
        // Identity where possible: a value moving to an earlier superlane makes the SXM wait.
        for (std::int64_t i = 0; i < kLanes; ++i)
          if (!filled[static_cast<std::size_t>(i)] && !taken[static_cast<std::size_t>(i)]) {
            map[static_cast<std::size_t>(j * kLanes + i)] = static_cast<float>(i);
            taken[static_cast<std::size_t>(i)] = filled[static_cast<std::size_t>(i)] = true;
          }
        std::int64_t next = 0;
        for (std::int64_t i = 0; i < kLanes; ++i) {
          if (filled[static_cast<std::size_t>(i)]) continue;
          while (taken[static_cast<std::size_t>(next)]) ++next;
          map[static_cast<std::size_t>(j * kLanes + i)] = static_cast<float>(next);
          taken[static_cast<std::size_t>(next)] = true;
        }
      }
      if (!used_anywhere) continue;
      std::vector<float> masked(sin_v.size(), 0.0f);
      for (std::int64_t t = 0; t < t_rows; ++t)
        for (std::int64_t c = 0; c < f; ++c)
          if (source[static_cast<std::size_t>(c)] / kLanes - c / kLanes == offset)
            masked[static_cast<std::size_t>(t * f + c)] = sign[static_cast<std::size_t>(c)] * sin_v[static_cast<std::size_t>(t * f + c)];
      parts.push_back(Part{offset, std::move(map), std::move(masked)});
    }
    int result = binary(OpKind::Mul, x, constant(name + ".cos", {t_rows, f}, cos_v), name + ".xcos");
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const std::string part = fmt::format("{}.rot{:+d}", name, parts[k].offset);
      const std::string map_name = fmt::format("rotate_half_map_{}_{}{:+d}", f, d, parts[k].offset);
      out_.values[map_name] = parts[k].map;
      const int moved = emit(OpKind::PermuteLanes, {x}, shape_of(x), part,
                             {{"tile_offset", parts[k].offset}, {"lane_map", map_name}});
      const int term = binary(OpKind::Mul, moved, constant(part + ".sin", {t_rows, f}, parts[k].masked_sin), part + ".sin_term");
      result = binary(OpKind::Add, result, term, k + 1 == parts.size() ? name : part + ".sum");
    }
    return result;
  }

  int attention(const Node& node, const std::string& name) {
    const int q = mapped(node.inputs[0]), k = mapped(node.inputs[1]), v = mapped(node.inputs[2]);
    const int kc = mapped(node.inputs[3]), vc = mapped(node.inputs[4]);
    const int sinks = node.inputs.size() > 5 ? mapped(node.inputs[5]) : -1;
    const std::int64_t heads = node.int_attr("heads", 0), kv = node.int_attr("kv_heads", heads);
    const std::int64_t d = node.int_attr("head_dim", 0), past = node.int_attr("past", 0);
    const bool causal = node.int_attr("causal", 1) != 0;
    const std::int64_t window = node.int_attr("window", 0);
    const double scale_v = node.float_attr("scale", 1.0 / std::sqrt(static_cast<double>(d)));
    // Soft-capping (gemma2): scores = c tanh(scale dots / c).
    const double softcap = node.float_attr("softcap", 0.0);
    if (softcap < 0) fail(node, fmt::format("softcap {} must be positive (0: none)", softcap));
    const std::int64_t t_rows = rows(q);
    if (heads <= 0 || kv <= 0 || d <= 0 || heads % kv || cols(q) != heads * d || cols(k) != kv * d)
      fail(node, fmt::format("inconsistent heads {} / kv_heads {} / head_dim {} for q {} and k {}", heads, kv, d, cols(q), cols(k)));
    if (sinks >= 0 && (shape_of(sinks).size() != 1 || cols(sinks) != heads))
      fail(node, fmt::format("sinks must be [{}] (one per head), got {} values", heads, cols(sinks)));
    if (past + t_rows > rows(kc)) fail(node, fmt::format("{} cached + {} new positions exceed the cache of {}", past, t_rows, rows(kc)));
    // Append the new keys and values to the caches.
    emit(OpKind::Assign, {kc, k}, {}, name + ".append_k", {{"row", past}});
    emit(OpKind::Assign, {vc, v}, {}, name + ".append_v", {{"row", past}});
    const std::int64_t hd = heads * d;
    const std::string geometry = fmt::format("{}_{}_{}", heads, kv, d);
    if (!reduce_.count(geometry)) {
      std::vector<float> reduce(static_cast<std::size_t>(hd * heads), 0.0f), expand(static_cast<std::size_t>(heads * hd), 0.0f);
      for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t i = 0; i < d; ++i) {
          reduce[static_cast<std::size_t>((h * d + i) * heads + h)] = 1.0f;
          expand[static_cast<std::size_t>(h * hd + h * d + i)] = 1.0f;
        }
      reduce_[geometry] = constant("head_reduce_" + geometry, {hd, heads}, reduce);
      expand_[geometry] = constant("head_expand_" + geometry, {heads, hd}, expand);
      if (kv != heads) {
        std::vector<float> dup(static_cast<std::size_t>(kv * d * hd), 0.0f);
        for (std::int64_t h = 0; h < heads; ++h)
          for (std::int64_t i = 0; i < d; ++i)
            dup[static_cast<std::size_t>(((h / (heads / kv)) * d + i) * hd + h * d + i)] = 1.0f;
        dup_[geometry] = constant("kv_dup_" + geometry, {kv * d, hd}, dup);
      }
    }
    if (t_rows > 1)
      return mxm_attention(node, name, MxmAttention{q, kc, vc, sinks, heads, kv, d, past, causal, window, scale_v, softcap});
    std::vector<int> outputs;
    for (std::int64_t i = 0; i < t_rows; ++i) {
      const std::string qn = fmt::format("{}.q{}", name, i);
      const std::int64_t context = causal ? past + i + 1 : past + t_rows;
      const std::int64_t start = window > 0 ? std::max<std::int64_t>(0, context - window) : 0;
      const int qi = emit(OpKind::Slice, {q}, {1, hd}, qn, {{"axis", std::int64_t{0}}, {"begin", i}, {"end", i + 1}});
      auto rows_of = [&](int cache, const std::string& what) {
        const int r = emit(OpKind::Slice, {cache}, {context - start, cols(cache)}, qn + "." + what,
                           {{"axis", std::int64_t{0}}, {"begin", start}, {"end", context}});
        return kv != heads ? matmul(r, dup_[geometry], qn + "." + what + "_dup") : r;
      };
      const int keys = rows_of(kc, "keys");
      const int z = binary(OpKind::Mul, keys, qi, qn + ".kq");
      const int dots = matmul(z, reduce_[geometry], qn + ".dots");
      const int scores = softcap > 0 ? scale(unary(OpKind::Tanh, scale(dots, scale_v / softcap, qn + ".capped_in"), qn + ".capped_tanh"),
                                             softcap, qn + ".scores")
                                     : scale(dots, scale_v, qn + ".scores");
      int m = emit(OpKind::MaxRows, {scores}, {1, heads}, qn + ".max");
      // Sinks (gpt_oss): each head's sink logit joins the max and the denominator, not the values.
      if (sinks >= 0) m = binary(OpKind::Max, m, sinks, qn + ".max_sink");
      const int e = unary(OpKind::Exp, binary(OpKind::Sub, scores, m, qn + ".shifted"), qn + ".exp");
      int den = emit(OpKind::SumRows, {e}, {1, heads}, qn + ".den");
      if (sinks >= 0) {
        const int sink_e = unary(OpKind::Exp, unary(OpKind::Neg, binary(OpKind::Sub, m, sinks, qn + ".m_sink"), qn + ".sink_shift"),
                                 qn + ".sink_exp");
        den = binary(OpKind::Add, den, sink_e, qn + ".den_sink");
      }
      const int inv = reciprocal(den, qn + ".inv");
      const int p = binary(OpKind::Mul, e, inv, qn + ".p");
      const int weights = matmul(p, expand_[geometry], qn + ".pexp");
      const int values = rows_of(vc, "values");
      outputs.push_back(emit(OpKind::SumRows, {binary(OpKind::Mul, weights, values, qn + ".pv")}, {1, hd}, qn + ".out"));
    }
    if (outputs.size() == 1) return outputs[0];
    return emit(OpKind::Concat, outputs, {t_rows, hd}, name, {{"axis", std::int64_t{0}}});
  }

  /// What mxm_attention needs of an Attention node (its inputs already rewritten).
  struct MxmAttention {
    int q, k_cache, v_cache, sinks;
    std::int64_t heads, kv_heads, head_dim, past;
    bool causal;
    std::int64_t window;
    double scale, softcap;
  };

  /// Lanes [begin, end) of x as a view (no data moves): begin on a tile boundary, end on one
  /// or at x's width.
  int lane_view(int x, std::int64_t begin, std::int64_t end, const std::string& name) {
    if (begin == 0 && end == cols(x)) return x;
    return emit(OpKind::Slice, {x}, {rows(x), end - begin}, name,
                {{"axis", std::int64_t{1}}, {"begin", begin}, {"end", end}});
  }
  /// Rows [begin, end) of x as a view.
  int row_view(int x, std::int64_t begin, std::int64_t end, const std::string& name) {
    if (begin == 0 && end == rows(x)) return x;
    return emit(OpKind::Slice, {x}, {end - begin, cols(x)}, name,
                {{"axis", std::int64_t{0}}, {"begin", begin}, {"end", end}});
  }
  /// The lanes of the whole tiles that hold lanes [begin, end) of a row `width` lanes wide.
  static std::pair<std::int64_t, std::int64_t> tiles_holding(std::int64_t begin, std::int64_t end, std::int64_t width) {
    return {begin / kLanes * kLanes, std::min(width, (end + kLanes - 1) / kLanes * kLanes)};
  }
  /// y = sum_i x_i w_i in one matmul node (every term accumulates in the same slots).
  int multi_term_matmul(const std::vector<std::pair<int, int>>& terms, const std::string& name) {
    Node multi;
    multi.kind = OpKind::MatMul;
    multi.name = name;
    multi.layer = layer_;
    for (const auto& [x, w] : terms) {
      multi.inputs.push_back(x);
      multi.inputs.push_back(w);
    }
    multi.outputs.push_back(tensor(name, {rows(terms[0].first), cols(terms[0].second)}));
    out_.nodes.push_back(multi);
    return multi.outputs[0];
  }

  /// Attention over a prompt on the MXM. Per block of up to 320 queries and per head, the
  /// keys are rows and the queries lanes (S^T), so the softmax's max and sum over the keys
  /// are elementwise over rows on the VXM, and every product is a matmul whose weights are
  /// activations (rows installed through the VXM's fp16 conversion):
  ///   S^T = K_j Q_h^T     the cached keys streamed, the block's queries installed
  ///   P^T = softmax over rows of (scale S^T + mask)      additive -1e30 where a key is hidden
  ///   P   = I (P^T)^T     the MXM transposes: P^T's rows installed, unit vectors streamed
  ///   O_h = P (V_j^T)^T   with V_j^T = I V_j^T, once per tile range of the value cache
  ///   O   = sum_h O_h Place_h, per output tile (head h's lanes into place)
  /// Query head h reads kv head j = h / (heads / kv_heads) from the whole tiles holding j's
  /// lanes (views); its q lanes are masked (or moved, under GQA) onto j's lanes there. The
  /// keys a block sees are widened to whole tiles and masked, so V^T's lanes are views too.
  int mxm_attention(const Node& node, const std::string& name, const MxmAttention& a) {
    const std::int64_t t_rows = rows(a.q), d = a.head_dim, hd = a.heads * d, kv_width = a.kv_heads * d;
    const std::int64_t context = a.past + t_rows;  // cache rows after the append
    const std::int64_t group = a.heads / a.kv_heads;
    const std::vector<float> sink_values = a.sinks >= 0 ? weight_values(out_, a.sinks) : std::vector<float>{};
    const int keys_all = row_view(a.k_cache, 0, context, name + ".keys");
    const int values_all = row_view(a.v_cache, 0, context, name + ".values");
    // Per head: its queries on its kv head's lanes; per kv tile range: the keys' and V^T's views.
    std::map<std::pair<std::int64_t, std::int64_t>, int> keys_of, values_t_of;  // by lane range
    std::vector<int> head_queries(static_cast<std::size_t>(a.heads), -1), head_values_t(static_cast<std::size_t>(a.heads), -1);
    auto prepare_head = [&](std::int64_t h) {
      const std::int64_t j = h / group;
      const auto [kb, ke] = tiles_holding(j * d, (j + 1) * d, kv_width);
      const std::int64_t off = j * d - kb;
      const std::string hn = fmt::format("{}.h{}", name, h);
      if (!keys_of.count({kb, ke})) keys_of[{kb, ke}] = lane_view(keys_all, kb, ke, fmt::format("{}.keys_l{}_{}", name, kb, ke));
      const auto [qb, qe] = tiles_holding(h * d, (h + 1) * d, hd);
      const int q_tiles = lane_view(a.q, qb, qe, hn + ".q_tiles");
      const std::int64_t q_off = h * d - qb;
      if (q_off == off && qe - qb == ke - kb) {  // the same lanes: keep head h's, zero the rest
        head_queries[static_cast<std::size_t>(h)] = binary(
            OpKind::Mul, q_tiles,
            routing_constant(fmt::format("head_lanes_{}_{}_{}", ke - kb, off, d), 1, ke - kb,
                             [&](std::int64_t, std::int64_t c) { return c >= off && c < off + d ? 1.0f : 0.0f; }),
            hn + ".q");
      } else {  // GQA: head h's lanes moved onto kv head j's
        head_queries[static_cast<std::size_t>(h)] = matmul(
            q_tiles,
            routing_constant(fmt::format("head_move_{}_{}_{}_{}_{}", qe - qb, q_off, ke - kb, off, d), qe - qb, ke - kb,
                             [&](std::int64_t r, std::int64_t c) { return r >= q_off && r < q_off + d && c - off == r - q_off ? 1.0f : 0.0f; }),
            hn + ".q");
      }
    };
    std::vector<int> block_outputs;
    for (std::int64_t q0 = 0; q0 < t_rows; q0 += kLanes) {
      const std::int64_t q1 = std::min(t_rows, q0 + kLanes), tb = q1 - q0;
      const std::string bn = fmt::format("{}.b{}", name, q0 / kLanes);
      // The keys this block's queries may see, widened to whole tiles within the context.
      const std::int64_t first = a.past + q0, last = a.past + q1 - 1;
      const std::int64_t lo = a.window > 0 ? std::max<std::int64_t>(0, first - a.window + 1) : 0;
      // Plain variables, not a structured binding: lambdas below capture them (C++17).
      const auto key_tiles = tiles_holding(lo, a.causal ? last + 1 : context, context);
      const std::int64_t kb0 = key_tiles.first, kb1 = key_tiles.second;
      const std::int64_t nk = kb1 - kb0;
      auto hidden = [&](std::int64_t key, std::int64_t query) {
        return (a.causal && key > query) || (a.window > 0 && key <= query - a.window);
      };
      // Phase by phase over the heads: graph order is the list scheduler's priority and each
      // MXM plane takes its matmuls in that order, so one head's whole chain at a time would
      // leave the planes waiting on its softmax; this way every phase spreads over the planes.
      for (std::int64_t h = 0; h < a.heads; ++h)
        if (head_queries[static_cast<std::size_t>(h)] < 0) prepare_head(h);
      std::vector<int> visible(static_cast<std::size_t>(a.heads));
      for (std::int64_t h = 0; h < a.heads; ++h) {
        const std::int64_t j = h / group;
        const std::string hn = fmt::format("{}.h{}", bn, h);
        const int queries = row_view(head_queries[static_cast<std::size_t>(h)], q0, q1, hn + ".q");
        const int keys = row_view(keys_of[tiles_holding(j * d, (j + 1) * d, kv_width)], kb0, kb1, hn + ".keys");
        const int dots = matmul(keys, queries, hn + ".dots", true);  // [nk, tb]
        const int scores = a.softcap > 0 ? scale(unary(OpKind::Tanh, scale(dots, a.scale / a.softcap, hn + ".capped_in"), hn + ".capped_tanh"),
                                                 a.softcap, hn + ".scores")
                                         : scale(dots, a.scale, hn + ".scores");
        // Rows (keys) hidden from some query of the block get the additive mask; runs of rows
        // alike are views of the scores.
        std::vector<int> pieces;
        bool any_mask = false;
        for (std::int64_t r0 = 0; r0 < nk;) {
          const auto masked_row = [&](std::int64_t r) { return hidden(kb0 + r, first) || hidden(kb0 + r, last); };
          const bool masked = masked_row(r0);
          std::int64_t r1 = r0 + 1;
          while (r1 < nk && masked_row(r1) == masked) ++r1;
          const int rows_view = row_view(scores, r0, r1, fmt::format("{}.scores_r{}", hn, r0));
          if (masked) {
            any_mask = true;
            const std::int64_t shift = kb0 + r0 - first;  // the key's position relative to the first query
            const int mask = routing_constant(fmt::format("attention_mask_{}_{}_{}_{}_{}", shift, r1 - r0, tb, a.causal ? 1 : 0, a.window),
                                              r1 - r0, tb, [&](std::int64_t r, std::int64_t t) {
                                                return hidden(kb0 + r0 + r, first + t) ? -1e30f : 0.0f;
                                              });
            pieces.push_back(binary(OpKind::Add, rows_view, mask, fmt::format("{}.masked_r{}", hn, r0)));
          } else {
            pieces.push_back(rows_view);
          }
          r0 = r1;
        }
        visible[static_cast<std::size_t>(h)] = !any_mask ? scores
                                              : pieces.size() == 1 ? pieces[0]
                                                                   : emit(OpKind::Concat, pieces, {nk, tb}, hn + ".visible", {{"axis", std::int64_t{0}}});
      }
      std::vector<int> probs_t(static_cast<std::size_t>(a.heads));
      for (std::int64_t h = 0; h < a.heads; ++h) {
        const std::string hn = fmt::format("{}.h{}", bn, h);
        const int v = visible[static_cast<std::size_t>(h)];
        int m = emit(OpKind::MaxRows, {v}, {1, tb}, hn + ".max");
        int sink = -1;
        if (a.sinks >= 0) {  // gpt_oss: the head's sink logit joins the max and the denominator
          sink = constant(hn + ".sink", {tb}, std::vector<float>(static_cast<std::size_t>(tb), sink_values[static_cast<std::size_t>(h)]));
          m = binary(OpKind::Max, m, sink, hn + ".max_sink");
        }
        const int e = unary(OpKind::Exp, binary(OpKind::Sub, v, m, hn + ".shifted"), hn + ".exp");
        int den = emit(OpKind::SumRows, {e}, {1, tb}, hn + ".den");
        if (sink >= 0) den = binary(OpKind::Add, den, unary(OpKind::Exp, binary(OpKind::Sub, sink, m, hn + ".sink_shifted"), hn + ".sink_exp"), hn + ".den_sink");
        probs_t[static_cast<std::size_t>(h)] = binary(OpKind::Mul, e, reciprocal(den, hn + ".inv"), hn + ".probs_tr");  // [nk, tb]
      }
      std::vector<int> probs(static_cast<std::size_t>(a.heads));
      for (std::int64_t h = 0; h < a.heads; ++h)
        probs[static_cast<std::size_t>(h)] =
            matmul(transpose_identity(tb), probs_t[static_cast<std::size_t>(h)], fmt::format("{}.h{}.probs", bn, h), true);  // [tb, nk]
      // V^T once per tile range of the value cache, when the first block needs it (after the
      // scores, so that its long matmuls do not hold the planes the scores need first).
      for (std::int64_t h = 0; h < a.heads; ++h) {
        if (head_values_t[static_cast<std::size_t>(h)] >= 0) continue;
        const std::int64_t j = h / group;
        const auto [kb, ke] = tiles_holding(j * d, (j + 1) * d, kv_width);
        if (!values_t_of.count({kb, ke})) {
          const int v = lane_view(values_all, kb, ke, fmt::format("{}.values_l{}_{}", name, kb, ke));
          values_t_of[{kb, ke}] = matmul(transpose_identity(ke - kb), v, fmt::format("{}.values_tr_l{}_{}", name, kb, ke), true);
        }
        head_values_t[static_cast<std::size_t>(h)] = row_view(values_t_of[{kb, ke}], j * d - kb, j * d - kb + d, fmt::format("{}.h{}.values_tr", name, h));
      }
      std::vector<int> head_out;
      for (std::int64_t h = 0; h < a.heads; ++h) {
        const std::string hn = fmt::format("{}.h{}", bn, h);
        const int values_t = lane_view(head_values_t[static_cast<std::size_t>(h)], kb0, kb1, hn + ".values_tr");
        head_out.push_back(matmul(probs[static_cast<std::size_t>(h)], values_t, hn + ".out", true));  // [tb, d]
      }
      // Each head's lanes into place, one output tile at a time.
      std::vector<int> tiles;
      for (std::int64_t n0 = 0; n0 < hd; n0 += kLanes) {
        const std::int64_t n1 = std::min(hd, n0 + kLanes);
        std::vector<std::pair<int, int>> terms;
        for (std::int64_t h = 0; h < a.heads; ++h) {
          if ((h + 1) * d <= n0 || h * d >= n1) continue;
          const std::int64_t shift = h * d - n0;  // head lane i goes to tile lane shift + i
          terms.emplace_back(head_out[static_cast<std::size_t>(h)],
                             routing_constant(fmt::format("head_place_{}_{}_{}", d, n1 - n0, shift), d, n1 - n0,
                                              [&](std::int64_t i, std::int64_t c) { return c == shift + i ? 1.0f : 0.0f; }));
        }
        tiles.push_back(multi_term_matmul(terms, fmt::format("{}.out_t{}", bn, n0 / kLanes)));
      }
      block_outputs.push_back(tiles.size() == 1 ? tiles[0] : emit(OpKind::Concat, tiles, {tb, hd}, bn + ".out", {{"axis", std::int64_t{1}}}));
    }
    if (block_outputs.size() == 1) return materialised_if_output(node, block_outputs[0], name);
    return materialised_if_output(node, emit(OpKind::Concat, block_outputs, {t_rows, hd}, view_name(node, name), {{"axis", std::int64_t{0}}}), name);
  }

  /// The identity [n, n] as streamed rows: x = I, y = I w^T = w^T (the MXM transposes w).
  int transpose_identity(std::int64_t n) {
    return routing_constant(fmt::format("transpose_identity_{}", n), n, n,
                            [](std::int64_t r, std::int64_t c) { return r == c ? 1.0f : 0.0f; });
  }

  int mapped(int in_tensor) const {
    const int m = map_[static_cast<std::size_t>(in_tensor)];
    if (m < 0) throw std::logic_error("decompose: tensor used before it is rewritten");
    return m;
  }

  /// A weight's rows [begin, end) as a new constant (for splitting a matmul over a concat).
  int weight_rows(int w, std::int64_t begin, std::int64_t end, const std::string& name) {
    const auto values = weight_values(out_, w);
    const std::int64_t n = cols(w);
    std::vector<float> part(values.begin() + begin * n, values.begin() + end * n);
    const int t = constant(name, {end - begin, n}, part);
    out_.tensors[static_cast<std::size_t>(t)].init = "random";  // model weights: int8 when asked
    return t;
  }

  /// x . Place: `width` lanes of x moved to lanes [offset, offset + width) of a `total`-wide row.
  int placed(int x, std::int64_t offset, std::int64_t total, const std::string& name) {
    const std::int64_t width = cols(x);
    std::vector<float> p(static_cast<std::size_t>(width * total), 0.0f);
    for (std::int64_t i = 0; i < width; ++i) p[static_cast<std::size_t>(i * total + offset + i)] = 1.0f;
    return matmul(x, constant(name + ".place", {width, total}, p), name);
  }

  /// gpt-oss's expert GLU from the gate and up projections: g = min(gate, L),
  /// u = clamp(up, -L, L), (u + 1) * g * sigmoid(alpha g).
  int clamped_swiglu(const Node& node, int gate, int up, const std::string& name) {
    const double limit = node.float_attr("glu_limit", 0.0), alpha = node.float_attr("glu_alpha", 0.0);
    if (!(limit > 0) || !(alpha > 0)) fail(node, fmt::format("clamped_swiglu needs glu_limit and glu_alpha above 0, got {} and {}", limit, alpha));
    const int g = emit(OpKind::Min, {gate}, shape_of(gate), name + ".gate_clamped", {{"immediate", limit}});
    const int u_hi = emit(OpKind::Min, {up}, shape_of(up), name + ".up_below", {{"immediate", limit}});
    const int u = emit(OpKind::Max, {u_hi}, shape_of(up), name + ".up_clamped", {{"immediate", -limit}});
    const int glu = binary(OpKind::Mul, g, sigmoid(scale(g, alpha, name + ".alpha_gate"), name + ".sigmoid"), name + ".glu");
    return binary(OpKind::Mul, glu, add_imm(u, 1.0, name + ".up_plus1"), name);
  }

  /// The activation a MoE expert names by op name ("silu", "gelu", ...).
  int activation(const Node& node, int x, const std::string& name) {
    const std::string act = node.string_attr("activation", op_name(OpKind::Silu));
    if (act == op_name(OpKind::Silu)) return binary(OpKind::Mul, x, sigmoid(x, name + ".sigmoid"), name);
    if (act == op_name(OpKind::Gelu)) return gelu_erf(x, name);
    if (act == op_name(OpKind::GeluTanh)) return gelu_tanh(x, name);
    if (act == op_name(OpKind::Relu)) return unary(OpKind::Relu, x, name);
    fail(node, fmt::format("unsupported expert activation '{}'", act));
  }

  /// A constant the MoE routing uses, made once per geometry and shared by every layer.
  int routing_constant(const std::string& key, std::int64_t rows_n, std::int64_t cols_n,
                       const std::function<float(std::int64_t, std::int64_t)>& value) {
    if (auto it = routing_.find(key); it != routing_.end()) return it->second;
    std::vector<float> v(static_cast<std::size_t>(rows_n * cols_n));
    for (std::int64_t r = 0; r < rows_n; ++r)
      for (std::int64_t c = 0; c < cols_n; ++c) v[static_cast<std::size_t>(r * cols_n + c)] = value(r, c);
    return routing_[key] = constant(key, {rows_n, cols_n}, std::move(v));
  }

  /// A model weight held as fp16 data whatever the weight type (no quantisation).
  void keep_as_data(int weight) {
    auto& info = out_.tensors[static_cast<std::size_t>(weight)];
    out_.values[info.name] = weight_values(out_, weight);
    info.init = "data";
  }

  /// x - fp16(x): x . I is x as the MXM sees it.
  int fp16_remainder(int x, const std::string& name) {
    const std::int64_t n = cols(x);
    const int identity = routing_constant(fmt::format("moe_identity_{}", n), n, n,
                                          [](std::int64_t r, std::int64_t c) { return r == c ? 1.0f : 0.0f; });
    return binary(OpKind::Sub, x, matmul(x, identity, name + ".hi"), name + ".lo");
  }

  /// x . C for a 0/1 matrix C with fp32 accuracy: the MXM rounds x to fp16, so the part it
  /// drops (`remainder` = x - fp16(x), itself rounded to fp16) goes through C as a second
  /// term. The error is then ~2^-22 relative instead of 2^-11.
  int exact_spread(int x, int remainder, int c, const std::string& name) { return two_term_matmul(x, c, remainder, c, name); }

  /// y = x0 w0 + x1 w1 in one matmul node (both terms accumulate in the same slots).
  int two_term_matmul(int x0, int w0, int x1, int w1, const std::string& name) {
    return multi_term_matmul({{x0, w0}, {x1, w1}}, name);
  }


  /// Mixtral's sparse MLP, lowered densely: a static schedule cannot branch on the router,
  /// so every expert runs on every token and the unselected ones get weight exactly 0.
  /// Routing without lane reductions or data-dependent control:
  ///   r = x W_router [T, E] (kept fp16 like the reference, also with int8 weights)
  ///   lane e*E+f of Rs holds r_e, of Ro holds r_f (exact spreads of r)
  ///   rank_e = #{f < e: r_f >= r_e} + #{f > e: r_f > r_e}   (ties: the lower index wins,
  ///            as the reference's stable sort), a matmul of the 0/1 compare masks
  ///   selected_e = [rank_e < k], top_e = [rank_e == 0], shift = sum_e r_e top_e
  ///   w_e = exp(r_e - shift) selected_e / sum_f exp(r_f - shift) selected_f
  ///   y = sum_e (w_e spread over the hidden lanes) * w2_e(act(x w1_e) * (x w3_e))
  int moe_mlp(const Node& node, const std::string& name) {
    const int x = mapped(node.inputs[0]);
    const int router = mapped(node.inputs[1]);
    const std::int64_t experts = node.int_attr("experts", 0), top_k = node.int_attr("top_k", 0);
    // A multi-chip partition gives a chip the experts first .. first + local - 1 (routing still
    // looks at all of them); the one-chip graph has them all.
    const std::int64_t first = node.int_attr("first_expert", 0);
    const MoeLayout layout = moe_layout(node);
    const std::int64_t local = layout.experts_listed(node.inputs.size());
    if (experts < 1 || top_k < 1 || top_k > experts || local < 1 || first < 0 || first + local > experts ||
        cols(router) != experts)
      fail(node, fmt::format("{} experts, top {}: expected 1 <= top_k <= experts, a router of {} columns (got {}) and "
                             "{} + {} inputs per expert (got {})", experts, top_k, experts, cols(router),
                             layout.first_expert(), layout.per_expert(), node.inputs.size()));
    // The expert down bias is added on one chip of an expert's tensor-parallel group only
    // (the others' partial sums must not repeat it); "add_down_bias" 0 says this is another.
    const bool down_bias = layout.biases && node.int_attr("add_down_bias", 1) != 0;
    const bool clamped = node.string_attr("activation", "") == kClampedSwigluName;
    const std::int64_t pairs = experts * experts, hidden = cols(x);
    // The router is a model weight, but it stays fp16 (a data constant) with int8 weights:
    // a quantised router flips top-k choices, and the reference keeps it fp16 too.
    keep_as_data(router);
    const int spread_self = routing_constant(fmt::format("moe_spread_self_{}", experts), experts, pairs,
                                             [&](std::int64_t e, std::int64_t lane) { return lane / experts == e ? 1.0f : 0.0f; });
    const int spread_other = routing_constant(fmt::format("moe_spread_other_{}", experts), experts, pairs,
                                              [&](std::int64_t f, std::int64_t lane) { return lane % experts == f ? 1.0f : 0.0f; });
    // -rank: lane e*E+f of "beats" counts for e when f > e, of "ties_or_beats" when f < e.
    const int count_later = routing_constant(fmt::format("moexperts_later_{}", experts), pairs, experts,
                                             [&](std::int64_t lane, std::int64_t e) {
                                               return lane / experts == e && lane % experts > e ? -1.0f : 0.0f;
                                             });
    const int count_earlier = routing_constant(fmt::format("moexperts_earlier_{}", experts), pairs, experts,
                                               [&](std::int64_t lane, std::int64_t e) {
                                                 return lane / experts == e && lane % experts < e ? -1.0f : 0.0f;
                                               });
    const int ones = routing_constant(fmt::format("moe_ones_{}", experts), experts, experts,
                                      [](std::int64_t, std::int64_t) { return 1.0f; });

    // Graph order decides priority in the list scheduler: the router logits, then the
    // experts (they need only x), then the rest of the routing, a long chain of small steps
    // that overlaps the experts' matmuls. tiny-mixtral decode step: 6911 cycles; routing
    // before the experts 7140, experts before the logits 6994.
    int r = matmul(x, router, name + ".logits");
    if (layout.biases) {
      // The router bias stays fp16 data like the router (a routing decision, not a matmul weight).
      const int rb = mapped(node.inputs[layout.router_bias()]);
      keep_as_data(rb);
      r = binary(OpKind::Add, r, rb, name + ".logits_biased");
    }
    std::vector<int> expert_out;
    for (std::int64_t i = 0; i < local; ++i) {
      const std::string p = fmt::format("{}.e{}", name, first + i);
      const auto in = [&](std::size_t part) { return mapped(node.inputs[layout.input(i, part)]); };
      const auto biased = [&](int y, std::size_t part, const std::string& what) {
        return layout.biases ? binary(OpKind::Add, y, in(part), p + "." + what + "_bias") : y;
      };
      // Up before gate: graph order is the list scheduler's priority, and this order (what
      // GCC's right-to-left argument evaluation used to give) is the one the goldens pin.
      const int up = biased(matmul(x, in(1), p + ".up_proj"), 4, "up");
      const int gate = biased(matmul(x, in(0), p + ".gate_proj"), 3, "gate");
      const int h = clamped ? clamped_swiglu(node, gate, up, p + ".hidden")
                            : binary(OpKind::Mul, activation(node, gate, p + ".act"), up, p + ".hidden");
      const int down = matmul(h, in(2), p + ".down_proj");
      expert_out.push_back(down_bias ? binary(OpKind::Add, down, in(5), p + ".down_bias") : down);
    }
    const int r_lo = fp16_remainder(r, name + ".logits");
    const int rs = exact_spread(r, r_lo, spread_self, name + ".self");
    const int ro = exact_spread(r, r_lo, spread_other, name + ".other");
    const int beats = binary(OpKind::Greater, ro, rs, name + ".beats");
    const int ties_or_beats = binary(OpKind::GreaterEqual, ro, rs, name + ".beats_or_ties");
    const int neg_rank = two_term_matmul(beats, count_later, ties_or_beats, count_earlier, name + ".neg_rank");
    // Ranks are small integers: -rank > 0.5 - k is rank < k, -rank > -0.5 is rank == 0.
    const int selected = emit(OpKind::Greater, {neg_rank}, shape_of(neg_rank), name + ".selected",
                              {{"immediate", 0.5 - static_cast<double>(top_k)}});
    const int top = emit(OpKind::Greater, {neg_rank}, shape_of(neg_rank), name + ".top", {{"immediate", -0.5}});
    // The shift only keeps exp in range; it cancels in the normalisation, so fp16 is fine.
    const int shift = matmul(binary(OpKind::Mul, r, top, name + ".top_logit"), ones, name + ".shift");
    const int e = unary(OpKind::Exp, binary(OpKind::Sub, r, shift, name + ".shifted"), name + ".exp");
    const int kept = binary(OpKind::Mul, e, selected, name + ".kept");
    // Renormalised (Mixtral; Qwen3-MoE with norm_topk_prob): the chosen k weights sum to one.
    // Otherwise each chosen expert keeps its softmax probability over all experts.
    const bool renormalize = node.int_attr("renormalize", 1) != 0;
    const int normaliser = renormalize ? kept : e;
    // The sum on all 320 lanes of a tile, as row_sum does: a lane past E would hold 0, its
    // rsqrt inf, and inf * 0 in the next matmul NaN.
    const int ones_tile = routing_constant(fmt::format("moe_ones_{}_tile", experts), experts, kLanes,
                                           [](std::int64_t, std::int64_t) { return 1.0f; });
    const int total = exact_spread(normaliser, fp16_remainder(normaliser, name + (renormalize ? ".kept" : ".exp")), ones_tile,
                                   name + ".total");
    const int gate = binary(OpKind::Mul, kept, reciprocal(total, name + ".inv_total"), name + ".gate", "tile");
    // Each expert's gate goes onto the hidden lanes exactly (exact_spread).
    const int gate_lo = fp16_remainder(gate, name + ".gate");
    int sum = -1;
    for (std::int64_t i = 0; i < local; ++i) {
      const std::int64_t expert = first + i;
      const std::string p = fmt::format("{}.e{}", name, expert);
      const int y = expert_out[static_cast<std::size_t>(i)];
      const int expand = routing_constant(fmt::format("moe_expand_{}_{}_{}", experts, expert, hidden), experts, hidden,
                                          [&](std::int64_t row, std::int64_t) { return row == expert ? 1.0f : 0.0f; });
      const int weighted = binary(OpKind::Mul, y, exact_spread(gate, gate_lo, expand, p + ".gate_lanes"), p + ".weighted");
      sum = sum < 0 ? weighted : binary(OpKind::Add, sum, weighted, i + 1 == local ? name : p + ".sum");
    }
    return sum;
  }

  void rewrite(const Node& node) {
    layer_ = node.layer;  // every node made from this one computes the same layer
    const std::string& name = in_.tensors[static_cast<std::size_t>(node.outputs.empty() ? node.inputs[0] : node.outputs[0])].name;
    auto in = [&](std::size_t i) { return mapped(node.inputs[i]); };
    int result = -1;
    switch (node.kind) {
      case OpKind::MatMul: {
        // A matmul of a lane concat becomes a sum of matmuls over the parts (no data moves).
        const int src = node.inputs[0];
        if (concat_parts_.count(src) && node.int_attr("transpose_w", 0) == 0) {
          Node multi;
          multi.kind = OpKind::MatMul;
          multi.name = name;
          multi.layer = layer_;
          std::int64_t row = 0;
          for (int part : concat_parts_[src]) {
            const std::int64_t width = cols(part);
            multi.inputs.push_back(part);
            multi.inputs.push_back(weight_rows(in(1), row, row + width, fmt::format("{}.w{}", name, row)));
            row += width;
          }
          multi.outputs.push_back(tensor(name, {rows(concat_parts_[src][0]), cols(in(1))}));
          out_.nodes.push_back(multi);
          result = multi.outputs[0];
        } else {
          result = matmul(in(0), in(1), name, node.int_attr("transpose_w", 0) != 0);
        }
        break;
      }
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min: case OpKind::Greater:
      case OpKind::GreaterEqual:
        result = node.inputs.size() > 1 ? binary(node.kind, in(0), in(1), name, node.string_attr("broadcast", ""))
                                        : emit(node.kind, {in(0)}, shape_of(in(0)), name,
                                               {{"immediate", node.float_attr("immediate", 0.0)}});
        break;
      case OpKind::Neg: case OpKind::Exp: case OpKind::Exp2: case OpKind::Rsqrt: case OpKind::Tanh: case OpKind::Relu:
        result = unary(node.kind, in(0), name);
        break;
      case OpKind::Scale: result = scale(in(0), node.float_attr("value", 1.0), name); break;
      case OpKind::Sigmoid: result = sigmoid(in(0), name); break;
      case OpKind::Silu: result = binary(OpKind::Mul, in(0), sigmoid(in(0), name + ".sigmoid"), name); break;
      case OpKind::GeluTanh: result = gelu_tanh(in(0), name); break;
      case OpKind::Gelu: result = gelu_erf(in(0), name); break;
      case OpKind::Softmax: {
        // exp(x - m) / sum(exp(x - m)) along lanes, m ~ the row's max so exp cannot overflow.
        // The rotation constants are N x N: beyond kMaxShiftedSoftmaxLanes they would cost
        // hundreds of MB (host) and many MXM blocks (SRAM), so wider rows skip the shift and
        // are exact only while every x < 88 (exp overflows fp32 above).
        const int shifted = cols(in(0)) <= kMaxShiftedSoftmaxLanes
                                ? binary(OpKind::Sub, in(0), lane_max(in(0), name + ".max"), name + ".shifted")
                                : in(0);
        const int e = unary(OpKind::Exp, shifted, name + ".exp");
        result = binary(OpKind::Mul, e, reciprocal(row_sum(e, name + ".sum"), name + ".inv"), name, "tile");
        break;
      }
      case OpKind::LayerNorm: result = layer_norm(node, in(0), in(1), in(2), name); break;
      case OpKind::RmsNorm: result = rms_norm(node, in(0), in(1), name); break;
      case OpKind::Rope: result = rope(node, in(0), name); break;
      case OpKind::Attention: result = attention(node, name); break;
      case OpKind::MoeMlp: result = moe_mlp(node, name); break;
      case OpKind::AllReduce: case OpKind::Recv: case OpKind::Send: {
        // Multi-chip transfers are primitives: kept as they are, with their chips.
        Node copy = node;
        copy.inputs.clear();
        for (std::size_t i = 0; i < node.inputs.size(); ++i) copy.inputs.push_back(in(i));
        copy.outputs.clear();
        if (!node.outputs.empty())
          copy.outputs.push_back(tensor(name, in_.tensors[static_cast<std::size_t>(node.outputs[0])].shape));
        out_.nodes.push_back(copy);
        result = copy.outputs.empty() ? -1 : copy.outputs[0];
        break;
      }
      case OpKind::Gather: {
        // The embedding lookup runs on the host; its rows arrive as an input.
        TensorInfo t;
        t.name = name;
        t.role = TensorRole::Input;
        t.shape = in_.tensors[static_cast<std::size_t>(node.outputs[0])].shape;
        result = out_.add_tensor(t);
        host_gathers_.insert(name);
        break;
      }
      case OpKind::Concat: {
        const std::int64_t axis = node.int_attr("axis", 1);
        std::vector<int> parts;
        for (std::size_t i = 0; i < node.inputs.size(); ++i) parts.push_back(in(i));
        if (axis == 0) {
          std::int64_t r = 0;
          for (int p : parts) r += rows(p);
          result = materialised_if_output(
              node, emit(OpKind::Concat, parts, {r, cols(parts[0])}, view_name(node, name), {{"axis", std::int64_t{0}}}), name);
          break;
        }
        // Along lanes: kept as parts for matmuls that read it; materialised for anything else
        // (a graph output included: it needs words of its own).
        concat_parts_[node.outputs[0]] = parts;
        std::int64_t total = 0;
        for (int p : parts) total += cols(p);
        bool only_matmuls = !is_graph_output(node);
        for (const auto& other : in_.nodes)
          for (std::size_t i = 0; i < other.inputs.size(); ++i)
            if (other.inputs[i] == node.outputs[0] && (other.kind != OpKind::MatMul || i != 0)) only_matmuls = false;
        if (only_matmuls) {
          map_[static_cast<std::size_t>(node.outputs[0])] = parts[0];  // placeholder; matmuls use the parts
          return;
        }
        std::vector<int> moved;
        std::int64_t offset = 0;
        for (std::size_t i = 0; i < parts.size(); ++i) {
          moved.push_back(placed(parts[i], offset, total, fmt::format("{}.part{}", name, i)));
          offset += cols(parts[i]);
        }
        result = moved[0];
        for (std::size_t i = 1; i < moved.size(); ++i)
          result = binary(OpKind::Add, result, moved[i], i + 1 == moved.size() ? name : fmt::format("{}.acc{}", name, i));
        break;
      }
      case OpKind::Slice: {
        const std::int64_t axis = node.int_attr("axis", 0);
        const std::int64_t begin = node.int_attr("begin", 0), end = node.int_attr("end", 0);
        if (axis == 0) {
          result = materialised_if_output(
              node, emit(OpKind::Slice, {in(0)}, {end - begin, cols(in(0))}, view_name(node, name), node.attrs), name);
        } else {
          const std::int64_t width = cols(in(0));
          std::vector<float> p(static_cast<std::size_t>(width * (end - begin)), 0.0f);
          for (std::int64_t i = begin; i < end; ++i) p[static_cast<std::size_t>(i * (end - begin) + i - begin)] = 1.0f;
          result = matmul(in(0), constant(name + ".select", {width, end - begin}, p), name);
        }
        break;
      }
      default:
        fail(node, fmt::format("lowering {} is not implemented yet", op_name(node.kind)));
    }
    if (!node.outputs.empty()) map_[static_cast<std::size_t>(node.outputs[0])] = result;
  }

  static constexpr std::int64_t kLanes = 320;
  static constexpr std::int64_t kMaxShiftedSoftmaxLanes = 1024;
  const Graph& in_;
  Graph out_;
  std::vector<int> map_;
  std::map<int, int> uses_;
  std::map<std::int64_t, int> ones_;
  std::map<std::string, int> reduce_, expand_, dup_, routing_, rotate_lanes_;
  std::map<int, std::vector<int>> concat_parts_;
  std::set<std::string> host_gathers_;
  int layer_ = -1;  ///< the layer of the node being rewritten
};

}  // namespace

Graph decompose(const Graph& graph) { return Rewriter(graph).run(); }

}  // namespace lpusim
