#include "frontend/transformer_spec.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

namespace lpusim {

const char* family_name(TransformerFamily f) {
  switch (f) {
    case TransformerFamily::Llama: return "llama";
    case TransformerFamily::Mistral: return "mistral";
    case TransformerFamily::Mixtral: return "mixtral";
    case TransformerFamily::Qwen2: return "qwen2";
    case TransformerFamily::Gemma: return "gemma";
    case TransformerFamily::Phi3: return "phi3";
    case TransformerFamily::Gpt2: return "gpt2";
    case TransformerFamily::Bert: return "bert";
  }
  return "?";
}

namespace {

// Upper bounds on sizes. They are far above any published model and keep every product in
// the parameter count meaningful; the count itself is still computed with overflow checks.
constexpr std::int64_t kMaxVocab = std::int64_t{1} << 24;
constexpr std::int64_t kMaxWidth = std::int64_t{1} << 20;
constexpr std::int64_t kMaxLayers = 4096;
constexpr std::int64_t kMaxHeads = 4096;
constexpr std::int64_t kMaxPositions = std::int64_t{1} << 24;
constexpr std::int64_t kMaxExperts = 4096;

// Multiplication and addition that refuse to wrap: a config with absurd sizes is an input
// error, not a negative parameter count.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const std::string& file) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw InputError(fmt::format("{}: parameter count overflows 64 bits", file));
  return r;
}
std::int64_t checked_add(std::int64_t a, std::int64_t b, const std::string& file) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw InputError(fmt::format("{}: parameter count overflows 64 bits", file));
  return r;
}

// Keys present in Hugging Face configs that do not change the forward pass lpusim models:
// bookkeeping, token ids, training-only settings (dropout, init, aux losses), storage dtype
// (lpusim picks its own precision), and generation-time options.
const std::vector<std::string> kCommonIgnorable = {
    "_name_or_path", "architectures", "auto_map", "torch_dtype", "transformers_version",
    "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
    "use_cache", "initializer_range", "return_dict", "output_attentions", "output_hidden_states",
    "id2label", "label2id", "problem_type", "finetuning_task", "tokenizer_class", "prefix",
    "task_specific_params", "gradient_checkpointing", "_attn_implementation", "torchscript",
    "max_length", "min_length", "do_sample", "num_beams", "temperature", "top_k", "top_p",
    "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "early_stopping"};

// Keys whose JSON null means "not set" (the Hugging Face default applies).
const std::set<std::string> kNullable = {"rope_scaling", "n_inner", "sliding_window", "head_dim",
                                         "hidden_activation", "num_key_value_heads", "rope_theta",
                                         "classifier_dropout", "summary_activation"};

/// A config.json being read for one family: rejects keys that family neither reads nor
/// knows to be harmless, drops the harmless ones and the null optional ones, and hands the
/// rest to a strict JsonObject so every read key is type- and range-checked.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& root, const std::string& file, const std::string& model_type,
               const std::vector<std::string>& read_keys, const std::vector<std::string>& ignorable)
      : json_(filtered(root, file, model_type, read_keys, ignorable)), obj_(json_, file, "") {}
  ConfigReader(const ConfigReader&) = delete;
  ConfigReader& operator=(const ConfigReader&) = delete;

  JsonObject& obj() { return obj_; }

 private:
  static nlohmann::json filtered(const nlohmann::json& root, const std::string& file, const std::string& model_type,
                                 const std::vector<std::string>& read_keys, const std::vector<std::string>& ignorable) {
    const std::set<std::string> reads(read_keys.begin(), read_keys.end());
    std::set<std::string> ignores(ignorable.begin(), ignorable.end());
    ignores.insert(kCommonIgnorable.begin(), kCommonIgnorable.end());
    nlohmann::json out = nlohmann::json::object();
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string& key = it.key();
      if (reads.count(key)) {
        if (it->is_null() && kNullable.count(key)) continue;
        out[key] = *it;
      } else if (!ignores.count(key)) {
        throw InputError(fmt::format(
            "{}: key '{}': unknown key for model_type '{}' (neither modelled nor known not to affect the forward pass)",
            file, key, model_type));
      }
    }
    return out;
  }

  nlohmann::json json_;
  JsonObject obj_;
};

