#include "frontend/transformer_spec.hpp"

#include "compiler/ir/graph.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "frontend/hf_config_keys.hpp"

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
    case TransformerFamily::Qwen3: return "qwen3";
    case TransformerFamily::Qwen3Moe: return "qwen3_moe";
    case TransformerFamily::Olmo2: return "olmo2";
    case TransformerFamily::Olmo3: return "olmo3";
    case TransformerFamily::Phi: return "phi";
    case TransformerFamily::Gemma2: return "gemma2";
    case TransformerFamily::Gemma3Text: return "gemma3_text";
    case TransformerFamily::GptOss: return "gpt_oss";
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

// Keys whose JSON null means "not set" (the Hugging Face default applies).
const std::set<std::string> kNullable = {"rope_scaling", "rope_parameters", "n_inner", "sliding_window", "head_dim",
                                         "hidden_activation", "num_key_value_heads", "rope_theta",
                                         "quantization_config"};

/// How one config.json is being read: the options and where warnings go.
struct ReadContext {
  ConfigReadOptions options;
  std::vector<std::string>* warnings = nullptr;
  std::string model_type;
  std::string path;  ///< where the family's keys sit in the file ("text_config" in a wrapper; "" at the top)
};

/// A key nobody knows: a warning that names it and the assumption, or with --strict an error.
void unknown_key(const ReadContext& ctx, const std::string& file, const std::string& key_path) {
  if (ctx.options.strict)
    throw InputError(fmt::format(
        "{}: key '{}': unknown key for model_type '{}' (--strict: neither modelled nor known not to affect the "
        "forward pass)",
        file, key_path, ctx.model_type));
  ctx.warnings->push_back(fmt::format(
      "{}: key '{}': unknown key for model_type '{}', assumed not to change the forward pass (--strict refuses it)",
      file, key_path, ctx.model_type));
}

/// Warns about (or with --strict refuses) the keys of a nested object nobody read; used
/// where transformers itself only warns (rope_scaling keys it does not use).
void finish_lenient(const JsonObject& o, const ReadContext& ctx) {
  for (const auto& key : o.unread_keys()) unknown_key(ctx, o.file(), o.key_path(key));
}

/// The generic PretrainedConfig keys whose value can change the forward pass: refused
/// unless they hold their default.
void check_generic_key(JsonObject& top, const std::string& key, const nlohmann::json& value) {
  if (key == "pruned_heads") {
    if (!value.is_null() && !(value.is_object() && value.empty()))
      top.fail(key, "unsupported: pruned attention heads (a non-empty pruned_heads) are not modelled");
  } else if (key == "add_cross_attention") {
    if (top.boolean(key)) top.fail(key, "unsupported: cross-attention (encoder-decoder use) is not modelled");
  } else if (key == "is_encoder_decoder") {
    if (top.boolean(key)) top.fail(key, "unsupported: encoder-decoder models are not modelled");
  } else if (key == "cross_attention_hidden_size" || key == "per_layer_config") {
    if (!value.is_null() && !(value.is_object() && value.empty()))
      top.fail(key, key == "per_layer_config" ? "unsupported: per-layer configurations are not modelled"
                                              : "unsupported: cross-attention (encoder-decoder use) is not modelled");
  } else if (key == "is_decoder") {
    (void)top.boolean(key);  // decoder-only families are decoders whatever it says
  }
}

bool is_checked_generic_key(const std::string& key) {
  static const std::set<std::string> keys = {"pruned_heads", "add_cross_attention", "is_encoder_decoder",
                                             "cross_attention_hidden_size", "per_layer_config", "is_decoder"};
  return keys.count(key) != 0;
}

