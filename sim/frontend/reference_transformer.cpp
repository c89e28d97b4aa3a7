#include "frontend/reference_transformer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "compiler/ir/weight_init.hpp"

namespace lpusim {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Fp32: return "fp32";
    case Precision::Fp16Matmul: return "fp16-matmul";
    case Precision::Int8: return "int8";
    case Precision::Fp8E4M3: return "fp8e4m3";
    case Precision::Fp8E5M2: return "fp8e5m2";
    case Precision::Int8Fp16: return "int8-stored fp16-computed";
    case Precision::Fp8E4M3Fp16: return "fp8e4m3-stored fp16-computed";
    case Precision::Fp8E5M2Fp16: return "fp8e5m2-stored fp16-computed";
  }
  return "?";
}

Precision precision_for(WeightType weights, MatmulCompute compute) {
  const bool fp16 = compute == MatmulCompute::Fp16;
  switch (weights) {
    case WeightType::Fp16: return Precision::Fp16Matmul;
    case WeightType::Int8: return fp16 ? Precision::Int8Fp16 : Precision::Int8;
    case WeightType::Fp8E4M3: return fp16 ? Precision::Fp8E4M3Fp16 : Precision::Fp8E4M3;
    case WeightType::Fp8E5M2: return fp16 ? Precision::Fp8E5M2Fp16 : Precision::Fp8E5M2;
  }
  return Precision::Fp16Matmul;
}

namespace {
bool is_int8(Precision p) { return p == Precision::Int8 || p == Precision::Int8Fp16; }
bool is_fp8(Precision p) {
  return p == Precision::Fp8E4M3 || p == Precision::Fp8E5M2 || p == Precision::Fp8E4M3Fp16 || p == Precision::Fp8E5M2Fp16;
}
Fp8Format fp8_format_of(Precision p) {
  return p == Precision::Fp8E5M2 || p == Precision::Fp8E5M2Fp16 ? Fp8Format::E5M2 : Fp8Format::E4M3;
}
bool computes_in_fp16(Precision p) {
  return p == Precision::Int8Fp16 || p == Precision::Fp8E4M3Fp16 || p == Precision::Fp8E5M2Fp16;
}
}  // namespace

void ReferenceTransformer::quantize(Linear& l) const {
  if (is_int8(l.precision)) l.q = quantize_weights_int8(l.w);
  if (is_fp8(l.precision)) l.q8 = quantize_weights_fp8(l.w, fp8_format_of(l.precision), l.mxfp4);
}

std::vector<double> rope_inverse_frequencies(std::int64_t head_dim, double theta, const RopeScaling& scaling) {
  const double pi = 3.14159265358979323846;
  std::vector<double> inv(static_cast<std::size_t>(head_dim / 2));
  // YaRN's correction range [low, high] in dimension pairs (transformers' find_correction_range).
  double low = 0, high = 0;
  if (scaling.kind == RopeScaling::Kind::Yarn) {
    const double dim = static_cast<double>(head_dim), context = static_cast<double>(scaling.original_max_position);
    auto correction_dim = [&](double rotations) { return dim * std::log(context / (rotations * 2.0 * pi)) / (2.0 * std::log(theta)); };
    low = correction_dim(scaling.beta_fast);
    high = correction_dim(scaling.beta_slow);
    if (scaling.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, dim - 1.0);
    if (low == high) high += 0.001;
  }
  for (std::size_t i = 0; i < inv.size(); ++i) {
    double f = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    if (scaling.kind == RopeScaling::Kind::Yarn) {
      // Interpolated (f / factor) above the range, extrapolated (f) below, a ramp between.
      const double ramp = std::min(1.0, std::max(0.0, (static_cast<double>(i) - low) / (high - low)));
      f = (f / scaling.factor) * ramp + f * (1.0 - ramp);
    } else if (scaling.kind == RopeScaling::Kind::Linear) {
      f /= scaling.factor;
    } else if (scaling.kind == RopeScaling::Kind::Llama3) {
      // Long wavelengths are slowed by `factor`, short ones kept, and the band between
      // the two wavelength limits interpolates (Llama 3.1's rope_scaling).
      const double old_context = static_cast<double>(scaling.original_max_position);
      const double low_freq_wavelen = old_context / scaling.low_freq_factor;
      const double high_freq_wavelen = old_context / scaling.high_freq_factor;
      const double wavelen = 2.0 * pi / f;
      if (wavelen > low_freq_wavelen) {
        f /= scaling.factor;
      } else if (wavelen >= high_freq_wavelen) {
        const double smooth = (old_context / wavelen - scaling.low_freq_factor) /
                              (scaling.high_freq_factor - scaling.low_freq_factor);
        f = (1.0 - smooth) * f / scaling.factor + smooth * f;
      }
    }
    inv[i] = f;
  }
  return inv;
}

