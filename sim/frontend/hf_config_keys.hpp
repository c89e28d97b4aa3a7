#pragma once
// What lpusim knows about the keys of a Hugging Face config.json beyond the ones a family
// reads: the generic PretrainedConfig keys (transformers v4 and v5), keys published hub
// configs carry that no transformers model reads for its forward pass, and the model_type
// of a transformers class name (for configs without model_type). Plain C++.
#include <string>

namespace lpusim {

/// A generic PretrainedConfig key that never changes an inference forward pass (bookkeeping,
/// token ids, labels, storage dtype, generation defaults, output switches). The generic keys
/// that can change it (pruned_heads, add_cross_attention, is_encoder_decoder,
/// cross_attention_hidden_size, per_layer_config, quantization_config, tie_word_embeddings,
/// is_decoder) are not in this set: the spec reader checks their values.
bool is_generic_config_key(const std::string& key);

/// A key found in published hub configs that no transformers model reads for its forward
/// pass (dropouts, initialisation, training-loss settings, vendor and tooling leftovers).
bool is_harmless_hub_key(const std::string& key);

/// The transformers model_type of a model class name as written in `architectures`
/// ("LlamaForCausalLM" -> "llama"), or "" when the class is not a transformers class
/// lpusim knows (remote-code classes have none).
std::string model_type_of_architecture(const std::string& class_name);

}  // namespace lpusim
