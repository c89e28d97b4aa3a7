#include "frontend/transformer_graph.hpp"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/ir/weight_init.hpp"

namespace lpusim {

const char* rope_scaling_name(RopeScaling::Kind kind) {
  switch (kind) {
    case RopeScaling::Kind::None: return "none";
    case RopeScaling::Kind::Linear: return "linear";
    case RopeScaling::Kind::Llama3: return "llama3";
    case RopeScaling::Kind::Yarn: return "yarn";
  }
  return "none";
}

namespace {

using Shape = std::vector<std::int64_t>;
using Attrs = std::map<std::string, AttrValue>;

// Init scales. Matmul weights are uniform in +-1/sqrt(K), which keeps activations O(1)
// through the layers. Embedding tables get the same 1/sqrt(hidden): a tied table is also
// the LM head, and this keeps its logits O(1) instead of O(sqrt(hidden)). Biases and
// LayerNorm betas are small but non-zero so that a missing or misplaced bias changes the
// output; norm gammas are ones (gemma's "1 + gamma" then doubles, so a forgotten adds_one
// shows too).
constexpr double kBiasScale = 0.1;

class GraphBuilder {
 public:
  GraphBuilder(const TransformerSpec& spec, std::int64_t tokens, std::int64_t past, std::int64_t batch)
      : s_(spec), tokens_(tokens), past_(past), batch_(batch) {
    g_.name = spec.model_type;
    g_.file = spec.file;
  }

  Graph take() { return std::move(g_); }

  int tensor(const std::string& name, Shape shape, TensorRole role) {
    if (g_.find(name) >= 0) throw std::logic_error("graph builder: duplicate tensor " + name);
    TensorInfo t;
    t.name = name;
    t.shape = std::move(shape);
    t.role = role;
    t.init = role == TensorRole::State ? "zeros" : "random";
    t.seed = seed_from_name(name);
    return g_.add_tensor(std::move(t));
  }

  int weight(const std::string& name, Shape shape, const std::string& init, double scale) {
    const int id = tensor(name, std::move(shape), TensorRole::Weight);
    g_.tensors[static_cast<std::size_t>(id)].init = init;
    g_.tensors[static_cast<std::size_t>(id)].init_scale = scale;
    return id;
  }

  /// A node writing one new tensor named `out_name` (an Intermediate unless `role` says otherwise).
  int node(OpKind kind, const std::string& name, std::vector<int> inputs, Shape out_shape, Attrs attrs = {},
           const std::string& out_name = "", TensorRole role = TensorRole::Intermediate) {
    const int out = tensor(out_name.empty() ? name : out_name, std::move(out_shape), role);
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    n.layer = layer_;
    g_.nodes.push_back(std::move(n));
    return out;
  }

  /// Activations: the batch's sequences one after another, tokens_ rows each.
  Shape rows(std::int64_t width) const { return {batch_ * tokens_, width}; }

  /// Sequence b's rows of x (a free row view in the lowering); x itself at batch 1.
  int sequence_rows(int x, std::int64_t b, const std::string& name) {
    if (batch_ == 1) return x;
    const std::int64_t width = g_.tensors[static_cast<std::size_t>(x)].shape[1];
    return node(OpKind::Slice, name, {x}, {tokens_, width},
                {{"axis", std::int64_t{0}}, {"begin", b * tokens_}, {"end", (b + 1) * tokens_}});
  }

  /// The Hugging Face module a linear weight of this graph is in a checkpoint
  /// ("l3.attn.q" -> "model.layers.3.self_attn.q_proj"), for modules_to_not_convert.
  static std::string hf_module(const std::string& prefix) {
    if (prefix == "lm_head") return "lm_head";
    const auto dot = prefix.find('.');
    if (prefix.empty() || prefix[0] != 'l' || dot == std::string::npos) return prefix;
    const std::string layer = "model.layers." + prefix.substr(1, dot - 1) + ".";
    std::string rest = prefix.substr(dot + 1);
    static const std::map<std::string, std::string> names = {
        {"attn.q", "self_attn.q_proj"}, {"attn.k", "self_attn.k_proj"},   {"attn.v", "self_attn.v_proj"},
        {"attn.o", "self_attn.o_proj"}, {"mlp.gate", "mlp.gate_proj"},    {"mlp.up", "mlp.up_proj"},
        {"mlp.down", "mlp.down_proj"},  {"mlp.fc1", "mlp.fc1"},           {"mlp.fc2", "mlp.fc2"},
        {"moe.router", "mlp.router"}};
    if (const auto it = names.find(rest); it != names.end()) return layer + it->second;
    // moe.e{j}.w1 / w3 / w2: the experts' gate, up and down projections.
    if (rest.rfind("moe.e", 0) == 0) {
      const auto d = rest.find('.', 5);
      const std::string expert = rest.substr(5, d - 5), part = rest.substr(d + 1);
      const std::string proj = part == "w1" ? "gate_proj" : part == "w3" ? "up_proj" : "down_proj";
      return layer + "mlp.experts." + expert + "." + proj;
    }
    return layer + rest;
  }