/// A config.json (or a nested text_config) being read for one family: keeps the keys the
/// family reads (dropping JSON nulls of optional ones), checks the generic keys that can
/// change the forward pass, drops keys known not to, warns about the rest, and hands the
/// kept keys to a strict JsonObject so every read key is type- and range-checked.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& root, const std::string& file, const std::vector<std::string>& read_keys,
               const std::vector<std::string>& ignorable, const ReadContext& ctx, const std::string& path = "")
      : json_(filtered(root, file, read_keys, ignorable, ctx, path.empty() ? ctx.path : path)),
        obj_(json_, file, path.empty() ? ctx.path : path) {
    if (obj_.has("model_type")) (void)obj_.string("model_type");
  }
  ConfigReader(const ConfigReader&) = delete;
  ConfigReader& operator=(const ConfigReader&) = delete;

  JsonObject& obj() { return obj_; }

 private:
  static nlohmann::json filtered(const nlohmann::json& root, const std::string& file,
                                 const std::vector<std::string>& read_keys, const std::vector<std::string>& ignorable,
                                 const ReadContext& ctx, const std::string& path) {
    std::set<std::string> reads(read_keys.begin(), read_keys.end());
    reads.insert("model_type");
    const std::set<std::string> ignores(ignorable.begin(), ignorable.end());
    JsonObject top(root, file, path);
    nlohmann::json out = nlohmann::json::object();
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string& key = it.key();
      if (reads.count(key)) {
        if (it->is_null() && kNullable.count(key)) continue;
        out[key] = *it;
      } else if (is_checked_generic_key(key)) {
        check_generic_key(top, key, *it);
      } else if (!ignores.count(key) && !is_generic_config_key(key) && !is_harmless_hub_key(key)) {
        unknown_key(ctx, file, top.key_path(key));
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

/// rope_scaling, or transformers 5's rope_parameters (its successor, which also carries
/// rope_theta): the rotary frequencies' scaling. Call after rope_theta and
/// max_position_embeddings are read.
/// Whether the config gives rope_theta: at the top, in rope_parameters, or in its full
/// layers' set (a family with its own default applies it otherwise).
bool rope_theta_given(JsonObject& o) {
  if (o.has("rope_theta")) return true;
  if (!o.has("rope_parameters")) return false;
  const nlohmann::json& p = o.raw("rope_parameters");
  if (!p.is_object()) return false;
  if (p.contains("rope_theta")) return true;
  return p.contains("full_attention") && p["full_attention"].is_object() && p["full_attention"].contains("rope_theta");
}

void read_rope_set(JsonObject& r, JsonObject& o, TransformerSpec& s, const ReadContext& ctx, bool v5);

void read_rope_scaling(JsonObject& o, TransformerSpec& s, const ReadContext& ctx) {
  s.rope_scaling = RopeScaling{};
  const bool v5 = o.has("rope_parameters");
  if (v5 && o.has("rope_scaling"))
    o.fail("rope_parameters", "given beside rope_scaling; transformers 5 writes rope_parameters instead of "
                              "rope_scaling and rope_theta: keep one");
  if (!v5 && !o.has("rope_scaling")) return;
  JsonObject r = o.object(v5 ? "rope_parameters" : "rope_scaling");
  if (!v5 || (!r.has("full_attention") && !r.has("sliding_attention") && !r.has("chunked_attention")))
    return read_rope_set(r, o, s, ctx, v5);
  // transformers 5 gives a model with several attention kinds one set per layer type
  // (Gemma 3: a scaled rope on the full layers, a plain one of another base on the sliding
  // layers): the full layers' set is the model's rope, a different plain sliding set is the
  // sliding layers' own base (rope_local_theta, as gemma3's rope_local_base_freq).
  if (r.has("chunked_attention"))
    r.fail("chunked_attention", "unsupported: chunked attention layers (Llama 4) are not modelled");
  if (!r.has("full_attention")) r.fail("full_attention", "missing beside sliding_attention");
  JsonObject full = r.object("full_attention");
  read_rope_set(full, o, s, ctx, v5);
  if (r.has("sliding_attention") && r.raw("sliding_attention") != r.raw("full_attention")) {
    JsonObject sliding = r.object("sliding_attention");
    const std::string type = sliding.has("rope_type") ? sliding.string("rope_type") : "default";
    if (type != "default")
      sliding.fail("rope_type", fmt::format("unsupported: rope scaling '{}' on the sliding layers, different from the "
                                            "full layers' (a plain rope of its own base is modelled)",
                                            type));
    s.rope_local_theta = sliding.has("rope_theta") ? sliding.number("rope_theta", 1.0, 1e15) : 10000.0;
    finish_lenient(sliding, ctx);
  }
  finish_lenient(r, ctx);
}

/// One set of rope parameters: rope_scaling's, or one of rope_parameters' (which also
/// carries rope_theta).
void read_rope_set(JsonObject& r, JsonObject& o, TransformerSpec& s, const ReadContext& ctx, bool v5) {
  if (v5) {
    if (r.has("rope_theta")) {
      const double theta = r.number("rope_theta", 1.0, 1e15);
      if (o.has("rope_theta") && o.number("rope_theta", 1.0, 1e15) != theta)
        o.fail("rope_theta", fmt::format("{} disagrees with rope_parameters.rope_theta {}", o.number("rope_theta", 1.0, 1e15),
                                         theta));
      s.rope_theta = theta;
    }
    if (r.has("partial_rotary_factor"))
      r.fail("partial_rotary_factor", "unsupported inside rope_parameters; give it at the top level");
    // Ministral 3 / Llama 4: queries scaled by 1 + beta ln(1 + floor(position / original
    // max)), transformers' get_llama_4_attn_scale (TransformerSpec::query_scale_of).
    if (r.has("llama_4_scaling_beta") && r.number("llama_4_scaling_beta", 0.0, 1e6) != 0.0) {
      s.query_scale_beta = r.number("llama_4_scaling_beta", 0.0, 1e6);
      if (!r.has("original_max_position_embeddings"))
        r.fail("original_max_position_embeddings", "missing (required with llama_4_scaling_beta)");
      s.query_scale_positions = r.integer("original_max_position_embeddings", 1, kMaxPositions);
    }
  }
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
  const std::string type_key = r.has("rope_type") ? "rope_type" : "type";
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
    r.fail(type_key, fmt::format("unsupported: rope scaling '{}' (Phi-3 LongRoPE, per-dimension short/long factors) "
                                 "is not modelled; supported: linear, llama3, yarn",
                                 type));
  } else if (type == "yarn") {
    // transformers' _compute_yarn_parameters.
    RopeScaling& y = s.rope_scaling;
    y.kind = RopeScaling::Kind::Yarn;
    y.factor = r.number("factor", 1.0, 1e6);
    y.original_max_position = r.has("original_max_position_embeddings") && !r.raw("original_max_position_embeddings").is_null()
                                  ? r.integer("original_max_position_embeddings", 1, kMaxPositions)
                                  : s.max_positions;
    auto optional_number = [&](const std::string& key, double min, double max) -> std::optional<double> {
      if (!r.has(key) || r.raw(key).is_null()) return std::nullopt;
      return r.number(key, min, max);
    };
    y.beta_fast = optional_number("beta_fast", 1e-6, 1e6).value_or(32.0);
    y.beta_slow = optional_number("beta_slow", 1e-6, 1e6).value_or(1.0);
    if (r.has("truncate")) y.truncate = r.boolean("truncate");
    auto mscale_of = [](double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    const auto attention_factor = optional_number("attention_factor", 1e-6, 1e6);
    const auto mscale = optional_number("mscale", 0.0, 1e6), mscale_all_dim = optional_number("mscale_all_dim", 0.0, 1e6);
    if (attention_factor) y.attention_factor = *attention_factor;
    else if (mscale && mscale_all_dim && *mscale != 0 && *mscale_all_dim != 0)
      y.attention_factor = mscale_of(y.factor, *mscale) / mscale_of(y.factor, *mscale_all_dim);
    else y.attention_factor = mscale_of(y.factor, 1.0);
  } else if (type == "dynamic") {
    r.fail(type_key, fmt::format("unsupported: rope scaling 'dynamic' (dynamic NTK scaling, which depends on the "
                                 "sequence length) is not modelled; supported: linear, llama3, yarn"));
  } else {
    r.fail(type_key, fmt::format("unsupported: rope scaling '{}' is not modelled; supported: linear, llama3, yarn", type));
  }
  // transformers only warns about rope_scaling keys a type does not use; so does lpusim.
  finish_lenient(r, ctx);
}

/// quantization_config: the storage format of the checkpoint's weights. fp8 (block or
/// tensor scales, e4m3 or e5m2), fbgemm_fp8 (per-channel e4m3) and mxfp4 are modelled
/// (docs/models.md, numerics); every other method is refused by name.
void read_quantization(JsonObject& o, TransformerSpec& s, const ReadContext& ctx) {
  if (!o.has("quantization_config")) return;
  JsonObject q = o.object("quantization_config");
  if (!q.has("quant_method")) q.fail("quant_method", "missing (required)");
  const std::string method = q.string("quant_method");
  CheckpointQuantization& c = s.quantization;
  c.method = method;
  auto read_modules = [&](const std::string& key) {
    if (!q.has(key)) return;
    const nlohmann::json& v = q.raw(key);
    if (v.is_null()) return;
    if (!v.is_array()) q.fail(key, fmt::format("expected an array of module names or null, got {}", describe_json(v)));
    for (const auto& m : v) {
      if (!m.is_string()) q.fail(key, fmt::format("expected module names (strings), got {}", describe_json(m)));
      c.not_converted.push_back(m.get<std::string>());
    }
  };
  auto require_not_dequantized = [&]() {
    // dequantize true: transformers turns the weights back into 16-bit floats on load.
    if (q.has("dequantize") && q.boolean("dequantize"))
      q.fail("dequantize", "unsupported: a checkpoint dequantized on load (dequantize true) runs 16-bit weights; "
                           "drop quantization_config and choose --weights instead");
  };
  if (method == "fp8") {
    c.format = CheckpointFormat::Fp8E4M3;
    if (q.has("fmt")) {
      const std::string fmt_name = q.string("fmt");
      if (fmt_name == "e5m2") c.format = CheckpointFormat::Fp8E5M2;
      else if (fmt_name != "e4m3") q.fail("fmt", fmt::format("expected e4m3 or e5m2, got '{}'", fmt_name));
    }
    if (q.has("activation_scheme")) {
      const std::string scheme = q.string("activation_scheme");
      if (scheme != "dynamic" && scheme != "static")
        q.fail("activation_scheme", fmt::format("expected dynamic or static, got '{}'", scheme));
    }
    if (q.has("weight_block_size") && !q.raw("weight_block_size").is_null()) {
      const nlohmann::json& b = q.raw("weight_block_size");
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
          b[0].get<std::int64_t>() < 1 || b[1].get<std::int64_t>() < 1)
        q.fail("weight_block_size", fmt::format("expected two positive integers or null, got {}", describe_json(b)));
    }
    if (q.has("scale_fmt")) {
      const std::string scale_fmt = q.string("scale_fmt");
      if (scale_fmt != "ue8m0" && scale_fmt != "fp32")
        q.fail("scale_fmt", fmt::format("expected ue8m0 or fp32, got '{}'", scale_fmt));
    }
    read_modules("modules_to_not_convert");
    require_not_dequantized();
  } else if (method == "fbgemm_fp8") {
    c.format = CheckpointFormat::Fp8E4M3;
    if (q.has("activation_scale_ub")) (void)q.number("activation_scale_ub", 0.0, 1e30);
    read_modules("modules_to_not_convert");
  } else if (method == "mxfp4") {
    c.format = CheckpointFormat::Mxfp4;
    read_modules("modules_to_not_convert");
    require_not_dequantized();
  } else {
    static const std::map<std::string, std::string> kDescriptions = {
        {"gptq", "integer weights with per-group scales and zero points"},
        {"awq", "4-bit integer weights with per-group scales and zero points"},
        {"bitsandbytes", "LLM.int8 outlier decomposition or 4-bit NF4/FP4 weights"},
        {"compressed-tensors", "llm-compressor integer or float weights per config group"},
        {"modelopt", "NVIDIA ModelOpt FP8 or NVFP4 weights"},
        {"quanto", "optimum-quanto weights"},
        {"hqq", "half-quadratic quantized weights"},
        {"aqlm", "additive vector-quantized weights"},
        {"eetq", "per-channel int8 weights"},
        {"torchao", "torchao weights"},
    };
    const auto it = kDescriptions.find(method);
    q.fail("quant_method", fmt::format("unsupported: quantization method '{}'{} is not modelled; lpusim models fp8, "
                                       "fbgemm_fp8 and mxfp4 checkpoints, or stores weights as --weights says",
                                       method, it == kDescriptions.end() ? "" : " (" + it->second + ")"));
  }
  // Tooling keys that do not change how the weights are stored.
  for (const auto& key : q.unread_keys()) {
    static const std::set<std::string> harmless = {"quant_method", "activation_scheme", "fmt", "weight_block_size",
                                                   "scale_fmt", "modules_to_not_convert", "dequantize"};
    if (!harmless.count(key)) unknown_key(ctx, q.file(), q.key_path(key));
  }
}

// Keys the rope decoders (llama and its relatives) read.
const std::vector<std::string> kRopeDecoderKeys = {
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta",
    "rope_scaling", "rope_parameters", "tie_word_embeddings", "attention_bias", "mlp_bias", "quantization_config"};

// Kernel-only keys of the rope decoders: tensor-parallel slicing (pretraining_tp splits
// matmuls, same result).
const std::vector<std::string> kRopeDecoderIgnorable = {"pretraining_tp"};

/// `attention_bias_default`: set when the family models attention_bias (biases on q, k, v
/// and o; gpt_oss), with the family's default; unset, a true attention_bias is refused.
void read_rope_decoder(JsonObject& o, TransformerSpec& s, const ReadContext& ctx, bool default_tie, double default_eps,
                       std::optional<bool> attention_bias_default = std::nullopt) {
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
  read_rope_scaling(o, s, ctx);
  s.tie_embeddings = o.has("tie_word_embeddings") ? o.boolean("tie_word_embeddings") : default_tie;
  s.activation = read_activation(o, "hidden_act", "silu");
  s.gated_mlp = true;
  s.causal = true;
  if (attention_bias_default) {
    s.qkv_bias = s.attention_out_bias = o.has("attention_bias") ? o.boolean("attention_bias") : *attention_bias_default;
  } else {
    require_bool(o, "attention_bias", false, "biases on the q/k/v/o projections (attention_bias true) are not modelled");
  }
  require_bool(o, "mlp_bias", false, "biases on the MLP projections (mlp_bias true) are not modelled");
  read_quantization(o, s, ctx);
}

void read_sliding_window(JsonObject& o, TransformerSpec& s) {
  if (o.has("sliding_window")) s.sliding_window = o.integer("sliding_window", 1, kMaxPositions);
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TransformerSpec parse_llama(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, kRopeDecoderKeys, kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, /*default_tie=*/false, /*default_eps=*/1e-6);
  o.finish();
  return s;
}

TransformerSpec parse_mistral(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"sliding_window"}), kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, false, 1e-6);
  read_sliding_window(o, s);
  o.finish();
  return s;
}