Eigen::MatrixXf apply_rope(const Eigen::MatrixXf& x, std::int64_t head_dim, std::int64_t first_position,
                           const std::vector<double>& inverse_frequencies, std::int64_t rotary_dim,
                           double attention_factor) {
  Eigen::MatrixXf out = x;
  const Eigen::Index half = static_cast<Eigen::Index>((rotary_dim > 0 ? rotary_dim : head_dim) / 2);
  const Eigen::Index heads = x.cols() / static_cast<Eigen::Index>(head_dim);
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const double position = static_cast<double>(first_position + t);
    for (Eigen::Index i = 0; i < half; ++i) {
      const double angle = position * inverse_frequencies[static_cast<std::size_t>(i)];
      const float c = static_cast<float>(attention_factor * std::cos(angle));
      const float s = static_cast<float>(attention_factor * std::sin(angle));
      for (Eigen::Index h = 0; h < heads; ++h) {
        const Eigen::Index base = h * static_cast<Eigen::Index>(head_dim);
        const float x1 = x(t, base + i);
        const float x2 = x(t, base + half + i);
        out(t, base + i) = x1 * c - x2 * s;
        out(t, base + half + i) = x2 * c + x1 * s;
      }
    }
  }
  return out;
}

float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

Eigen::MatrixXf softmax_rows(const Eigen::MatrixXf& x) {
  Eigen::MatrixXf out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float max = x.row(r).maxCoeff();
    out.row(r) = (x.row(r).array() - max).exp().matrix();
    out.row(r) /= out.row(r).sum();
  }
  return out;
}

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The values of weight `name`, checked to have `shape`, as a column-major matrix
/// (a 1-D shape gives a column vector).
Eigen::MatrixXf weight_values(const Graph& g, const std::string& name, const std::vector<std::int64_t>& shape) {
  const int id = g.find(name);
  if (id < 0) throw std::invalid_argument(fmt::format("reference: graph has no tensor '{}'", name));
  const TensorInfo& t = g.tensors[static_cast<std::size_t>(id)];
  if (t.role != TensorRole::Weight) throw std::invalid_argument(fmt::format("reference: '{}' is not a weight", name));
  if (t.shape != shape)
    throw std::invalid_argument(fmt::format("reference: weight '{}' has shape [{}], expected [{}]", name,
                                            fmt::join(t.shape, ", "), fmt::join(shape, ", ")));
  const std::vector<float> values = make_weight_values(t);
  const Eigen::Index rows = static_cast<Eigen::Index>(shape[0]);
  const Eigen::Index cols = shape.size() > 1 ? static_cast<Eigen::Index>(shape[1]) : 1;
  return Eigen::Map<const RowMajor>(values.data(), rows, cols);
}
}  // namespace

ReferenceTransformer::Linear ReferenceTransformer::load_linear(const Graph& g, const std::string& prefix, std::int64_t in,
                                                   std::int64_t out, bool bias) const {
  Linear l;
  l.w = weight_values(g, prefix + ".weight", {in, out});
  l.node = prefix;
  l.precision = precision_;
  if (checkpoint_weights_) {
    const std::string& format = g.tensors[static_cast<std::size_t>(g.find(prefix + ".weight"))].checkpoint_format;
    if (format.empty()) {
      l.precision = Precision::Fp16Matmul;
    } else if (format == "mxfp4") {
      // Each output column in blocks of 32 along K, as the checkpoint holds it.
      for (Eigen::Index c = 0; c < l.w.cols(); ++c) {
        std::vector<float> column(l.w.col(c).data(), l.w.col(c).data() + l.w.rows());
        const std::vector<float> q = quantize_mxfp4(column);
        for (Eigen::Index k = 0; k < l.w.rows(); ++k) l.w(k, c) = q[static_cast<std::size_t>(k)];
      }
      l.mxfp4 = true;
      l.precision = precision_for(WeightType::Fp8E4M3, compute_);
    } else {
      l.precision = precision_for(format == "fp8e5m2" ? WeightType::Fp8E5M2 : WeightType::Fp8E4M3, compute_);
    }
  }
  if (bias) l.b = weight_values(g, prefix + ".bias", {out});
  quantize(l);
  return l;
}