  /// Marks a linear weight with the format the checkpoint stores it in.
  void mark_checkpoint_format(int w, const std::string& prefix) {
    const CheckpointFormat f = s_.quantization.format_of(hf_module(prefix));
    if (f != CheckpointFormat::None)
      g_.tensors[static_cast<std::size_t>(w)].checkpoint_format = checkpoint_format_name(f);
  }

  /// x w (+ b) for a [in, out] weight named prefix.weight (and prefix.bias); `split` says how a
  /// multi-chip partition cuts it (Columns in whole groups of `unit` columns).
  int linear(const std::string& prefix, int x, std::int64_t in, std::int64_t out, bool bias,
             WeightSplit split = WeightSplit::Replicated, std::int64_t unit = 1) {
    const int w = weight(prefix + ".weight", {in, out}, "random", 1.0 / std::sqrt(static_cast<double>(in)));
    mark_checkpoint_format(w, prefix);
    int y = node(OpKind::MatMul, prefix, {x, w}, rows(out));
    g_.nodes.back().split = split;
    g_.nodes.back().split_unit = unit;
    if (bias) {
      const int b = weight(prefix + ".bias", {out}, "random", kBiasScale);
      y = node(OpKind::Add, prefix + ".add_bias", {y, b}, rows(out));
    }
    return y;
  }

  /// RMSNorm over each run of `group` lanes of an [rows, width] tensor (group = width: the
  /// whole row), gamma [group].
  int rms_norm(const std::string& prefix, int x, std::int64_t width, std::int64_t group) {
    const int gamma = weight(prefix + ".weight", {group}, "ones", 1.0);
    Attrs attrs = {{"eps", s_.norm_eps}, {"adds_one", std::int64_t{s_.norm_adds_one ? 1 : 0}}};
    if (group < width) attrs["group"] = group;
    return node(OpKind::RmsNorm, prefix, {x, gamma}, rows(width), attrs);
  }

  int norm(const std::string& prefix, int x, const std::string& out_name = "",
           TensorRole role = TensorRole::Intermediate) {
    const int gamma = weight(prefix + ".weight", {s_.hidden}, "ones", 1.0);
    if (s_.norm == NormKind::LayerNorm) {
      const int beta = weight(prefix + ".bias", {s_.hidden}, "random", kBiasScale);
      return node(OpKind::LayerNorm, prefix, {x, gamma, beta}, rows(s_.hidden), {{"eps", s_.norm_eps}}, out_name,
                  role);
    }
    return node(OpKind::RmsNorm, prefix, {x, gamma}, rows(s_.hidden),
                {{"eps", s_.norm_eps}, {"adds_one", std::int64_t{s_.norm_adds_one ? 1 : 0}}}, out_name, role);
  }

  OpKind activation_op() const {
    switch (s_.activation) {
      case ActivationKind::Gelu: return OpKind::Gelu;
      case ActivationKind::GeluTanh: return OpKind::GeluTanh;
      case ActivationKind::Silu: return OpKind::Silu;
      case ActivationKind::Relu: return OpKind::Relu;
    }
    return OpKind::Silu;
  }