/// The top of a vision-language wrapper once its text_config is read: the checkpoint's
/// quantization_config, the vision side's keys read (so that finish() accepts them) and not
/// modelled, which a warning says.
void finish_vision_wrapper(JsonObject& o, TransformerSpec& s, const ReadContext& ctx,
                           const std::vector<std::string>& vision_keys) {
  read_quantization(o, s, ctx);
  for (const auto& key : vision_keys)
    if (o.has(key)) (void)o.raw(key);
  if (ctx.warnings)
    ctx.warnings->push_back(fmt::format("{}: model_type '{}': its vision tower and projector are not modelled; the "
                                        "estimate is the language model's (text_config) on text-only prompts",
                                        s.file, ctx.model_type));
  o.finish();
}

/// mistral3 (Mistral3ForConditionalGeneration: Mistral Small 3.1, Devstral): a pixtral
/// vision tower and projector beside a mistral language model in text_config (model_type
/// mistral or ministral3). The language model is modelled: a text-only prompt never reaches
/// the vision tower, which is said in a warning. quantization_config and
/// tie_word_embeddings sit at the top.
TransformerSpec parse_mistral3(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      {"text_config", "vision_config", "quantization_config", "tie_word_embeddings",
                       "image_token_index", "multimodal_projector_bias", "projector_hidden_act", "spatial_merge_size",
                       "vision_feature_layer"},
                      {}, ctx);
  JsonObject& o = reader.obj();
  if (!o.has("text_config")) o.fail("text_config", "missing (required: the language model's configuration)");
  JsonObject text = o.object("text_config");
  const std::string text_type = text.has("model_type") ? text.string("model_type") : "mistral";
  if (text_type != "mistral" && text_type != "ministral3")
    text.fail("model_type", fmt::format("unsupported: a mistral3 language model of model_type '{}' (modelled: "
                                        "mistral, ministral3)",
                                        text_type));
  ReadContext text_ctx = ctx;
  text_ctx.path = "text_config";
  text_ctx.model_type = text_type;
  s = parse_mistral(o.raw("text_config"), s, text_ctx);
  if (o.has("tie_word_embeddings")) s.tie_embeddings = o.boolean("tie_word_embeddings");
  finish_vision_wrapper(o, s, ctx, {"vision_config", "image_token_index", "multimodal_projector_bias",
                                    "projector_hidden_act", "spatial_merge_size", "vision_feature_layer"});
  return s;
}

/// num_local_experts and num_experts_per_tok (mixtral, gpt_oss).
void read_local_experts(JsonObject& o, TransformerSpec& s) {
  s.experts = o.integer("num_local_experts", 1, kMaxExperts);
  s.experts_per_token = o.integer("num_experts_per_tok", 1, kMaxExperts);
  if (s.experts_per_token > s.experts)
    o.fail("num_experts_per_tok", fmt::format("expected at most num_local_experts {}, got {}", s.experts,
                                              s.experts_per_token));
}

/// `given` with the config class's defaults for the keys it leaves out (a family whose
/// transformers config defaults sizes that read_rope_decoder otherwise requires).
nlohmann::json with_defaults(const nlohmann::json& given,
                             std::initializer_list<std::pair<const char*, nlohmann::json>> defaults) {
  nlohmann::json j = given;
  if (j.is_object())
    for (const auto& [key, value] : defaults)
      if (!j.contains(key)) j[key] = value;
  return j;
}