ReferenceTransformer::Norm ReferenceTransformer::load_norm(const Graph& g, const std::string& prefix) const {
  Norm n;
  n.gamma = weight_values(g, prefix + ".weight", {spec_.hidden});
  if (spec_.norm == NormKind::LayerNorm) n.beta = weight_values(g, prefix + ".bias", {spec_.hidden});
  return n;
}

ReferenceTransformer::ReferenceTransformer(const TransformerSpec& spec, const Graph& g, MatmulCompute compute,
                                           bool checkpoint_weights)
    : ReferenceTransformer(spec, g, Precision::Fp16Matmul, checkpoint_weights, compute) {}

ReferenceTransformer::ReferenceTransformer(const TransformerSpec& spec, const Graph& g, Precision precision)
    : ReferenceTransformer(spec, g, precision, false, MatmulCompute::Native) {}

ReferenceTransformer::ReferenceTransformer(const TransformerSpec& spec, const Graph& g, Precision precision,
                                           bool checkpoint_weights, MatmulCompute compute)
    : spec_(spec), precision_(precision), checkpoint_weights_(checkpoint_weights), compute_(compute) {
  const TransformerSpec& s = spec_;
  const std::int64_t q_width = s.heads * s.head_dim;
  const std::int64_t kv_width = s.kv_heads * s.head_dim;
  embed_ = weight_values(g, "embed.weight", {s.vocab_size, s.hidden});
  if (s.positions == PositionKind::Learned) pos_embed_ = weight_values(g, "pos_embed.weight", {s.max_positions, s.hidden});
  if (s.type_vocab_size > 0) type_embed_ = weight_values(g, "type_embed.weight", {s.type_vocab_size, s.hidden});
  if (s.embedding_norm) embed_norm_ = load_norm(g, "embed_norm");

  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string l = fmt::format("l{}", i);
    Layer layer;
    layer.attn_norm = load_norm(g, l + ".attn_norm");
    if (!s.parallel_block) layer.mlp_norm = load_norm(g, l + ".mlp_norm");
    if (s.norm_placement == NormPlacement::Sandwich) {
      layer.attn_post_norm = load_norm(g, l + ".attn_post_norm");
      layer.mlp_post_norm = load_norm(g, l + ".mlp_post_norm");
    }
    if (s.positions == PositionKind::Rope)
      layer.inv_freq = rope_inverse_frequencies(s.rotary_dim > 0 ? s.rotary_dim : s.head_dim, s.rope_theta_of(i),
                                                s.rope_scaling_of(i));
    layer.rope_attention_factor = s.rope_scaling_of(i).kind == RopeScaling::Kind::Yarn ? s.rope_scaling_of(i).attention_factor : 1.0;
    layer.window = s.window_of(i);
    layer.moe = s.is_moe_layer(i);
    if (s.qk_norm != QkNorm::None) {
      const bool per_head = s.qk_norm == QkNorm::PerHead;
      layer.q_norm = weight_values(g, l + ".attn.q_norm.weight", {per_head ? s.head_dim : q_width});
      layer.k_norm = weight_values(g, l + ".attn.k_norm.weight", {per_head ? s.head_dim : kv_width});
    }
    layer.q = load_linear(g, l + ".attn.q", s.hidden, q_width, s.qkv_bias);
    layer.k = load_linear(g, l + ".attn.k", s.hidden, kv_width, s.qkv_bias);
    layer.v = load_linear(g, l + ".attn.v", s.hidden, kv_width, s.qkv_bias);
    layer.o = load_linear(g, l + ".attn.o", q_width, s.hidden, s.attention_out_bias);
    if (s.attention_sinks) layer.sinks = weight_values(g, l + ".attn.sinks", {s.heads});
    if (layer.moe) {
      layer.router = load_linear(g, l + ".moe.router", s.hidden, s.experts, s.expert_biases);
      const std::int64_t f = s.expert_width();
      for (std::int64_t e = 0; e < s.experts; ++e) {
        const std::string p = fmt::format("{}.moe.e{}", l, e);
        layer.experts.push_back({load_linear(g, p + ".w1", s.hidden, f, s.expert_biases),
                                 load_linear(g, p + ".w3", s.hidden, f, s.expert_biases),
                                 load_linear(g, p + ".w2", f, s.hidden, s.expert_biases)});
      }
    } else if (s.gated_mlp) {
      layer.gate = load_linear(g, l + ".mlp.gate", s.hidden, s.intermediate, s.mlp_bias);
      layer.up = load_linear(g, l + ".mlp.up", s.hidden, s.intermediate, s.mlp_bias);
      layer.down = load_linear(g, l + ".mlp.down", s.intermediate, s.hidden, s.mlp_bias);
    } else {
      layer.fc1 = load_linear(g, l + ".mlp.fc1", s.hidden, s.intermediate, s.mlp_bias);
      layer.fc2 = load_linear(g, l + ".mlp.fc2", s.intermediate, s.hidden, s.mlp_bias);
    }
    layer.k_cache = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(s.max_positions), static_cast<Eigen::Index>(kv_width));
    layer.v_cache = layer.k_cache;
    layers_.push_back(std::move(layer));
  }

  if (s.has_lm_head) {
    if (!s.post_norm) final_norm_ = load_norm(g, "final_norm");
    if (s.tie_embeddings) {
      lm_head_.w = embed_.transpose();
      lm_head_.node = s.final_softcap > 0 ? "lm_head.out" : "logits";
      // A tied head is the embedding table, which checkpoints keep in 16 bits.
      lm_head_.precision = checkpoint_weights_ ? Precision::Fp16Matmul : precision_;
      quantize(lm_head_);
    } else {
      lm_head_ = load_linear(g, "lm_head", s.hidden, s.vocab_size, s.lm_head_bias);
      // The graph's lm_head matmul writes the "logits" tensor (or "lm_head.out" before phi's
      // bias or gemma2's soft-capping).
      lm_head_.node = s.lm_head_bias || s.final_softcap > 0 ? "lm_head.out" : "logits";
    }
  }
}