  int rope(const std::string& name, std::int64_t layer, int x, std::int64_t width) {
    const RopeScaling r = s_.rope_scaling_of(layer);
    return node(OpKind::Rope, name, {x}, rows(width),
                {{"head_dim", s_.head_dim},
                 {"rotary_dim", s_.rotary_dim > 0 ? s_.rotary_dim : s_.head_dim},
                 {"theta", s_.rope_theta_of(layer)},
                 {"position", past_},
                 {"rows_per_sequence", tokens_},
                 {"scaling_kind", std::string(rope_scaling_name(r.kind))},
                 {"scaling_factor", r.factor},
                 {"scaling_low_freq_factor", r.low_freq_factor},
                 {"scaling_high_freq_factor", r.high_freq_factor},
                 {"scaling_original_max_position", r.original_max_position},
                 {"scaling_beta_fast", r.beta_fast},
                 {"scaling_beta_slow", r.beta_slow},
                 {"scaling_truncate", std::int64_t{r.truncate ? 1 : 0}},
                 {"scaling_attention_factor", r.attention_factor}});
  }

  int attention(const std::string& l, std::int64_t layer, int h) {
    const std::int64_t q_width = s_.heads * s_.head_dim;
    const std::int64_t kv_width = s_.kv_heads * s_.head_dim;
    // Split by heads across a tensor-parallel group (q, k, v by columns, o by rows).
    int q = linear(l + ".attn.q", h, s_.hidden, q_width, s_.qkv_bias, WeightSplit::Columns, s_.head_dim);
    int k = linear(l + ".attn.k", h, s_.hidden, kv_width, s_.qkv_bias, WeightSplit::Columns, s_.head_dim);
    const int v = linear(l + ".attn.v", h, s_.hidden, kv_width, s_.qkv_bias, WeightSplit::Columns, s_.head_dim);
    if (s_.qk_norm != QkNorm::None) {
      const bool per_head = s_.qk_norm == QkNorm::PerHead;
      q = rms_norm(l + ".attn.q_norm", q, q_width, per_head ? s_.head_dim : q_width);
      k = rms_norm(l + ".attn.k_norm", k, kv_width, per_head ? s_.head_dim : kv_width);
    }
    if (s_.positions == PositionKind::Rope) {
      q = rope(l + ".attn.q_rope", layer, q, q_width);
      // Ministral 3 / Llama 4 query scaling: a factor per position, which decompose folds
      // into the queries' cos and sin (left out while every factor of the step is 1).
      if (s_.query_scale_beta != 0.0 && s_.query_scale_of(past_ + tokens_ - 1) != 1.0) {
        auto& attrs = g_.nodes.back().attrs;
        attrs["query_scale_beta"] = s_.query_scale_beta;
        attrs["query_scale_positions"] = s_.query_scale_positions;
      }
      k = rope(l + ".attn.k_rope", layer, k, kv_width);
    }
    // gpt_oss: one sink logit per head (model weights, cut with the heads by a partition).
    const int sinks = s_.attention_sinks ? weight(l + ".attn.sinks", {s_.heads}, "random", 1.0) : -1;
    // Attention is per sequence: each has its own KV cache and attends over its own rows.
    std::vector<int> outputs;
    for (std::int64_t b = 0; b < batch_; ++b) {
      const std::string seq = batch_ == 1 ? l : fmt::format("{}.s{}", l, b);
      const std::string attn = batch_ == 1 ? l + ".attn" : fmt::format("{}.attn.s{}", l, b);
      const int k_cache = tensor(seq + ".k_cache", {s_.max_positions, kv_width}, TensorRole::State);
      const int v_cache = tensor(seq + ".v_cache", {s_.max_positions, kv_width}, TensorRole::State);
      std::vector<int> inputs = {sequence_rows(q, b, attn + ".q_rows"), sequence_rows(k, b, attn + ".k_rows"),
                                 sequence_rows(v, b, attn + ".v_rows"), k_cache, v_cache};
      if (sinks >= 0) inputs.push_back(sinks);
      outputs.push_back(node(OpKind::Attention, attn + ".attention", std::move(inputs),
                             {tokens_, q_width},
                             {{"heads", s_.heads},
                              {"kv_heads", s_.kv_heads},
                              {"head_dim", s_.head_dim},
                              {"past", past_},
                              {"causal", std::int64_t{s_.causal ? 1 : 0}},
                              {"window", s_.window_of(layer)},
                              {"scale", s_.attention_scale_value()},
                              {"softcap", s_.attention_softcap}}));
    }
    const int o = batch_ == 1 ? outputs[0]
                              : node(OpKind::Concat, l + ".attn.attention", outputs, rows(q_width), {{"axis", std::int64_t{0}}});
    return linear(l + ".attn.o", o, q_width, s_.hidden, s_.attention_out_bias, WeightSplit::Rows);
  }