TransformerSpec parse_mixtral(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"sliding_window", "num_local_experts", "num_experts_per_tok"}),
                      kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, false, 1e-5);
  read_sliding_window(o, s);
  read_local_experts(o, s);
  o.finish();
  return s;
}

TransformerSpec parse_qwen2(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"use_sliding_window", "sliding_window"}),
                      // max_window_layers only matters with use_sliding_window true, which is refused;
                      // use_mrope is the multimodal rope switch of Qwen2-VL, not read by Qwen2ForCausalLM.
                      concat(kRopeDecoderIgnorable, {"max_window_layers", "use_mrope"}), ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, false, 1e-6);
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

TransformerSpec parse_gemma(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"hidden_activation"}), kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  if (!o.has("head_dim")) o.fail("head_dim", "missing (required: gemma's head_dim is not hidden_size / heads)");
  read_rope_decoder(o, s, ctx, /*default_tie=*/true, 1e-6);
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

/// Gemma 2 and 3 layer types: `layer_types` as written, else sliding unless (i + 1) is a
/// multiple of `period` (gemma2: 2, even layers sliding; gemma3: sliding_window_pattern 6).
void read_layer_types(JsonObject& o, TransformerSpec& s, std::int64_t period) {
  s.sliding_layers.assign(static_cast<std::size_t>(s.layers), false);
  for (std::int64_t i = 0; i < s.layers; ++i) s.sliding_layers[static_cast<std::size_t>(i)] = (i + 1) % period != 0;
  if (!o.has("layer_types")) return;
  const nlohmann::json& types = o.raw("layer_types");
  if (!types.is_array() || static_cast<std::int64_t>(types.size()) != s.layers)
    o.fail("layer_types", fmt::format("expected an array of {} layer types, got {}", s.layers, describe_json(types)));
  for (std::size_t i = 0; i < types.size(); ++i) {
    const std::string t = types[i].is_string() ? types[i].get<std::string>() : std::string();
    if (t != "sliding_attention" && t != "full_attention")
      o.fail("layer_types", fmt::format("expected sliding_attention or full_attention, got {}", describe_json(types[i])));
    s.sliding_layers[i] = t == "sliding_attention";
  }
}

/// A soft-capping value: a positive number, or null (none).
double read_softcap(JsonObject& o, const std::string& key, double default_value) {
  if (!o.has(key)) return default_value;
  if (o.raw(key).is_null()) return 0.0;
  return o.number(key, 1e-6, 1e9);
}

/// What gemma2 and gemma3_text share: gemma's RMSNorm (x * (1 + w)), scaled embeddings, tied
/// head, gelu-tanh gated MLP; norms before and after each sub-layer; scores scaled by
/// query_pre_attn_scalar^-1/2; sliding-window and global layers.
void read_gemma_sandwich(JsonObject& o, TransformerSpec& s, const ReadContext& ctx, double default_attn_softcap,
                         double default_final_softcap, std::int64_t layer_period) {
  read_rope_decoder(o, s, ctx, /*default_tie=*/true, 1e-6);
  if (!o.has("head_dim")) s.head_dim = 256;  // Gemma2Config and Gemma3TextConfig default
  s.activation = read_activation(o, "hidden_activation", "gelu_pytorch_tanh");
  s.norm_adds_one = true;
  s.scale_embeddings = true;
  s.norm_placement = NormPlacement::Sandwich;
  const double scalar = o.has("query_pre_attn_scalar") ? o.number("query_pre_attn_scalar", 1e-6, 1e9) : 256.0;
  s.attention_scale = 1.0 / std::sqrt(scalar);
  s.attention_softcap = read_softcap(o, "attn_logit_softcapping", default_attn_softcap);
  s.final_softcap = read_softcap(o, "final_logit_softcapping", default_final_softcap);
  s.sliding_window = o.has("sliding_window") ? o.integer("sliding_window", 1, kMaxPositions) : 4096;
  read_layer_types(o, s, layer_period);
  if (!s.tie_embeddings)
    unsupported(o, "tie_word_embeddings", "gemma with an untied LM head (tie_word_embeddings false) is not modelled");
}

TransformerSpec parse_gemma2(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      concat(kRopeDecoderKeys, {"hidden_activation", "query_pre_attn_scalar", "sliding_window",
                                                "attn_logit_softcapping", "final_logit_softcapping", "layer_types"}),
                      // cache_implementation: how generate() allocates the cache ("hybrid");
                      // sliding_window_size: an old name of sliding_window that Gemma2Config
                      // does not read.
                      concat(kRopeDecoderIgnorable, {"cache_implementation", "sliding_window_size"}), ctx);
  JsonObject& o = reader.obj();
  read_gemma_sandwich(o, s, ctx, 50.0, 30.0, 2);
  o.finish();
  return s;
}

TransformerSpec parse_gemma3_text(const nlohmann::json& given, TransformerSpec s, const ReadContext& ctx) {
  // Gemma3TextConfig's defaults for the sizes, which read_rope_decoder would otherwise
  // require: gemma-3-4b's text_config names only five keys and relies on them (its heads,
  // kv heads and vocabulary are these). The others are defaulted where they are read.
  const nlohmann::json j = with_defaults(
      given, {{"vocab_size", 262208}, {"hidden_size", 2304}, {"intermediate_size", 9216}, {"num_hidden_layers", 26},
              {"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"max_position_embeddings", 131072}});
  ConfigReader reader(j, s.file,
                      concat(kRopeDecoderKeys, {"hidden_activation", "query_pre_attn_scalar", "sliding_window",
                                                "attn_logit_softcapping", "final_logit_softcapping", "layer_types",
                                                "sliding_window_pattern", "rope_local_base_freq",
                                                "use_bidirectional_attention"}),
                      concat(kRopeDecoderIgnorable, {"cache_implementation"}), ctx);
  JsonObject& o = reader.obj();
  const std::int64_t period = o.has("sliding_window_pattern") ? o.integer("sliding_window_pattern", 1, kMaxLayers) : 6;
  read_gemma_sandwich(o, s, ctx, 0.0, 0.0, period);
  if (!rope_theta_given(o)) s.rope_theta = 1e6;
  if (o.has("rope_local_base_freq")) s.rope_local_theta = o.number("rope_local_base_freq", 1.0, 1e15);
  else if (!s.rope_local_theta) s.rope_local_theta = 10000.0;  // unless rope_parameters' sliding set gave it
  s.qk_norm = QkNorm::PerHead;
  require_bool(o, "use_bidirectional_attention", false,
               "bidirectional attention (use_bidirectional_attention true, EmbeddingGemma) is not modelled");
  o.finish();
  return s;
}

/// gemma3 (Gemma3ForConditionalGeneration: Gemma 3 4B, 12B, 27B): a SigLIP vision tower
/// and projector beside a gemma3_text language model in text_config (absent: all of
/// Gemma3TextConfig's defaults). The language model is modelled, the vision side named in a
/// warning. As in transformers, the wrapper's LM head output is not soft-capped whatever
/// final_logit_softcapping says (Gemma3ForConditionalGeneration.forward applies none).
TransformerSpec parse_gemma3(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      {"text_config", "vision_config", "quantization_config", "boi_token_index", "eoi_token_index",
                       "image_token_index", "mm_tokens_per_image"},
                      {}, ctx);
  JsonObject& o = reader.obj();
  nlohmann::json text_json = nlohmann::json::object();
  if (o.has("text_config")) {
    JsonObject text = o.object("text_config");
    if (text.has("model_type") && text.string("model_type") != "gemma3_text")
      text.fail("model_type", fmt::format("unsupported: a gemma3 language model of model_type '{}' (modelled: gemma3_text)",
                                          text.string("model_type")));
    text_json = o.raw("text_config");
  }
  ReadContext text_ctx = ctx;
  text_ctx.path = "text_config";
  text_ctx.model_type = "gemma3_text";
  s = parse_gemma3_text(text_json, s, text_ctx);
  if (s.final_softcap != 0.0 && ctx.warnings)
    ctx.warnings->push_back(fmt::format("{}: key 'text_config.final_logit_softcapping': not applied: "
                                        "Gemma3ForConditionalGeneration does not soft-cap its logits",
                                        s.file));
  s.final_softcap = 0.0;
  finish_vision_wrapper(o, s, ctx,
                        {"vision_config", "boi_token_index", "eoi_token_index", "image_token_index", "mm_tokens_per_image"});
  return s;
}

TransformerSpec parse_phi3(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"sliding_window", "partial_rotary_factor"}),
                      // Used only by LongRoPE scaling, which is refused.
                      concat(kRopeDecoderIgnorable, {"original_max_position_embeddings"}), ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, false, 1e-5);
  read_sliding_window(o, s);
  if (o.has("partial_rotary_factor") && o.number("partial_rotary_factor", 0.0, 1.0) != 1.0)
    unsupported(o, "partial_rotary_factor", "rope on part of each head (partial_rotary_factor below 1) is not modelled");
  o.finish();
  return s;
}

