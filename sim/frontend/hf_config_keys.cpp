#include "frontend/hf_config_keys.hpp"

#include <map>
#include <set>

namespace lpusim {

namespace {

// PretrainedConfig.__init__ of transformers 4.3x-4.57 (the attributes a to_dict() dump writes)
// and the v5 PreTrainedConfig fields, minus the ones whose value can change the forward pass.
const std::set<std::string> kGenericKeys = {
    // identity and bookkeeping
    "model_type", "architectures", "transformers_version", "_name_or_path", "name_or_path", "_commit_hash",
    "auto_map", "finetuning_task", "tokenizer_class", "prefix", "problem_type", "task_specific_params",
    "id2label", "label2id", "num_labels", "_num_labels",
    // storage dtype (4.56+ writes "dtype"; lpusim chooses its own precision)
    "torch_dtype", "dtype", "use_bfloat16", "tf_legacy_loss",
    // output switches and kernels
    "return_dict", "output_hidden_states", "output_attentions", "output_past", "torchscript", "use_cache",
    "chunk_size_feed_forward", "tie_encoder_decoder", "gradient_checkpointing", "_attn_implementation",
    "attn_implementation", "_attn_implementation_autoset", "_attn_implementation_internal",
    "_experts_implementation_internal", "experts_implementation",
    // special tokens
    "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
    "forced_bos_token_id", "forced_eos_token_id",
    // generation defaults (moved to GenerationConfig; v5 drops them on load)
    "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
    "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
    "return_dict_in_generate", "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
    "begin_suppress_tokens"};

// Keys seen in hub configs that no transformers model reads for inference.
const std::set<std::string> kHarmlessHubKeys = {
    // weight initialisation
    "initializer_range", "initializer_factor",
    // dropouts (training only)
    "attention_dropout", "hidden_dropout", "hidden_dropout_prob", "attention_probs_dropout_prob", "attn_pdrop",
    "embd_pdrop", "resid_pdrop", "classifier_dropout", "dropout", "dropout_rate", "qa_dropout",
    "seq_classif_dropout", "attn_dropout_prob", "emb_dropout_prob", "residual_dropout", "embedding_dropout",
    // training losses and router noise of MoE models
    "router_aux_loss_coef", "output_router_logits", "router_jitter_noise", "aux_loss_alpha", "seq_aux",
    "router_z_loss_coef",
    // leftovers of Google's BERT export (bert-base-chinese and its fine-tunes)
    "directionality", "pooler_fc_size", "pooler_num_attention_heads", "pooler_num_fc_layers",
    "pooler_size_per_head", "pooler_type",
    // generation cache type, tooling and vendor bookkeeping
    "cache_implementation", "for_llm_compressor", "internal_version", "is_llama_config", "rope_interleaved",
    "transformers.js_config", "_from_model_config",
    // context-length duplicates some vendors write (max_position_embeddings is what models read)
    "max_sequence_length", "model_max_length", "seq_length"};

// Class name -> model_type, for configs without model_type (transformers' own auto mapping,
// restricted to the decoder and encoder families lpusim knows by name).
const std::map<std::string, std::string> kArchitectures = {
    {"GPT2LMHeadModel", "gpt2"}, {"GPT2Model", "gpt2"}, {"GPT2DoubleHeadsModel", "gpt2"},
    {"GPT2ForSequenceClassification", "gpt2"}, {"GPT2ForTokenClassification", "gpt2"},
    {"GPT2ForQuestionAnswering", "gpt2"},
    {"BertModel", "bert"}, {"BertForMaskedLM", "bert"}, {"BertForPreTraining", "bert"},
    {"BertForSequenceClassification", "bert"}, {"BertForTokenClassification", "bert"},
    {"BertForQuestionAnswering", "bert"}, {"BertForNextSentencePrediction", "bert"},
    {"BertForMultipleChoice", "bert"}, {"BertLMHeadModel", "bert"},
    {"DistilBertModel", "distilbert"}, {"DistilBertForMaskedLM", "distilbert"},
    {"DistilBertForSequenceClassification", "distilbert"},
    {"LlamaForCausalLM", "llama"}, {"LlamaModel", "llama"}, {"LlamaForSequenceClassification", "llama"},
    {"MistralForCausalLM", "mistral"}, {"MistralModel", "mistral"},
    {"MixtralForCausalLM", "mixtral"}, {"MixtralModel", "mixtral"},
    {"Qwen2ForCausalLM", "qwen2"}, {"Qwen2Model", "qwen2"}, {"Qwen2MoeForCausalLM", "qwen2_moe"},
    {"Qwen3ForCausalLM", "qwen3"}, {"Qwen3Model", "qwen3"}, {"Qwen3MoeForCausalLM", "qwen3_moe"},
    {"GemmaForCausalLM", "gemma"}, {"GemmaModel", "gemma"}, {"Gemma2ForCausalLM", "gemma2"},
    {"Gemma2Model", "gemma2"}, {"Gemma3ForCausalLM", "gemma3_text"}, {"Gemma3TextModel", "gemma3_text"},
    {"Gemma3ForConditionalGeneration", "gemma3"},
    {"PhiForCausalLM", "phi"}, {"PhiModel", "phi"}, {"Phi3ForCausalLM", "phi3"}, {"Phi3Model", "phi3"},
    {"GptOssForCausalLM", "gpt_oss"}, {"GptOssModel", "gpt_oss"},
    {"DeepseekV3ForCausalLM", "deepseek_v3"}, {"DeepseekV3Model", "deepseek_v3"},
    {"Llama4ForCausalLM", "llama4_text"}, {"Llama4TextModel", "llama4_text"},
    {"Llama4ForConditionalGeneration", "llama4"},
    {"Mistral3ForConditionalGeneration", "mistral3"},
    {"Olmo2ForCausalLM", "olmo2"}, {"Olmo3ForCausalLM", "olmo3"},
    {"T5ForConditionalGeneration", "t5"}, {"T5Model", "t5"},
    {"OPTForCausalLM", "opt"}, {"FalconForCausalLM", "falcon"}, {"MptForCausalLM", "mpt"},
    {"GPTNeoXForCausalLM", "gpt_neox"}, {"GPTJForCausalLM", "gptj"}, {"BloomForCausalLM", "bloom"},
    {"CohereForCausalLM", "cohere"}, {"StableLmForCausalLM", "stablelm"}, {"Exaone4ForCausalLM", "exaone4"},
    {"RobertaModel", "roberta"}, {"RobertaForMaskedLM", "roberta"}};

}  // namespace

bool is_generic_config_key(const std::string& key) { return kGenericKeys.count(key) != 0; }

bool is_harmless_hub_key(const std::string& key) { return kHarmlessHubKeys.count(key) != 0; }

std::string model_type_of_architecture(const std::string& class_name) {
  const auto it = kArchitectures.find(class_name);
  return it == kArchitectures.end() ? std::string() : it->second;
}

}  // namespace lpusim
