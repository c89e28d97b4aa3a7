#pragma once
// A transformer model as the compiler sees it: the architecture parameters of a Hugging
// Face config.json, parsed and validated per family (llama, mistral, mixtral, qwen2,
// gemma, phi3, gpt2, bert). Plain C++.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lpusim {

enum class TransformerFamily { Llama, Mistral, Mixtral, Qwen2, Gemma, Phi3, Gpt2, Bert, Qwen3, Qwen3Moe, Olmo2, Olmo3, Phi, Gemma2, Gemma3Text, GptOss };
const char* family_name(TransformerFamily f);

enum class NormKind { LayerNorm, RmsNorm };
enum class ActivationKind { Gelu, GeluTanh, Silu, Relu };  ///< gelu (erf), gelu_new/gelu_pytorch_tanh, silu, relu
enum class PositionKind { Rope, Learned, None };
/// Norms on q and k after their projections (before rope): none; RMSNorm over each head's
/// head_dim lanes with one [head_dim] weight shared by the heads (qwen3, gemma3); RMSNorm over
/// all heads together with a [heads * head_dim] weight (olmo2, olmo3).
enum class QkNorm { None, PerHead, Whole };
/// Where a block's norms sit: before each sub-layer (llama); after each residual add (bert);
/// after each sub-layer's output, before its residual add, and no norm before (olmo2); before
/// and after each sub-layer, the residual add last (gemma2, gemma3: x + post(f(pre(x)))).
enum class NormPlacement { Pre, PostResidual, PostSublayer, Sandwich };

struct RopeScaling {
  enum class Kind { None, Linear, Llama3, Yarn } kind = Kind::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;            ///< llama3
  double high_freq_factor = 4.0;           ///< llama3
  std::int64_t original_max_position = 8192;  ///< llama3, yarn
  double beta_fast = 32.0;                 ///< yarn: the correction range's rotation counts
  double beta_slow = 1.0;
  bool truncate = true;                    ///< yarn: the correction range rounded outwards to whole dimensions
  /// yarn: cos and sin are multiplied by it (so the scores by its square); resolved from
  /// attention_factor, or mscale / mscale_all_dim, or 0.1 ln(factor) + 1, as transformers does.
  double attention_factor = 1.0;
};

/// The weight format of a quantized checkpoint (its quantization_config), as lpusim models it.
enum class CheckpointFormat { None, Fp8E4M3, Fp8E5M2, Mxfp4 };
const char* checkpoint_format_name(CheckpointFormat f);  ///< "none", "fp8e4m3", "fp8e5m2", "mxfp4"

struct CheckpointQuantization {
  CheckpointFormat format = CheckpointFormat::None;
  std::string method;                       ///< quant_method as written ("fp8", "fbgemm_fp8", "mxfp4")
  std::vector<std::string> not_converted;   ///< modules_to_not_convert: kept in 16 bits
  /// The format of the linear layer with this Hugging Face module name
  /// ("model.layers.3.self_attn.q_proj", "lm_head"): None when the checkpoint keeps it in
  /// 16 bits. A pattern matches as a prefix or substring, '*' standing for any characters
  /// (transformers matches both ways across its quantizers).
  CheckpointFormat format_of(const std::string& hf_module) const;
};