  int mlp(const std::string& l, std::int64_t layer, int h) {
    if (s_.is_moe_layer(layer)) {
      const std::int64_t f = s_.expert_width();
      std::vector<int> inputs = {h, weight(l + ".moe.router.weight", {s_.hidden, s_.experts}, "random",
                                           1.0 / std::sqrt(static_cast<double>(s_.hidden)))};
      if (s_.expert_biases) inputs.push_back(weight(l + ".moe.router.bias", {s_.experts}, "random", kBiasScale));
      const double in_scale = 1.0 / std::sqrt(static_cast<double>(s_.hidden));
      const double down_scale = 1.0 / std::sqrt(static_cast<double>(f));
      for (std::int64_t e = 0; e < s_.experts; ++e) {
        const std::string p = fmt::format("{}.moe.e{}", l, e);
        inputs.push_back(weight(p + ".w1.weight", {s_.hidden, f}, "random", in_scale));
        mark_checkpoint_format(inputs.back(), p + ".w1");
        inputs.push_back(weight(p + ".w3.weight", {s_.hidden, f}, "random", in_scale));
        mark_checkpoint_format(inputs.back(), p + ".w3");
        inputs.push_back(weight(p + ".w2.weight", {f, s_.hidden}, "random", down_scale));
        mark_checkpoint_format(inputs.back(), p + ".w2");
        if (s_.expert_biases) {
          inputs.push_back(weight(p + ".w1.bias", {f}, "random", kBiasScale));
          inputs.push_back(weight(p + ".w3.bias", {f}, "random", kBiasScale));
          inputs.push_back(weight(p + ".w2.bias", {s_.hidden}, "random", kBiasScale));
        }
      }
      Attrs attrs = {{"experts", s_.experts},
                     {"top_k", s_.experts_per_token},
                     {"renormalize", std::int64_t{s_.moe_renormalize ? 1 : 0}},
                     {"activation", std::string(op_name(activation_op()))}};
      if (s_.expert_biases) attrs["biases"] = std::int64_t{1};
      if (s_.expert_glu_limit > 0) {
        attrs["activation"] = std::string(kClampedSwigluName);
        attrs["glu_limit"] = s_.expert_glu_limit;
        attrs["glu_alpha"] = s_.expert_glu_alpha;
      }
      return node(OpKind::MoeMlp, l + ".moe", std::move(inputs), rows(s_.hidden), std::move(attrs));
    }
    const std::int64_t f = s_.intermediate;
    if (s_.gated_mlp) {
      const int gate = linear(l + ".mlp.gate", h, s_.hidden, f, s_.mlp_bias, WeightSplit::Columns);
      const int act = node(activation_op(), l + ".mlp.act", {gate}, rows(f));
      const int up = linear(l + ".mlp.up", h, s_.hidden, f, s_.mlp_bias, WeightSplit::Columns);
      const int prod = node(OpKind::Mul, l + ".mlp.mul", {act, up}, rows(f));
      return linear(l + ".mlp.down", prod, f, s_.hidden, s_.mlp_bias, WeightSplit::Rows);
    }
    const int fc1 = linear(l + ".mlp.fc1", h, s_.hidden, f, s_.mlp_bias, WeightSplit::Columns);
    const int act = node(activation_op(), l + ".mlp.act", {fc1}, rows(f));
    return linear(l + ".mlp.fc2", act, f, s_.hidden, s_.mlp_bias, WeightSplit::Rows);
  }