[[noreturn]] void unsupported(JsonObject& o, const std::string& key, const std::string& what) {
  o.fail(key, "unsupported: " + what);
}

/// hidden_act / activation_function names (Hugging Face ACT2FN) that lpusim models.
ActivationKind read_activation(JsonObject& o, const std::string& key, const std::string& fallback) {
  const std::string name = o.has(key) ? o.string(key) : fallback;
  if (name == "silu" || name == "swish") return ActivationKind::Silu;
  if (name == "gelu") return ActivationKind::Gelu;
  // gelu_new, gelu_fast and gelu_pytorch_tanh are all 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return ActivationKind::GeluTanh;
  if (name == "relu") return ActivationKind::Relu;
  o.fail(key, fmt::format("unsupported activation '{}' (supported: silu, swish, gelu, gelu_new, gelu_fast, "
                          "gelu_pytorch_tanh, relu)", name));
}

/// A boolean key that must hold `required` if present, since the other value changes the
/// math in a way lpusim does not model.
void require_bool(JsonObject& o, const std::string& key, bool required, const std::string& what) {
  if (o.has(key) && o.boolean(key) != required) unsupported(o, key, what);
}

void read_rope_scaling(JsonObject& o, TransformerSpec& s) {
  s.rope_scaling = RopeScaling{};
  if (!o.has("rope_scaling")) return;
  JsonObject r = o.object("rope_scaling");
  // Older configs spell it "type", newer ones "rope_type"; some carry both.
  std::string type;
  if (r.has("rope_type")) type = r.string("rope_type");
  if (r.has("type")) {
    const std::string legacy = r.string("type");
    if (!type.empty() && legacy != type)
      r.fail("type", fmt::format("'{}' disagrees with rope_type '{}'", legacy, type));
    type = legacy;
  }
  if (type.empty()) r.fail("rope_type", "missing (required)");
  if (type == "default") {
    s.rope_scaling.kind = RopeScaling::Kind::None;
  } else if (type == "linear") {
    s.rope_scaling.kind = RopeScaling::Kind::Linear;
    s.rope_scaling.factor = r.number("factor", 1.0, 1e6);
  } else if (type == "llama3") {
    s.rope_scaling.kind = RopeScaling::Kind::Llama3;
    s.rope_scaling.factor = r.number("factor", 1.0, 1e6);
    s.rope_scaling.low_freq_factor = r.number("low_freq_factor", 1e-6, 1e6);
    s.rope_scaling.high_freq_factor = r.number("high_freq_factor", 1e-6, 1e6);
    s.rope_scaling.original_max_position = r.integer("original_max_position_embeddings", 1, kMaxPositions);
    // The smoothing between the two wavelength bands divides by their difference.
    if (!(s.rope_scaling.high_freq_factor > s.rope_scaling.low_freq_factor))
      r.fail("high_freq_factor", fmt::format("expected greater than low_freq_factor {}, got {}",
                                             s.rope_scaling.low_freq_factor, s.rope_scaling.high_freq_factor));
  } else if (type == "longrope" || type == "su") {
    r.fail(r.has("rope_type") ? "rope_type" : "type",
           fmt::format("unsupported: rope scaling '{}' (Phi-3 LongRoPE, per-dimension short/long factors) is not "
                       "modelled; supported: linear, llama3",
                       type));
  } else {
    r.fail(r.has("rope_type") ? "rope_type" : "type",
           fmt::format("unsupported: rope scaling '{}' is not modelled; supported: linear, llama3", type));
  }
  r.finish();
}