Eigen::MatrixXf ReferenceTransformer::apply(const Linear& l, const Eigen::MatrixXf& x, bool weights_may_be_int8) const {
  Eigen::MatrixXf y;
  const auto given = act_scales_.find(l.node);
  const Precision precision = l.precision;
  if (precision == Precision::Int8 && weights_may_be_int8) {
    y = given == act_scales_.end() ? matmul_int8(x, l.q)
                                   : matmul_int8(quantize_activations_int8(x, static_cast<float>(given->second)), l.q);
  } else if (is_fp8(precision) && !computes_in_fp16(precision) && weights_may_be_int8) {
    const std::optional<float> scale =
        given == act_scales_.end() ? std::nullopt : std::optional<float>(static_cast<float>(given->second));
    y = matmul_fp8(quantize_activations_fp8(x, l.q8.format, scale), l.q8);
  } else if (computes_in_fp16(precision) && weights_may_be_int8) {
    y = is_int8(precision) ? matmul_fp16_dequantized(x, l.q.codes.cast<float>(), l.q.scale)
                            : matmul_fp16_dequantized(x, l.q8.codes, l.q8.scale);
  } else if (precision == Precision::Fp32) {
    y = x * l.w;
  } else {
    y = matmul_fp16(x, l.w);
  }
  if (l.b.size() > 0) y.rowwise() += l.b.transpose();
  return y;
}

Eigen::MatrixXf ReferenceTransformer::matmul(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) const {
  return precision_ == Precision::Fp32 ? Eigen::MatrixXf(a * b) : matmul_fp16(a, b);
}