/// Qwen3 and Qwen3-MoE attention: a llama block with per-head q/k RMSNorms; no window unless
/// use_sliding_window (false in every released config), which is refused.
void read_qwen3_attention(JsonObject& o, TransformerSpec& s, const ReadContext& ctx) {
  read_rope_decoder(o, s, ctx, /*default_tie=*/false, /*default_eps=*/1e-6);
  // Qwen3Config's head_dim defaults to 128, not hidden / heads.
  if (!o.has("head_dim")) s.head_dim = 128;
  s.qk_norm = QkNorm::PerHead;
  if (o.has("use_sliding_window") && o.boolean("use_sliding_window"))
    unsupported(o, "use_sliding_window",
                "Qwen3 sliding-window attention (a window on layers from max_window_layers on) is not modelled");
  if (o.has("sliding_window")) (void)o.integer("sliding_window", 1, kMaxPositions);  // not applied without use_sliding_window
  if (o.has("layer_types")) {
    const nlohmann::json& types = o.raw("layer_types");
    if (!types.is_array() || static_cast<std::int64_t>(types.size()) != s.layers)
      o.fail("layer_types", fmt::format("expected an array of {} layer types, got {}", s.layers, describe_json(types)));
    for (const auto& t : types)
      if (!t.is_string() || t.get<std::string>() != "full_attention")
        o.fail("layer_types", fmt::format("unsupported: layer type {} (Qwen3 without use_sliding_window has only "
                                          "full_attention layers)", describe_json(t)));
  }
}

const std::vector<std::string> kQwen3Keys = {"use_sliding_window", "sliding_window", "layer_types"};

TransformerSpec parse_qwen3(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  // max_window_layers only matters with use_sliding_window true, which is refused.
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, kQwen3Keys), concat(kRopeDecoderIgnorable, {"max_window_layers"}),
                      ctx);
  JsonObject& o = reader.obj();
  read_qwen3_attention(o, s, ctx);
  o.finish();
  return s;
}

TransformerSpec parse_qwen3_moe(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(
      j, s.file,
      concat(concat(kRopeDecoderKeys, kQwen3Keys),
             {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "norm_topk_prob", "decoder_sparse_step",
              "mlp_only_layers", "qkv_bias", "use_qk_norm", "shared_experts_intermediate_size"}),
      concat(kRopeDecoderIgnorable, {"max_window_layers"}), ctx);
  JsonObject& o = reader.obj();
  read_qwen3_attention(o, s, ctx);
  s.experts = o.integer("num_experts", 1, kMaxExperts);
  s.experts_per_token = o.integer("num_experts_per_tok", 1, kMaxExperts);
  if (s.experts_per_token > s.experts)
    o.fail("num_experts_per_tok", fmt::format("expected at most num_experts {}, got {}", s.experts, s.experts_per_token));
  s.expert_intermediate = o.integer("moe_intermediate_size", 1, kMaxWidth);
  // Qwen3MoeConfig's default is false; the released configs say true.
  s.moe_renormalize = o.has("norm_topk_prob") && o.boolean("norm_topk_prob");
  const std::int64_t step = o.has("decoder_sparse_step") ? o.integer("decoder_sparse_step", 1, kMaxLayers) : 1;
  std::vector<bool> dense(static_cast<std::size_t>(s.layers), false);
  if (o.has("mlp_only_layers")) {
    const nlohmann::json& list = o.raw("mlp_only_layers");
    if (!list.is_array()) o.fail("mlp_only_layers", fmt::format("expected an array of layer indices, got {}", describe_json(list)));
    for (const auto& v : list) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= s.layers)
        o.fail("mlp_only_layers", fmt::format("expected layer indices in [0, {}), got {}", s.layers, describe_json(v)));
      dense[static_cast<std::size_t>(v.get<std::int64_t>())] = true;
    }
  }
  s.moe_layers.assign(static_cast<std::size_t>(s.layers), false);
  for (std::int64_t i = 0; i < s.layers; ++i)
    s.moe_layers[static_cast<std::size_t>(i)] = !dense[static_cast<std::size_t>(i)] && (i + 1) % step == 0;
  // Keys some Qwen3-MoE files carry that transformers does not read: accepted when they state
  // what the model does anyway, refused when they claim something it does not do.
  require_bool(o, "qkv_bias", false, "q/k/v biases (qkv_bias true): transformers' Qwen3-MoE has none and ignores the key");
  require_bool(o, "use_qk_norm", true, "use_qk_norm false: transformers' Qwen3-MoE always normalises q and k");
  if (o.has("shared_experts_intermediate_size") && o.integer("shared_experts_intermediate_size", 0, kMaxWidth) != 0)
    unsupported(o, "shared_experts_intermediate_size",
                "a shared expert: transformers' Qwen3-MoE has none and ignores the key");
  o.finish();
  return s;
}

