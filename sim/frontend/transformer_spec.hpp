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

enum class TransformerFamily { Llama, Mistral, Mixtral, Qwen2, Gemma, Phi3, Gpt2, Bert };
const char* family_name(TransformerFamily f);

enum class NormKind { LayerNorm, RmsNorm };
enum class ActivationKind { Gelu, GeluTanh, Silu, Relu };  ///< gelu (erf), gelu_new/gelu_pytorch_tanh, silu, relu
enum class PositionKind { Rope, Learned, None };

struct RopeScaling {
  enum class Kind { None, Linear, Llama3 } kind = Kind::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;            ///< llama3
  double high_freq_factor = 4.0;           ///< llama3
  std::int64_t original_max_position = 8192;  ///< llama3
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
  ActivationKind activation = ActivationKind::Silu;
  bool gated_mlp = true;            ///< gate/up/down (llama family) vs fc1/fc2 (gpt2, bert)
  bool qkv_bias = false;            ///< qwen2, gpt2, bert
  bool mlp_bias = false;            ///< gpt2, bert
  bool attention_out_bias = false;  ///< gpt2, bert
  bool causal = true;               ///< false for bert (encoder)
  PositionKind positions = PositionKind::Rope;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  std::optional<std::int64_t> sliding_window;  ///< mistral (and others when set)
  std::int64_t experts = 0;         ///< mixtral: num_local_experts (0: dense)
  std::int64_t experts_per_token = 0;
  bool tie_embeddings = false;
  bool scale_embeddings = false;    ///< gemma: x * sqrt(hidden)
  std::int64_t type_vocab_size = 0; ///< bert token types
  bool embedding_norm = false;      ///< bert: LayerNorm over word + position + type embeddings
  bool has_lm_head = true;          ///< false for bert: the output is the last layer's hidden state

  std::int64_t parameters() const;  ///< weight count, embeddings and LM head included
};

/// Reads a config.json (or a folder holding one) and validates it for its family. An
/// unknown model_type or a feature lpusim does not model is an InputError naming the file
/// and the key (exit code 2); nothing is approximated silently.
TransformerSpec load_transformer_spec(const std::string& path);
/// The same from a config.json already parsed (`file` names it in messages).
TransformerSpec transformer_spec_from_json(const nlohmann::json& json, const std::string& file);


}  // namespace lpusim