Eigen::MatrixXf ReferenceTransformer::norm(const Norm& n, const Eigen::MatrixXf& x) const {
  Eigen::MatrixXf y(x.rows(), x.cols());
  const float eps = static_cast<float>(spec_.norm_eps);
  const float width = static_cast<float>(x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    if (spec_.norm == NormKind::LayerNorm) {
      const float mean = x.row(r).sum() / width;
      const Eigen::RowVectorXf centred = x.row(r).array() - mean;
      const float variance = centred.squaredNorm() / width;
      y.row(r) = (centred / std::sqrt(variance + eps)).cwiseProduct(n.gamma.transpose()) + n.beta.transpose();
    } else {
      const float mean_square = x.row(r).squaredNorm() / width;
      const Eigen::RowVectorXf gamma =
          spec_.norm_adds_one ? Eigen::RowVectorXf(n.gamma.transpose().array() + 1.0f) : Eigen::RowVectorXf(n.gamma.transpose());
      y.row(r) = (x.row(r) / std::sqrt(mean_square + eps)).cwiseProduct(gamma);
    }
  }
  return y;
}

Eigen::MatrixXf ReferenceTransformer::rms_norm_groups(const Eigen::VectorXf& gamma, const Eigen::MatrixXf& x) const {
  const Eigen::Index group = gamma.size();
  const float eps = static_cast<float>(spec_.norm_eps);
  Eigen::MatrixXf y(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index start = 0; start < x.cols(); start += group) {
      const Eigen::RowVectorXf part = x.row(r).segment(start, group);
      const float mean_square = part.squaredNorm() / static_cast<float>(group);
      const Eigen::RowVectorXf g =
          spec_.norm_adds_one ? Eigen::RowVectorXf(gamma.transpose().array() + 1.0f) : Eigen::RowVectorXf(gamma.transpose());
      y.row(r).segment(start, group) = (part / std::sqrt(mean_square + eps)).cwiseProduct(g);
    }
  return y;
}

Eigen::MatrixXf ReferenceTransformer::activate(const Eigen::MatrixXf& x) const {
  switch (spec_.activation) {
    case ActivationKind::Gelu: return x.unaryExpr([](float v) { return gelu_erf(v); });
    case ActivationKind::GeluTanh: return x.unaryExpr([](float v) { return gelu_tanh(v); });
    case ActivationKind::Silu: return x.unaryExpr([](float v) { return silu(v); });
    case ActivationKind::Relu: return x.cwiseMax(0.0f);
  }
  return x;
}