// Keys the rope decoders (llama and its relatives) read.
const std::vector<std::string> kRopeDecoderKeys = {
    "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta",
    "rope_scaling", "tie_word_embeddings", "attention_bias", "mlp_bias"};

// Training- and kernel-only keys of the rope decoders: dropout, tensor-parallel slicing
// (pretraining_tp splits matmuls, same result), flash-attention hints.
const std::vector<std::string> kRopeDecoderIgnorable = {"attention_dropout", "pretraining_tp", "hidden_dropout",
                                                        "embd_pdrop", "resid_pdrop"};

void read_rope_decoder(JsonObject& o, TransformerSpec& s, bool default_tie, double default_eps) {
  s.vocab_size = o.integer("vocab_size", 1, kMaxVocab);
  s.hidden = o.integer("hidden_size", 1, kMaxWidth);
  s.intermediate = o.integer("intermediate_size", 1, kMaxWidth);
  s.layers = o.integer("num_hidden_layers", 1, kMaxLayers);
  s.heads = o.integer("num_attention_heads", 1, kMaxHeads);
  s.kv_heads = o.optional_integer("num_key_value_heads", 1, kMaxHeads).value_or(s.heads);
  s.head_dim = o.optional_integer("head_dim", 1, kMaxWidth).value_or(0);
  s.max_positions = o.integer("max_position_embeddings", 1, kMaxPositions);
  s.norm = NormKind::RmsNorm;
  s.norm_eps = o.has("rms_norm_eps") ? o.number("rms_norm_eps", 0.0, 1.0) : default_eps;
  s.positions = PositionKind::Rope;
  s.rope_theta = o.has("rope_theta") ? o.number("rope_theta", 1.0, 1e15) : 10000.0;
  read_rope_scaling(o, s);
  s.tie_embeddings = o.has("tie_word_embeddings") ? o.boolean("tie_word_embeddings") : default_tie;
  s.activation = read_activation(o, "hidden_act", "silu");
  s.gated_mlp = true;
  s.causal = true;
  require_bool(o, "attention_bias", false, "biases on the q/k/v/o projections (attention_bias true) are not modelled");
  require_bool(o, "mlp_bias", false, "biases on the MLP projections (mlp_bias true) are not modelled");
}

void read_sliding_window(JsonObject& o, TransformerSpec& s) {
  if (o.has("sliding_window")) s.sliding_window = o.integer("sliding_window", 1, kMaxPositions);
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TransformerSpec parse_llama(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type, kRopeDecoderKeys, kRopeDecoderIgnorable);
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  read_rope_decoder(o, s, /*default_tie=*/false, /*default_eps=*/1e-6);
  o.finish();
  return s;
}

TransformerSpec parse_mistral(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type, concat(kRopeDecoderKeys, {"sliding_window"}), kRopeDecoderIgnorable);
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  read_rope_decoder(o, s, false, 1e-6);
  read_sliding_window(o, s);
  o.finish();
  return s;
}

TransformerSpec parse_mixtral(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type,
                      concat(kRopeDecoderKeys, {"sliding_window", "num_local_experts", "num_experts_per_tok"}),
                      // The router's auxiliary loss and jitter act in training only.
                      concat(kRopeDecoderIgnorable, {"router_aux_loss_coef", "output_router_logits", "router_jitter_noise"}));
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  read_rope_decoder(o, s, false, 1e-5);
  read_sliding_window(o, s);
  s.experts = o.integer("num_local_experts", 1, kMaxExperts);
  s.experts_per_token = o.integer("num_experts_per_tok", 1, kMaxExperts);
  if (s.experts_per_token > s.experts)
    o.fail("num_experts_per_tok", fmt::format("expected at most num_local_experts {}, got {}", s.experts,
                                              s.experts_per_token));
  o.finish();
  return s;
}