struct TransformerSpec {
  std::string file;                 ///< the config.json it came from
  TransformerFamily family = TransformerFamily::Llama;
  std::string model_type;           ///< as written in config.json
  std::int64_t vocab_size = 0;
  std::int64_t hidden = 0;          ///< hidden_size / n_embd
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;        ///< = heads without GQA
  std::int64_t head_dim = 0;        ///< explicit (gemma) or hidden / heads
  std::int64_t intermediate = 0;    ///< MLP width (gpt2: n_inner or 4 x n_embd)
  std::int64_t max_positions = 0;
  NormKind norm = NormKind::RmsNorm;
  double norm_eps = 1e-5;
  bool norm_adds_one = false;       ///< gemma: x * (1 + w)
  bool post_norm = false;           ///< bert: LayerNorm after the residual add
  NormPlacement norm_placement = NormPlacement::Pre;  ///< bert: PostResidual (post_norm), olmo2/3: PostSublayer
  QkNorm qk_norm = QkNorm::None;
  /// phi: attention and MLP read the same norm of x and both add to it (x + attn(n) + mlp(n)).
  bool parallel_block = false;
  std::int64_t rotary_dim = 0;      ///< lanes of each head that rope rotates (0: all; phi: partial)
  /// Attention scores' scale (0: 1 / sqrt(head_dim); gemma2/3: query_pre_attn_scalar^-1/2).
  double attention_scale = 0.0;
  /// Logit soft-capping, c * tanh(x / c) (0: none; gemma2): of the attention scores before
  /// masking, and of the final logits.
  double attention_softcap = 0.0;
  double final_softcap = 0.0;
  /// Sliding-window layers' own rope base, without rope_scaling (gemma3's rope_local_base_freq;
  /// unset: every layer uses rope_theta and rope_scaling).
  std::optional<double> rope_local_theta;
  bool lm_head_bias = false;        ///< phi
  ActivationKind activation = ActivationKind::Silu;
  bool gated_mlp = true;            ///< gate/up/down (llama family) vs fc1/fc2 (gpt2, bert)
  bool qkv_bias = false;            ///< qwen2, gpt2, bert
  bool mlp_bias = false;            ///< gpt2, bert
  bool attention_out_bias = false;  ///< gpt2, bert
  bool causal = true;               ///< false for bert (encoder)
  PositionKind positions = PositionKind::Rope;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  /// Llama 4 style query scaling (ministral3's rope_parameters.llama_4_scaling_beta): q x
  /// (1 + beta ln(1 + floor(position / query_scale_positions))), exactly 1 before
  /// query_scale_positions (query_scale_of).
  double query_scale_beta = 0.0;
  std::int64_t query_scale_positions = 0;
  /// The factor the queries at `position` are multiplied by (1 without query scaling).
  double query_scale_of(std::int64_t position) const;
  std::optional<std::int64_t> sliding_window;  ///< mistral (and others when set)
  /// Per layer: whether it uses sliding_window (olmo3's layer_types); empty: every layer does
  /// when sliding_window is set.
  std::vector<bool> sliding_layers;
  std::int64_t experts = 0;         ///< mixtral: num_local_experts (0: dense)
  std::int64_t experts_per_token = 0;
  std::int64_t expert_intermediate = 0;  ///< qwen3_moe: moe_intermediate_size (0: intermediate)
  bool moe_renormalize = true;      ///< the top-k weights renormalised to sum to one (qwen3_moe: norm_topk_prob)
  /// gpt_oss: a bias on the router logits and on every expert's gate, up and down projections.
  bool expert_biases = false;
  /// gpt_oss's expert GLU: gate clamped above at the limit, up clamped to [-limit, limit],
  /// (up + 1) * gate * sigmoid(alpha * gate) (0: the plain act(gate) * up).
  double expert_glu_limit = 0.0;
  double expert_glu_alpha = 0.0;
  /// gpt_oss: one learned logit per head joins each softmax's denominator (an "attention
  /// sink": exp(s_h - m) is added to the sum, m the max over the scores and s_h).
  bool attention_sinks = false;
  /// Per layer: whether its MLP is the MoE (qwen3_moe: decoder_sparse_step, mlp_only_layers);
  /// empty: every layer's when experts > 0. Dense layers use `intermediate`.
  std::vector<bool> moe_layers;
  bool tie_embeddings = false;
  bool scale_embeddings = false;    ///< gemma: x * sqrt(hidden)
  std::int64_t type_vocab_size = 0; ///< bert token types
  bool embedding_norm = false;      ///< bert: LayerNorm over word + position + type embeddings
  bool has_lm_head = true;          ///< false for bert: the output is the last layer's hidden state
  CheckpointQuantization quantization;  ///< the checkpoint's quantization_config (none: 16-bit weights)

  /// One line each: keys lpusim does not know (assumed not to change the forward pass) and
  /// other assumptions the reader made (a model_type inferred from `architectures`). The CLI
  /// prints them to stderr.
  std::vector<std::string> warnings;

  std::int64_t parameters() const;  ///< weight count, embeddings and LM head included

  /// Layer i's attention window (0: full attention).
  std::int64_t window_of(std::int64_t layer) const;
  /// Layer i's rope base and scaling (gemma3's sliding layers: rope_local_theta, no scaling).
  double rope_theta_of(std::int64_t layer) const;
  RopeScaling rope_scaling_of(std::int64_t layer) const;
  /// The attention scores' scale.
  double attention_scale_value() const;
  /// Throws InputError when positions [0, end) include one whose forward pass lpusim does
  /// not model (beyond max_position_embeddings).
  void require_positions_modelled(std::int64_t end) const;
  /// Whether layer i's MLP is the MoE.
  bool is_moe_layer(std::int64_t layer) const;
  /// The width of each expert's MLP.
  std::int64_t expert_width() const { return expert_intermediate > 0 ? expert_intermediate : intermediate; }
};

struct ConfigReadOptions {
  /// A key lpusim does not know is an error instead of a warning.
  bool strict = false;
};

/// Reads a config.json (or a folder holding one) and validates it for its family, as
/// transformers would read it (docs/models.md):
///   - the generic PretrainedConfig keys and keys known not to change the forward pass are
///     accepted silently; every key that changes the forward pass is modelled;
///   - a key lpusim does not know gives a warning in `warnings` (an InputError with strict);
///   - a known key whose effect lpusim does not model (a rope scaling type, a quantization
///     method, cross-attention, an unsupported model_type) is an InputError naming the file
///     and the key (exit code 2); nothing is approximated silently;
///   - a missing model_type is inferred from architectures[0] (with a warning).
TransformerSpec load_transformer_spec(const std::string& path, const ConfigReadOptions& options = {});

/// The same from a config.json already parsed (`file` names it in messages).
TransformerSpec transformer_spec_from_json(const nlohmann::json& json, const std::string& file,
                                           const ConfigReadOptions& options = {});

/// The same from the text of a config.json; `file` names it in messages.
TransformerSpec parse_transformer_spec(const std::string& json_text, const std::string& file,
                                       const ConfigReadOptions& options = {});

/// The model_type values lpusim reads, in the order the messages list them.
const std::vector<std::string>& supported_model_types();


}  // namespace lpusim