/// gpt_oss (gpt-oss-20b, gpt-oss-120b): a llama block with biased q/k/v/o projections,
/// attention sinks, sliding-window (128) and full layers alternating, YaRN rope, and in every
/// layer a MoE whose router and experts have biases and whose experts use a clamped SwiGLU
/// (transformers' GptOssExperts: limit 7.0 and alpha 1.702, written into the code). The
/// router's softmax over its top k logits equals Mixtral's renormalised top k. Absent keys take
/// GptOssConfig's defaults.
TransformerSpec parse_gpt_oss(const nlohmann::json& given, TransformerSpec s, const ReadContext& ctx) {
  nlohmann::json j = with_defaults(
      given, {{"vocab_size", 201088}, {"hidden_size", 2880}, {"intermediate_size", 2880}, {"num_hidden_layers", 36},
              {"num_attention_heads", 64}, {"num_key_value_heads", 8}, {"head_dim", 64},
              {"max_position_embeddings", 131072}, {"num_local_experts", 128}, {"num_experts_per_tok", 4},
              {"sliding_window", 128}});
  if (j.is_object() && !j.contains("rope_scaling") && !j.contains("rope_parameters"))
    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 32.0}, {"beta_fast", 32.0}, {"beta_slow", 1.0},
                         {"truncate", false}, {"original_max_position_embeddings", 4096}};
  // experts_per_token and initial_context_length are in OpenAI's published files; transformers
  // keeps them as plain attributes and never reads them.
  ConfigReader reader(j, s.file,
                      concat(kRopeDecoderKeys, {"sliding_window", "layer_types", "num_local_experts",
                                                "num_experts_per_tok", "swiglu_limit"}),
                      concat(kRopeDecoderIgnorable, {"experts_per_token", "initial_context_length"}), ctx);
  JsonObject& o = reader.obj();
  read_rope_decoder(o, s, ctx, /*default_tie=*/false, /*default_eps=*/1e-5, /*attention_bias_default=*/true);
  if (!rope_theta_given(o)) s.rope_theta = 150000.0;
  s.sliding_window = o.integer("sliding_window", 1, kMaxPositions);
  // GptOssConfig: layer i slides unless (i + 1) is even.
  read_layer_types(o, s, 2);
  read_local_experts(o, s);
  s.moe_renormalize = true;
  s.expert_biases = true;
  s.expert_glu_limit = 7.0;
  s.expert_glu_alpha = 1.702;
  if (o.has("swiglu_limit") && o.number("swiglu_limit", 0.0, 1e6) != s.expert_glu_limit)
    unsupported(o, "swiglu_limit", fmt::format("{} (transformers' gpt-oss experts clamp at 7.0 whatever the file "
                                               "says; another limit is not modelled)",
                                               o.number("swiglu_limit", 0.0, 1e6)));
  s.attention_sinks = true;
  o.finish();
  return s;
}

/// OLMo 2 and 3: no norm before the sub-layers, an RMSNorm after each (before its residual
/// add), and q/k RMSNorms over all heads together.
void read_olmo(JsonObject& o, TransformerSpec& s, const ReadContext& ctx) {
  read_rope_decoder(o, s, ctx, /*default_tie=*/false, /*default_eps=*/1e-5);
  s.norm_placement = NormPlacement::PostSublayer;
  s.qk_norm = QkNorm::Whole;
}

TransformerSpec parse_olmo2(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, kRopeDecoderKeys, kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  read_olmo(o, s, ctx);
  o.finish();
  return s;
}

TransformerSpec parse_olmo3(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file, concat(kRopeDecoderKeys, {"sliding_window", "layer_types"}), kRopeDecoderIgnorable, ctx);
  JsonObject& o = reader.obj();
  read_olmo(o, s, ctx);
  // Olmo3Config: window 4096 and layer_types "sliding_attention" unless (i + 1) % 4 == 0.
  s.sliding_window = o.has("sliding_window") ? o.integer("sliding_window", 1, kMaxPositions) : 4096;
  s.sliding_layers.assign(static_cast<std::size_t>(s.layers), false);
  for (std::int64_t i = 0; i < s.layers; ++i) s.sliding_layers[static_cast<std::size_t>(i)] = (i + 1) % 4 != 0;
  if (o.has("layer_types")) {
    const nlohmann::json& types = o.raw("layer_types");
    if (!types.is_array() || static_cast<std::int64_t>(types.size()) != s.layers)
      o.fail("layer_types", fmt::format("expected an array of {} layer types, got {}", s.layers, describe_json(types)));
    for (std::size_t i = 0; i < types.size(); ++i) {
      const std::string t = types[i].is_string() ? types[i].get<std::string>() : std::string();
      if (t != "sliding_attention" && t != "full_attention")
        o.fail("layer_types", fmt::format("expected sliding_attention or full_attention, got {}", describe_json(types[i])));
      s.sliding_layers[i] = t == "sliding_attention";
    }
  }
  o.finish();
  return s;
}

/// phi (phi-1, phi-1.5, phi-2): a parallel block (one LayerNorm feeding attention and MLP,
/// both added to x), biases on every projection and on the LM head, partial rotary.
TransformerSpec parse_phi(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                       "num_key_value_heads", "hidden_act", "max_position_embeddings", "layer_norm_eps", "rope_theta",
                       "rope_scaling", "rope_parameters", "partial_rotary_factor", "qk_layernorm", "tie_word_embeddings",
                       "rotary_dim",
                       "quantization_config"},
                      // attention_bias: phi-1's file says false, but PhiConfig does not read
                      // it and PhiAttention always has q/k/v/dense biases, as modelled.
                      {"attention_bias"}, ctx);
  JsonObject& o = reader.obj();
  s.vocab_size = o.integer("vocab_size", 1, kMaxVocab);
  s.hidden = o.integer("hidden_size", 1, kMaxWidth);
  s.intermediate = o.integer("intermediate_size", 1, kMaxWidth);
  s.layers = o.integer("num_hidden_layers", 1, kMaxLayers);
  s.heads = o.integer("num_attention_heads", 1, kMaxHeads);
  s.kv_heads = o.optional_integer("num_key_value_heads", 1, kMaxHeads).value_or(s.heads);
  s.max_positions = o.integer("max_position_embeddings", 1, kMaxPositions);
  s.activation = read_activation(o, "hidden_act", "gelu_new");
  s.norm = NormKind::LayerNorm;
  s.norm_eps = o.has("layer_norm_eps") ? o.number("layer_norm_eps", 0.0, 1.0) : 1e-5;
  s.positions = PositionKind::Rope;
  s.rope_theta = o.has("rope_theta") ? o.number("rope_theta", 1.0, 1e15) : 10000.0;
  read_rope_scaling(o, s, ctx);
  s.tie_embeddings = o.has("tie_word_embeddings") && o.boolean("tie_word_embeddings");
  s.gated_mlp = false;
  s.qkv_bias = s.attention_out_bias = s.mlp_bias = s.lm_head_bias = true;
  s.parallel_block = true;
  s.causal = true;
  if (s.hidden % s.heads != 0)
    o.fail("num_attention_heads", fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", s.hidden, s.heads));
  const std::int64_t head_dim = s.hidden / s.heads;
  const double factor = o.has("partial_rotary_factor") ? o.number("partial_rotary_factor", 0.0, 1.0) : 0.5;
  // PhiAttention: rotary_ndims = int(head_dim * partial_rotary_factor).
  s.rotary_dim = static_cast<std::int64_t>(static_cast<double>(head_dim) * factor);
  if (s.rotary_dim < 2 || s.rotary_dim % 2 != 0)
    o.fail("partial_rotary_factor", fmt::format("gives {} rotary lanes of a {}-lane head; rope needs an even number, at least 2",
                                                s.rotary_dim, head_dim));
  // rotary_dim: the legacy key of phi-1's file; PhiConfig does not read it. Accepted when it
  // agrees with partial_rotary_factor.
  if (o.has("rotary_dim") && o.integer("rotary_dim", 0, kMaxWidth) != s.rotary_dim)
    o.fail("rotary_dim", fmt::format("{} disagrees with partial_rotary_factor x head_dim = {} (transformers uses the latter)",
                                     o.integer("rotary_dim", 0, kMaxWidth), s.rotary_dim));
  require_bool(o, "qk_layernorm", false, "LayerNorms on q and k (qk_layernorm true) are not modelled for phi");
  read_quantization(o, s, ctx);
  o.finish();
  return s;
}