TransformerSpec parse_qwen2(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type, concat(kRopeDecoderKeys, {"use_sliding_window", "sliding_window"}),
                      // max_window_layers only matters with use_sliding_window true, which is refused.
                      concat(kRopeDecoderIgnorable, {"max_window_layers"}));
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  read_rope_decoder(o, s, false, 1e-6);
  // Qwen2 always has q/k/v biases (there is no key for it); the output projection has none.
  s.qkv_bias = true;
  const bool use_window = o.has("use_sliding_window") && o.boolean("use_sliding_window");
  if (use_window)
    unsupported(o, "use_sliding_window",
                "Qwen2 sliding-window attention (a window on layers from max_window_layers on) is not modelled");
  // Without use_sliding_window the window size is not applied; read it only to type-check it.
  if (o.has("sliding_window")) (void)o.integer("sliding_window", 1, kMaxPositions);
  o.finish();
  return s;
}

TransformerSpec parse_gemma(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type, concat(kRopeDecoderKeys, {"hidden_activation"}), kRopeDecoderIgnorable);
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  if (!o.has("head_dim")) o.fail("head_dim", "missing (required: gemma's head_dim is not hidden_size / heads)");
  read_rope_decoder(o, s, /*default_tie=*/true, 1e-6);
  // Hugging Face's GemmaMLP uses hidden_activation and falls back to gelu_pytorch_tanh when
  // it is unset, whatever hidden_act says; hidden_act is read only to type-check it.
  s.activation = read_activation(o, "hidden_activation", "gelu_pytorch_tanh");
  s.norm_adds_one = true;
  s.scale_embeddings = true;
  if (!s.tie_embeddings)
    unsupported(o, "tie_word_embeddings", "gemma with an untied LM head (tie_word_embeddings false) is not modelled");
  o.finish();
  return s;
}

TransformerSpec parse_phi3(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type, concat(kRopeDecoderKeys, {"sliding_window", "partial_rotary_factor"}),
                      // Used only by LongRoPE scaling, which is refused.
                      concat(kRopeDecoderIgnorable, {"original_max_position_embeddings"}));
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  read_rope_decoder(o, s, false, 1e-5);
  read_sliding_window(o, s);
  if (o.has("partial_rotary_factor") && o.number("partial_rotary_factor", 0.0, 1.0) != 1.0)
    unsupported(o, "partial_rotary_factor", "rope on part of each head (partial_rotary_factor below 1) is not modelled");
  o.finish();
  return s;
}

TransformerSpec parse_gpt2(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type,
                      {"model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner",
                       "activation_function", "layer_norm_epsilon", "tie_word_embeddings", "scale_attn_weights",
                       "scale_attn_by_inverse_layer_idx", "add_cross_attention"},
                      // n_ctx is a legacy duplicate of n_positions; reorder_and_upcast_attn changes
                      // only the precision of the attention product; summary_* configure the
                      // sequence-classification head, which is not built.
                      {"n_ctx", "resid_pdrop", "embd_pdrop", "attn_pdrop", "reorder_and_upcast_attn",
                       "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
                       "summary_first_dropout"});
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  s.vocab_size = o.integer("vocab_size", 1, kMaxVocab);
  s.max_positions = o.integer("n_positions", 1, kMaxPositions);
  s.hidden = o.integer("n_embd", 1, kMaxWidth);
  s.layers = o.integer("n_layer", 1, kMaxLayers);
  s.heads = o.integer("n_head", 1, kMaxHeads);
  s.kv_heads = s.heads;
  const auto inner = o.optional_integer("n_inner", 1, kMaxWidth);
  s.intermediate = inner ? *inner : 4 * s.hidden;
  s.activation = read_activation(o, "activation_function", "gelu_new");
  s.norm = NormKind::LayerNorm;
  s.norm_eps = o.has("layer_norm_epsilon") ? o.number("layer_norm_epsilon", 0.0, 1.0) : 1e-5;
  s.gated_mlp = false;
  s.qkv_bias = s.mlp_bias = s.attention_out_bias = true;
  s.positions = PositionKind::Learned;
  s.tie_embeddings = o.has("tie_word_embeddings") ? o.boolean("tie_word_embeddings") : true;
  require_bool(o, "scale_attn_weights", true, "attention without the 1/sqrt(head_dim) scale is not modelled");
  require_bool(o, "scale_attn_by_inverse_layer_idx", false,
               "attention scaled by 1/(layer index + 1) is not modelled");
  require_bool(o, "add_cross_attention", false, "cross-attention (encoder-decoder use) is not modelled");
  o.finish();
  return s;
}