Eigen::MatrixXf ReferenceTransformer::attention(Layer& layer, const Eigen::MatrixXf& x, int past) {
  const TransformerSpec& s = spec_;
  const Eigen::Index t_new = x.rows();
  const Eigen::Index d = static_cast<Eigen::Index>(s.head_dim);
  Eigen::MatrixXf q = apply(layer.q, x);
  Eigen::MatrixXf k = apply(layer.k, x);
  const Eigen::MatrixXf v = apply(layer.v, x);
  if (s.qk_norm != QkNorm::None) {
    q = rms_norm_groups(layer.q_norm, q);
    k = rms_norm_groups(layer.k_norm, k);
  }
  if (s.positions == PositionKind::Rope) {
    q = apply_rope(q, s.head_dim, past, layer.inv_freq, s.rotary_dim, layer.rope_attention_factor);
    k = apply_rope(k, s.head_dim, past, layer.inv_freq, s.rotary_dim, layer.rope_attention_factor);
  }
  // Ministral 3 / Llama 4 (transformers' get_llama_4_attn_scale): each query row times
  // 1 + beta ln(1 + floor(position / original max)).
  if (s.query_scale_beta != 0.0)
    for (Eigen::Index t = 0; t < t_new; ++t) q.row(t) *= static_cast<float>(s.query_scale_of(past + t));
  layer.k_cache.middleRows(past, t_new) = k;
  layer.v_cache.middleRows(past, t_new) = v;

  const Eigen::Index keys = past + t_new;
  const Eigen::Index group = static_cast<Eigen::Index>(s.heads / s.kv_heads);
  const float scale = static_cast<float>(s.attention_scale_value());
  const float softcap = static_cast<float>(s.attention_softcap);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  Eigen::MatrixXf out(t_new, static_cast<Eigen::Index>(s.heads) * d);
  for (Eigen::Index h = 0; h < static_cast<Eigen::Index>(s.heads); ++h) {
    const Eigen::Index kv = h / group;  // GQA: consecutive query heads share a kv head
    const Eigen::MatrixXf qh = q.middleCols(h * d, d);
    const Eigen::MatrixXf kh = layer.k_cache.block(0, kv * d, keys, d);
    const Eigen::MatrixXf vh = layer.v_cache.block(0, kv * d, keys, d);
    Eigen::MatrixXf scores = matmul(qh, kh.transpose()) * scale;
    if (softcap > 0) scores = ((scores.array() / softcap).tanh() * softcap).matrix();
    for (Eigen::Index t = 0; t < t_new; ++t) {
      const Eigen::Index position = past + t;
      for (Eigen::Index j = 0; j < keys; ++j) {
        const bool future = s.causal && j > position;
        // A window of W keeps the W most recent positions, the query's own included.
        const bool outside_window = layer.window > 0 && j <= position - layer.window;
        if (future || outside_window) scores(t, j) = neg_inf;
      }
    }
    if (layer.sinks.size() > 0) {
      // gpt_oss (transformers' eager_attention_forward): the sink is one more logit in each
      // row's softmax whose probability is dropped: it only adds to the denominator.
      const float sink = layer.sinks(h);
      for (Eigen::Index t = 0; t < t_new; ++t) {
        const float m = std::max(scores.row(t).maxCoeff(), sink);
        const Eigen::ArrayXXf e = (scores.row(t).array() - m).exp();
        scores.row(t) = (e / (e.sum() + std::exp(sink - m))).matrix();
      }
      out.middleCols(h * d, d) = matmul(scores, vh);
    } else {
      out.middleCols(h * d, d) = matmul(softmax_rows(scores), vh);
    }
  }
  return apply(layer.o, out);
}

Eigen::MatrixXf ReferenceTransformer::clamped_swiglu(const Eigen::MatrixXf& gate, const Eigen::MatrixXf& up) const {
  // transformers' GptOssExperts: gate clamped above, up on both sides, (up + 1) * gate * sigmoid(alpha gate).
  const float limit = static_cast<float>(spec_.expert_glu_limit), alpha = static_cast<float>(spec_.expert_glu_alpha);
  const Eigen::ArrayXXf g = gate.array().min(limit);
  const Eigen::ArrayXXf u = up.array().min(limit).max(-limit);
  const Eigen::ArrayXXf glu = g / (1.0f + (-alpha * g).exp());
  return ((u + 1.0f) * glu).matrix();
}

Eigen::MatrixXf ReferenceTransformer::mlp(const Layer& layer, const Eigen::MatrixXf& x) const {
  const TransformerSpec& s = spec_;
  if (layer.moe) {
    // Hugging Face Mixtral: softmax over all router logits, keep the top k, renormalise
    // them to sum to one, and add the chosen experts' outputs with those weights (without
    // renormalising, Qwen3-MoE's norm_topk_prob false: each keeps its softmax probability).
    const Eigen::MatrixXf probabilities = softmax_rows(apply(layer.router, x, /*weights_may_be_int8=*/false));
    Eigen::MatrixXf y = Eigen::MatrixXf::Zero(x.rows(), x.cols());
    std::vector<int> order(static_cast<std::size_t>(s.experts));
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      std::iota(order.begin(), order.end(), 0);
      // Highest probability first; equal ones by expert index, so the choice is deterministic.
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return probabilities(t, a) > probabilities(t, b); });
      float chosen_sum = 0.0f;
      for (std::int64_t k = 0; k < s.experts_per_token; ++k) chosen_sum += probabilities(t, order[static_cast<std::size_t>(k)]);
      if (!s.moe_renormalize) chosen_sum = 1.0f;
      const Eigen::MatrixXf row = x.row(t);
      for (std::int64_t k = 0; k < s.experts_per_token; ++k) {
        const int e = order[static_cast<std::size_t>(k)];
        const Expert& expert = layer.experts[static_cast<std::size_t>(e)];
        const Eigen::MatrixXf hidden = s.expert_glu_limit > 0 ? clamped_swiglu(apply(expert.w1, row), apply(expert.w3, row))
                                                              : activate(apply(expert.w1, row)).cwiseProduct(apply(expert.w3, row));
        y.row(t) += (probabilities(t, e) / chosen_sum) * apply(expert.w2, hidden);
      }
    }
    return y;
  }
  if (s.gated_mlp) return apply(layer.down, activate(apply(layer.gate, x)).cwiseProduct(apply(layer.up, x)));
  return apply(layer.fc2, activate(apply(layer.fc1, x)));
}