  int embeddings() {
    const double table_scale = 1.0 / std::sqrt(static_cast<double>(s_.hidden));
    const int ids = tensor("token_ids", {batch_ * tokens_}, TensorRole::Input);
    const int table = weight("embed.weight", {s_.vocab_size, s_.hidden}, "random", table_scale);
    int x = node(OpKind::Gather, "embed", {table, ids}, rows(s_.hidden));
    if (s_.scale_embeddings)
      x = node(OpKind::Scale, "embed.scale", {x}, rows(s_.hidden),
               {{"value", std::sqrt(static_cast<double>(s_.hidden))}});
    if (s_.positions == PositionKind::Learned) {
      const int pos_table = weight("pos_embed.weight", {s_.max_positions, s_.hidden}, "random", table_scale);
      int pos = node(OpKind::Slice, "pos_embed", {pos_table}, {tokens_, s_.hidden},
                     {{"axis", std::int64_t{0}}, {"begin", past_}, {"end", past_ + tokens_}});
      // Every sequence of the batch is at the same positions: the same rows, repeated (a view).
      if (batch_ > 1)
        pos = node(OpKind::Concat, "pos_embed.batch", std::vector<int>(static_cast<std::size_t>(batch_), pos),
                   rows(s_.hidden), {{"axis", std::int64_t{0}}});
      x = node(OpKind::Add, "embed.add_pos", {x, pos}, rows(s_.hidden));
    }
    if (s_.type_vocab_size > 0) {
      const int type_ids = tensor("token_type_ids", {batch_ * tokens_}, TensorRole::Input);
      const int type_table =
          weight("type_embed.weight", {s_.type_vocab_size, s_.hidden}, "random", table_scale);
      const int types = node(OpKind::Gather, "type_embed", {type_table, type_ids}, rows(s_.hidden));
      x = node(OpKind::Add, "embed.add_type", {x, types}, rows(s_.hidden));
    }
    if (s_.embedding_norm) x = norm("embed_norm", x);
    return x;
  }

  void build() {
    int x = embeddings();
    for (std::int64_t i = 0; i < s_.layers; ++i) {
      layer_ = static_cast<int>(i);  // the nodes built now compute layer i (per-layer attribution)
      const std::string l = fmt::format("l{}", i);
      const bool last = i + 1 == s_.layers;
      if (s_.post_norm) {
        // bert: x = LN(x + attn(x)); x = LN(x + mlp(x)); the last LN is the output.
        const int a = attention(l, i, x);
        x = norm(l + ".attn_norm", node(OpKind::Add, l + ".attn_residual", {x, a}, rows(s_.hidden)));
        const int m = mlp(l, i, x);
        const int sum = node(OpKind::Add, l + ".mlp_residual", {x, m}, rows(s_.hidden));
        x = last && !s_.has_lm_head ? norm(l + ".mlp_norm", sum, "hidden", TensorRole::Output)
                                    : norm(l + ".mlp_norm", sum);
      } else if (s_.parallel_block) {
        // phi: n = LN(x); x = x + attn(n) + mlp(n).
        const int n = norm(l + ".attn_norm", x);
        const int a = attention(l, i, n);
        const int m = mlp(l, i, n);
        x = node(OpKind::Add, l + ".attn_residual", {x, a}, rows(s_.hidden));
        x = node(OpKind::Add, l + ".mlp_residual", {x, m}, rows(s_.hidden));
      } else if (s_.norm_placement == NormPlacement::Sandwich) {
        // gemma2/3: x = x + post(attn(pre(x))); x = x + post(mlp(pre(x))).
        const int a = norm(l + ".attn_post_norm", attention(l, i, norm(l + ".attn_norm", x)));
        x = node(OpKind::Add, l + ".attn_residual", {x, a}, rows(s_.hidden));
        const int m = norm(l + ".mlp_post_norm", mlp(l, i, norm(l + ".mlp_norm", x)));
        x = node(OpKind::Add, l + ".mlp_residual", {x, m}, rows(s_.hidden));
      } else if (s_.norm_placement == NormPlacement::PostSublayer) {
        // olmo2: x = x + norm(attn(x)); x = x + norm(mlp(x)).
        const int a = norm(l + ".attn_norm", attention(l, i, x));
        x = node(OpKind::Add, l + ".attn_residual", {x, a}, rows(s_.hidden));
        const int m = norm(l + ".mlp_norm", mlp(l, i, x));
        x = node(OpKind::Add, l + ".mlp_residual", {x, m}, rows(s_.hidden));
      } else {
        const int a = attention(l, i, norm(l + ".attn_norm", x));
        x = node(OpKind::Add, l + ".attn_residual", {x, a}, rows(s_.hidden));
        const int m = mlp(l, i, norm(l + ".mlp_norm", x));
        x = node(OpKind::Add, l + ".mlp_residual", {x, m}, rows(s_.hidden));
      }
    }
    layer_ = -1;
    if (!s_.has_lm_head) return;
    if (!s_.post_norm) x = norm("final_norm", x);
    if (s_.final_softcap > 0) {
      // gemma2: logits = c tanh(head(x) / c). The head is split by vocabulary; the capping
      // follows its columns.
      const int w = s_.tie_embeddings ? g_.find("embed.weight")
                                      : weight("lm_head.weight", {s_.hidden, s_.vocab_size}, "random",
                                               1.0 / std::sqrt(static_cast<double>(s_.hidden)));
      if (!s_.tie_embeddings) mark_checkpoint_format(w, "lm_head");
      Attrs head_attrs;
      if (s_.tie_embeddings) head_attrs["transpose_w"] = std::int64_t{1};
      const int y = node(OpKind::MatMul, "lm_head", {x, w}, rows(s_.vocab_size), head_attrs, "lm_head.out");
      g_.nodes.back().split = WeightSplit::Columns;
      const double c = s_.final_softcap;
      const int scaled = node(OpKind::Scale, "lm_head.softcap_in", {y}, rows(s_.vocab_size), {{"value", 1.0 / c}});
      const int capped = node(OpKind::Tanh, "lm_head.softcap_tanh", {scaled}, rows(s_.vocab_size));
      node(OpKind::Scale, "lm_head.softcap_out", {capped}, rows(s_.vocab_size), {{"value", c}}, "logits", TensorRole::Output);
      return;
    }
    if (s_.tie_embeddings) {
      node(OpKind::MatMul, "lm_head", {x, g_.find("embed.weight")}, rows(s_.vocab_size),
           {{"transpose_w", std::int64_t{1}}}, "logits", TensorRole::Output);
    } else {
      const int w = weight("lm_head.weight", {s_.hidden, s_.vocab_size}, "random",
                           1.0 / std::sqrt(static_cast<double>(s_.hidden)));
      mark_checkpoint_format(w, "lm_head");
      if (!s_.lm_head_bias) {
        node(OpKind::MatMul, "lm_head", {x, w}, rows(s_.vocab_size), {}, "logits", TensorRole::Output);
      } else {
        // phi: the head has a bias (cut with the head's columns by a partition).
        const int y = node(OpKind::MatMul, "lm_head", {x, w}, rows(s_.vocab_size), {}, "lm_head.out");
        g_.nodes.back().split = WeightSplit::Columns;
        const int b = weight("lm_head.bias", {s_.vocab_size}, "random", kBiasScale);
        node(OpKind::Add, "lm_head.add_bias", {y, b}, rows(s_.vocab_size), {}, "logits", TensorRole::Output);
        return;
      }
    }
    g_.nodes.back().split = WeightSplit::Columns;  // by vocabulary: each chip returns its share of the logits
  }