TransformerSpec parse_bert(const nlohmann::json& j, TransformerSpec s) {
  ConfigReader reader(j, s.file, s.model_type,
                      {"model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                       "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
                       "layer_norm_eps", "position_embedding_type", "is_decoder", "add_cross_attention"},
                      // tie_word_embeddings only concerns the masked-LM head, which lpusim does not
                      // build (the output is the encoder's last hidden state).
                      {"hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
                       "tie_word_embeddings"});
  JsonObject& o = reader.obj();
  (void)o.string("model_type");
  s.vocab_size = o.integer("vocab_size", 1, kMaxVocab);
  s.hidden = o.integer("hidden_size", 1, kMaxWidth);
  s.layers = o.integer("num_hidden_layers", 1, kMaxLayers);
  s.heads = o.integer("num_attention_heads", 1, kMaxHeads);
  s.kv_heads = s.heads;
  s.intermediate = o.integer("intermediate_size", 1, kMaxWidth);
  s.activation = read_activation(o, "hidden_act", "gelu");
  s.max_positions = o.integer("max_position_embeddings", 1, kMaxPositions);
  s.type_vocab_size = o.has("type_vocab_size") ? o.integer("type_vocab_size", 1, kMaxVocab) : 2;
  s.norm = NormKind::LayerNorm;
  s.norm_eps = o.has("layer_norm_eps") ? o.number("layer_norm_eps", 0.0, 1.0) : 1e-12;
  if (o.has("position_embedding_type")) {
    const std::string kind = o.string("position_embedding_type");
    if (kind != "absolute")
      unsupported(o, "position_embedding_type",
                  fmt::format("'{}' position embeddings are not modelled (only absolute)", kind));
  }
  require_bool(o, "is_decoder", false, "bert as a causal decoder is not modelled");
  require_bool(o, "add_cross_attention", false, "cross-attention (encoder-decoder use) is not modelled");
  s.post_norm = true;
  s.gated_mlp = false;
  s.qkv_bias = s.mlp_bias = s.attention_out_bias = true;
  s.causal = false;
  s.positions = PositionKind::Learned;
  s.embedding_norm = true;
  s.has_lm_head = false;
  s.tie_embeddings = false;
  o.finish();
  return s;
}

/// Cross-key checks shared by all families; reported against the key a user would change.
void validate(const nlohmann::json& j, TransformerSpec& s) {
  JsonObject o(j, s.file, "");
  const bool gpt2 = s.family == TransformerFamily::Gpt2;
  const std::string heads_key = gpt2 ? "n_head" : "num_attention_heads";
  const std::string hidden_key = gpt2 ? "n_embd" : "hidden_size";
  if (s.head_dim == 0) {
    if (s.hidden % s.heads != 0)
      o.fail(heads_key, fmt::format("{} {} is not a multiple of {} {} (and no head_dim is given)", hidden_key,
                                    s.hidden, heads_key, s.heads));
    s.head_dim = s.hidden / s.heads;
  }
  if (s.heads % s.kv_heads != 0)
    o.fail("num_key_value_heads",
           fmt::format("expected a divisor of num_attention_heads {}, got {}", s.heads, s.kv_heads));
  if (s.positions == PositionKind::Rope && s.head_dim % 2 != 0)
    o.fail(s.family == TransformerFamily::Gemma || j.contains("head_dim") ? "head_dim" : heads_key,
           fmt::format("rope needs an even head_dim, got {}", s.head_dim));
  // Every size fits the weight count in 64 bits (and each product used by the graph).
  (void)checked_mul(checked_mul(s.heads, s.head_dim, s.file), s.hidden, s.file);
  (void)s.parameters();
}

}  // namespace