/// GPT2Config's attribute_map: a config may name n_embd, n_positions, n_head and n_layer by
/// their generic names (transformers sets the same attribute either way).
std::int64_t read_gpt2_size(JsonObject& o, const std::string& key, const std::string& alias, std::int64_t max) {
  if (o.has(alias)) {
    const std::int64_t v = o.integer(alias, 1, max);
    if (o.has(key) && o.integer(key, 1, max) != v)
      o.fail(alias, fmt::format("{} disagrees with {} {} (transformers maps {} onto {})", v, key, o.integer(key, 1, max),
                                alias, key));
    return v;
  }
  return o.integer(key, 1, max);
}

TransformerSpec parse_gpt2(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      {"vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                       "layer_norm_epsilon", "tie_word_embeddings", "scale_attn_weights",
                       "scale_attn_by_inverse_layer_idx", "hidden_size", "max_position_embeddings",
                       "num_attention_heads", "num_hidden_layers", "quantization_config"},
                      // n_ctx is a legacy duplicate of n_positions; reorder_and_upcast_attn changes
                      // only the precision of the attention product; summary_* configure the
                      // sequence-classification head, which is not built; n_special and
                      // predict_special_tokens are leftovers of the OpenAI GPT config.
                      {"n_ctx", "reorder_and_upcast_attn", "summary_type", "summary_use_proj", "summary_activation",
                       "summary_proj_to_labels", "summary_first_dropout", "n_special", "predict_special_tokens"},
                      ctx);
  JsonObject& o = reader.obj();
  s.vocab_size = o.integer("vocab_size", 1, kMaxVocab);
  s.max_positions = read_gpt2_size(o, "n_positions", "max_position_embeddings", kMaxPositions);
  s.hidden = read_gpt2_size(o, "n_embd", "hidden_size", kMaxWidth);
  s.layers = read_gpt2_size(o, "n_layer", "num_hidden_layers", kMaxLayers);
  s.heads = read_gpt2_size(o, "n_head", "num_attention_heads", kMaxHeads);
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
  read_quantization(o, s, ctx);
  o.finish();
  return s;
}

TransformerSpec parse_bert(const nlohmann::json& j, TransformerSpec s, const ReadContext& ctx) {
  ConfigReader reader(j, s.file,
                      {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                       "hidden_act", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
                       "position_embedding_type", "is_decoder", "quantization_config"},
                      // tie_word_embeddings only concerns the masked-LM head, which lpusim does not
                      // build (the output is the encoder's last hidden state).
                      {"tie_word_embeddings"}, ctx);
  JsonObject& o = reader.obj();
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
  read_quantization(o, s, ctx);
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

  std::int64_t attention = 0;
  // Attention: q, k, v, o projections and their biases, q/k norms.
  attention = add(attention, mul(hidden, add(q_width, mul(2, kv_width))));
  if (qkv_bias) attention = add(attention, add(q_width, mul(2, kv_width)));
  attention = add(attention, mul(q_width, hidden));
  if (attention_out_bias) attention = add(attention, hidden);
  if (qk_norm == QkNorm::PerHead) attention = add(attention, mul(2, head_dim));
  if (qk_norm == QkNorm::Whole) attention = add(attention, add(q_width, kv_width));
  if (attention_sinks) attention = add(attention, heads);
  // The block's norms: one (phi's parallel block), four (gemma2/3: before and after each
  // sub-layer), else two.
  const std::int64_t block_norms = parallel_block ? 1 : norm_placement == NormPlacement::Sandwich ? 4 : 2;
  attention = add(attention, mul(block_norms, norm_params));
  // MLP: dense, or router plus experts.
  const std::int64_t projections = gated_mlp ? 3 : 2;
  std::int64_t dense = mul(projections, mul(hidden, intermediate));
  if (mlp_bias) dense = add(dense, add(intermediate, hidden));
  std::int64_t moe = experts > 0 ? add(mul(hidden, experts), mul(experts, mul(projections, mul(hidden, expert_width())))) : 0;
  // gpt_oss: the router's bias and each expert's gate, up and down biases.
  if (experts > 0 && expert_biases) moe = add(moe, add(experts, mul(experts, add(mul(2, expert_width()), hidden))));

  std::int64_t total = 0;
  for (std::int64_t i = 0; i < layers; ++i) total = add(total, add(attention, is_moe_layer(i) ? moe : dense));
  total = add(total, mul(vocab_size, hidden));  // token embeddings (also the LM head when tied)
  if (positions == PositionKind::Learned) total = add(total, mul(max_positions, hidden));
  total = add(total, mul(type_vocab_size, hidden));
  if (embedding_norm) total = add(total, norm_params);
  if (!post_norm) total = add(total, norm_params);  // final norm of pre-norm models
  if (has_lm_head && !tie_embeddings) total = add(total, mul(hidden, vocab_size));
  if (lm_head_bias) total = add(total, vocab_size);
  return total;
}

std::int64_t TransformerSpec::window_of(std::int64_t layer) const {
  if (!sliding_window) return 0;
  if (sliding_layers.empty()) return *sliding_window;
  return sliding_layers[static_cast<std::size_t>(layer)] ? *sliding_window : 0;
}

void TransformerSpec::require_positions_modelled(std::int64_t end) const {
  if (end > max_positions)
    throw InputError(fmt::format("{}: {} positions exceed max_position_embeddings {}", file, end, max_positions));
}

double TransformerSpec::query_scale_of(std::int64_t position) const {
  return llama4_query_scale(query_scale_beta, query_scale_positions, position);
}

double TransformerSpec::rope_theta_of(std::int64_t layer) const {
  return rope_local_theta && window_of(layer) > 0 ? *rope_local_theta : rope_theta;
}

RopeScaling TransformerSpec::rope_scaling_of(std::int64_t layer) const {
  return rope_local_theta && window_of(layer) > 0 ? RopeScaling{} : rope_scaling;
}

double TransformerSpec::attention_scale_value() const {
  return attention_scale > 0 ? attention_scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
}

bool TransformerSpec::is_moe_layer(std::int64_t layer) const {
  if (experts == 0) return false;
  return moe_layers.empty() || moe_layers[static_cast<std::size_t>(layer)];
}