 private:
  const TransformerSpec& s_;
  std::int64_t tokens_;
  std::int64_t past_;
  std::int64_t batch_;
  Graph g_;
  int layer_ = -1;  ///< the layer whose nodes are being built; -1 outside the layers
};

}  // namespace

Graph build_transformer_graph(const TransformerSpec& spec, std::int64_t tokens, std::int64_t past, std::int64_t batch) {
  if (tokens < 1) throw InputError(fmt::format("{}: tokens per step must be at least 1, got {}", spec.file, tokens));
  if (batch < 1) throw InputError(fmt::format("{}: batch must be at least 1, got {}", spec.file, batch));
  if (past < 0) throw InputError(fmt::format("{}: cached positions must be at least 0, got {}", spec.file, past));
  if (past > spec.max_positions - tokens)
    throw InputError(fmt::format("{}: {} cached + {} new positions exceed max_position_embeddings {}", spec.file, past,
                                 tokens, spec.max_positions));
  spec.require_positions_modelled(past + tokens);
  GraphBuilder builder(spec, tokens, past, batch);
  builder.build();
  return builder.take();
}

std::int64_t kv_cache_vectors(const TransformerSpec& spec, std::int64_t batch, std::int64_t positions, std::int64_t lanes) {
  const std::int64_t tiles = (spec.kv_heads * spec.head_dim + lanes - 1) / lanes;
  return batch * spec.layers * 2 * positions * tiles;
}

}  // namespace lpusim