std::int64_t TransformerSpec::parameters() const {
  auto mul = [&](std::int64_t a, std::int64_t b) { return checked_mul(a, b, file); };
  auto add = [&](std::int64_t a, std::int64_t b) { return checked_add(a, b, file); };
  const std::int64_t norm_params = norm == NormKind::LayerNorm ? mul(2, hidden) : hidden;
  const std::int64_t q_width = mul(heads, head_dim);
  const std::int64_t kv_width = mul(kv_heads, head_dim);

  std::int64_t layer = 0;
  // Attention: q, k, v, o projections and their biases.
  layer = add(layer, mul(hidden, add(q_width, mul(2, kv_width))));
  if (qkv_bias) layer = add(layer, add(q_width, mul(2, kv_width)));
  layer = add(layer, mul(q_width, hidden));
  if (attention_out_bias) layer = add(layer, hidden);
  layer = add(layer, mul(2, norm_params));
  // MLP.
  const std::int64_t projections = gated_mlp ? 3 : 2;
  const std::int64_t mlp = mul(projections, mul(hidden, intermediate));
  if (experts > 0) {
    layer = add(layer, mul(hidden, experts));  // router
    layer = add(layer, mul(experts, mlp));
  } else {
    layer = add(layer, mlp);
    if (mlp_bias) layer = add(layer, add(intermediate, hidden));
  }

  std::int64_t total = mul(layers, layer);
  total = add(total, mul(vocab_size, hidden));  // token embeddings (also the LM head when tied)
  if (positions == PositionKind::Learned) total = add(total, mul(max_positions, hidden));
  total = add(total, mul(type_vocab_size, hidden));
  if (embedding_norm) total = add(total, norm_params);
  if (!post_norm) total = add(total, norm_params);  // final norm of pre-norm models
  if (has_lm_head && !tie_embeddings) total = add(total, mul(hidden, vocab_size));
  return total;
}

TransformerSpec load_transformer_spec(const std::string& path) {
  namespace fs = std::filesystem;
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) file = (fs::path(path) / "config.json").string();
  return transformer_spec_from_json(load_user_json(file), file);
}

TransformerSpec transformer_spec_from_json(const nlohmann::json& j, const std::string& file) {
  JsonObject top(j, file, "");
  const std::string model_type = top.string("model_type");

  TransformerSpec s;
  s.file = file;
  s.model_type = model_type;
  // Defaults of the decoder families; each parser sets what differs.
  if (model_type == "llama") {
    s.family = TransformerFamily::Llama;
    s = parse_llama(j, s);
  } else if (model_type == "mistral") {
    s.family = TransformerFamily::Mistral;
    s = parse_mistral(j, s);
  } else if (model_type == "mixtral") {
    s.family = TransformerFamily::Mixtral;
    s = parse_mixtral(j, s);
  } else if (model_type == "qwen2") {
    s.family = TransformerFamily::Qwen2;
    s = parse_qwen2(j, s);
  } else if (model_type == "gemma") {
    s.family = TransformerFamily::Gemma;
    s = parse_gemma(j, s);
  } else if (model_type == "phi3") {
    s.family = TransformerFamily::Phi3;
    s = parse_phi3(j, s);
  } else if (model_type == "gpt2") {
    s.family = TransformerFamily::Gpt2;
    s = parse_gpt2(j, s);
  } else if (model_type == "bert") {
    s.family = TransformerFamily::Bert;
    s = parse_bert(j, s);
  } else {
    top.fail("model_type", fmt::format("unsupported model_type '{}' (supported: llama, mistral, mixtral, qwen2, "
                                       "gemma, phi3, gpt2, bert)",
                                       model_type));
  }
  validate(j, s);
  return s;
}

}  // namespace lpusim