namespace {

using Parser = TransformerSpec (*)(const nlohmann::json&, TransformerSpec, const ReadContext&);

struct FamilyEntry {
  const char* model_type;
  TransformerFamily family;
  Parser parse;
};

const std::vector<FamilyEntry>& families() {
  static const std::vector<FamilyEntry> table = {
      {"llama", TransformerFamily::Llama, parse_llama},     {"mistral", TransformerFamily::Mistral, parse_mistral},
      {"mixtral", TransformerFamily::Mixtral, parse_mixtral}, {"qwen2", TransformerFamily::Qwen2, parse_qwen2},
      {"gemma", TransformerFamily::Gemma, parse_gemma},     {"phi3", TransformerFamily::Phi3, parse_phi3},
      {"gpt2", TransformerFamily::Gpt2, parse_gpt2},        {"bert", TransformerFamily::Bert, parse_bert},
      {"qwen3", TransformerFamily::Qwen3, parse_qwen3},     {"qwen3_moe", TransformerFamily::Qwen3Moe, parse_qwen3_moe},
      {"olmo2", TransformerFamily::Olmo2, parse_olmo2},     {"olmo3", TransformerFamily::Olmo3, parse_olmo3},
      {"phi", TransformerFamily::Phi, parse_phi},         {"mistral3", TransformerFamily::Mistral, parse_mistral3},
      {"gemma3", TransformerFamily::Gemma3Text, parse_gemma3},
      {"ministral3", TransformerFamily::Mistral, parse_mistral},  // mistral3's language model on its own
      {"gemma2", TransformerFamily::Gemma2, parse_gemma2},  {"gemma3_text", TransformerFamily::Gemma3Text, parse_gemma3_text},
      {"gpt_oss", TransformerFamily::GptOss, parse_gpt_oss},
  };
  return table;
}

/// model_types transformers knows (or that remote-code checkpoints use) which lpusim does
/// not model, with what stands in the way.
const std::map<std::string, std::string>& unmodelled_model_types() {
  static const std::map<std::string, std::string> table = {
      {"qwen2_moe", "not modelled: a sigmoid-gated shared expert beside the routed experts"},
      {"deepseek_v3", "not modelled yet: multi-head latent attention (low-rank compressed q and KV, a decoupled rope "
                      "key) and a shared expert beside sigmoid-scored, group-limited routed experts"},
      {"kimi_k2", "the deepseek_v3 forward pass (DeepseekV3ForCausalLM), not modelled yet: multi-head latent attention "
                  "and shared plus routed experts"},
      {"llama4_text", "not modelled yet: a shared expert beside sigmoid-scored routed experts, chunked attention, "
                      "NoPE layers with attention temperature tuning, L2 q/k norms"},
      {"llama4", "not modelled: Llama 4's vision-language wrapper (its text_config is llama4_text, not modelled yet)"},
      {"distilbert", "not modelled: DistilBERT's encoder without token types"},
      {"t5", "not modelled: an encoder-decoder with relative position buckets"},
      {"phi-msft", "Microsoft's 2023 remote-code phi, not a transformers model; current hub files say model_type phi"},
      {"mixformer-sequential",
       "Microsoft's 2023 remote-code phi, not a transformers model; current hub files say model_type phi"},
      {"qwen3_5", "not modelled: linear-attention layers beside full attention"},
      {"exaone4", "not modelled: its local/global layer pattern and norm placement"},
      {"cohere", "not modelled: a parallel block with logit scaling"},
      {"stablelm", "not modelled: LayerNorm decoders with partial rotary embeddings"},
      {"falcon", "not modelled: parallel attention with multi-query heads"},
      {"mpt", "not modelled: ALiBi attention"},
      {"bloom", "not modelled: ALiBi attention"},
      {"opt", "not modelled: learned positions with an offset"},
      {"gpt_neox", "not modelled: a parallel residual with partial rotary embeddings"},
      {"gptj", "not modelled: a parallel residual with interleaved partial rotary embeddings"},
      {"roberta", "not modelled: RoBERTa's padding-offset positions"},
  };
  return table;
}

std::string supported_list() {
  std::string list;
  for (const auto& m : supported_model_types()) list += (list.empty() ? "" : ", ") + m;
  return list;
}

/// The model_type of a config: as written, or inferred from architectures[0] when missing.
std::string read_model_type(const nlohmann::json& j, const std::string& file, std::vector<std::string>& warnings) {
  JsonObject top(j, file, "");
  if (top.has("model_type")) return top.string("model_type");
  if (!top.has("architectures"))
    top.fail("model_type", "missing (required), and there is no 'architectures' to infer it from");
  const nlohmann::json& arch = top.raw("architectures");
  if (!arch.is_array() || arch.empty() || !arch[0].is_string())
    top.fail("architectures", fmt::format("expected a non-empty array of class names (model_type is missing), got {}",
                                          describe_json(arch)));
  const std::string cls = arch[0].get<std::string>();
  const std::string inferred = model_type_of_architecture(cls);
  if (inferred.empty())
    top.fail("model_type", fmt::format("missing, and architectures[0] '{}' is not a transformers class lpusim knows "
                                       "(supported model types: {})",
                                       cls.substr(0, 80), supported_list()));
  // transformers' AutoConfig matches the folder name instead; the class is what the weights fit.
  warnings.push_back(fmt::format("{}: key 'model_type': missing; inferred '{}' from architectures[0] '{}'", file,
                                 inferred, cls));
  return inferred;
}

}  // namespace

const char* checkpoint_format_name(CheckpointFormat f) {
  switch (f) {
    case CheckpointFormat::None: return "none";
    case CheckpointFormat::Fp8E4M3: return "fp8e4m3";
    case CheckpointFormat::Fp8E5M2: return "fp8e5m2";
    case CheckpointFormat::Mxfp4: return "mxfp4";
  }
  return "none";
}

namespace {
/// Whether `pattern` ('*': any characters) matches all of `text`: the greedy wildcard match,
/// at most pattern x text steps whatever the pattern (a file could hold any pattern).
bool glob_match(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

/// Whether `text` contains a match of `pattern`.
bool glob_contains(const std::string& pattern, const std::string& text) { return glob_match("*" + pattern + "*", text); }
}  // namespace

CheckpointFormat CheckpointQuantization::format_of(const std::string& hf_module) const {
  // transformers' quantizers always keep the output embedding (lm_head) in 16 bits
  // (get_keys_to_not_convert), whether or not modules_to_not_convert names it.
  if (format == CheckpointFormat::None || hf_module == "lm_head") return CheckpointFormat::None;
  for (const auto& pattern : not_converted)
    if (glob_contains(pattern, hf_module)) return CheckpointFormat::None;
  return format;
}

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> t;
    for (const auto& f : families()) t.push_back(f.model_type);
    return t;
  }();
  return types;
}

TransformerSpec parse_transformer_spec(const std::string& json_text, const std::string& file,
                                       const ConfigReadOptions& options) {
  return transformer_spec_from_json(parse_user_json(json_text, file), file, options);
}

TransformerSpec transformer_spec_from_json(const nlohmann::json& j, const std::string& file,
                                           const ConfigReadOptions& options) {
  TransformerSpec s;
  s.file = file;
  (void)JsonObject(j, file, "");  // a JSON object at the top, or one line saying what it is
  s.model_type = read_model_type(j, file, s.warnings);
  ReadContext ctx;
  ctx.options = options;
  ctx.model_type = s.model_type;
  for (const auto& f : families()) {
    if (s.model_type != f.model_type) continue;
    s.family = f.family;
    std::vector<std::string> warnings = std::move(s.warnings);
    ctx.warnings = &warnings;
    s = f.parse(j, s, ctx);
    s.warnings = std::move(warnings);
    validate(j, s);
    return s;
  }
  JsonObject top(j, file, "");
  const auto& unmodelled = unmodelled_model_types();
  if (const auto it = unmodelled.find(s.model_type); it != unmodelled.end())
    top.fail("model_type", fmt::format("unsupported model_type '{}' ({}); supported: {}", s.model_type, it->second,
                                       supported_list()));
  top.fail("model_type", fmt::format("unsupported model_type '{}' (supported: {})", s.model_type.substr(0, 80),
                                     supported_list()));
}

TransformerSpec load_transformer_spec(const std::string& path, const ConfigReadOptions& options) {
  namespace fs = std::filesystem;
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) file = (fs::path(path) / "config.json").string();
  return transformer_spec_from_json(load_user_json(file), file, options);
}

}  // namespace lpusim