Eigen::MatrixXf ReferenceTransformer::forward(const std::vector<int>& token_ids, int past,
                                        const std::vector<int>& token_type_ids) {
  const TransformerSpec& s = spec_;
  const Eigen::Index t_new = static_cast<Eigen::Index>(token_ids.size());
  if (t_new == 0) throw std::invalid_argument("reference: no tokens");
  if (past < 0 || past > cached_)
    throw std::invalid_argument(fmt::format("reference: past {} but {} positions cached", past, cached_));
  if (past + t_new > s.max_positions)
    throw std::invalid_argument(fmt::format("reference: {} positions exceed max_positions {}", past + t_new, s.max_positions));
  s.require_positions_modelled(past + t_new);
  if (!token_type_ids.empty() && token_type_ids.size() != token_ids.size())
    throw std::invalid_argument("reference: token_type_ids and token_ids differ in length");

  Eigen::MatrixXf x(t_new, static_cast<Eigen::Index>(s.hidden));
  for (Eigen::Index t = 0; t < t_new; ++t) {
    const int id = token_ids[static_cast<std::size_t>(t)];
    if (id < 0 || id >= s.vocab_size) throw std::invalid_argument(fmt::format("reference: token id {} out of range", id));
    x.row(t) = embed_.row(id);
  }
  if (s.scale_embeddings) x *= static_cast<float>(std::sqrt(static_cast<double>(s.hidden)));
  if (s.positions == PositionKind::Learned) x += pos_embed_.middleRows(past, t_new);
  if (s.type_vocab_size > 0) {
    for (Eigen::Index t = 0; t < t_new; ++t) {
      const int type = token_type_ids.empty() ? 0 : token_type_ids[static_cast<std::size_t>(t)];
      if (type < 0 || type >= s.type_vocab_size)
        throw std::invalid_argument(fmt::format("reference: token type {} out of range", type));
      x.row(t) += type_embed_.row(type);
    }
  }
  if (s.embedding_norm) x = norm(embed_norm_, x);

  for (Layer& layer : layers_) {
    if (s.post_norm) {
      x = norm(layer.attn_norm, x + attention(layer, x, past));
      x = norm(layer.mlp_norm, x + mlp(layer, x));
    } else if (s.parallel_block) {
      const Eigen::MatrixXf n = norm(layer.attn_norm, x);
      const Eigen::MatrixXf a = attention(layer, n, past);
      x += a;
      x += mlp(layer, n);
    } else if (s.norm_placement == NormPlacement::Sandwich) {
      x += norm(layer.attn_post_norm, attention(layer, norm(layer.attn_norm, x), past));
      x += norm(layer.mlp_post_norm, mlp(layer, norm(layer.mlp_norm, x)));
    } else if (s.norm_placement == NormPlacement::PostSublayer) {
      x += norm(layer.attn_norm, attention(layer, x, past));
      x += norm(layer.mlp_norm, mlp(layer, x));
    } else {
      x += attention(layer, norm(layer.attn_norm, x), past);
      x += mlp(layer, norm(layer.mlp_norm, x));
    }
  }
  cached_ = past + static_cast<int>(t_new);
  if (!s.has_lm_head) return x;
  if (!s.post_norm) x = norm(final_norm_, x);
  if (s.final_softcap > 0) {
    const auto c = static_cast<float>(s.final_softcap);
    return ((apply(lm_head_, x).array() / c).tanh() * c).matrix();
  }
  return apply(lm_head_, x);
}

}  // namespace lpusim
