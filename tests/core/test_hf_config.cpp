// Reading Hugging Face config.json files as transformers does: generic keys accepted,
// unknown keys warned about (errors with strict), known-but-unmodelled keys refused by name,
// model_type inferred from architectures, and model ids resolved in the local hub cache.
#include <catch2/catch.hpp>
#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "arch/core/error.hpp"
#include "frontend/hub_cache.hpp"
#include "frontend/transformer_graph.hpp"
#include "frontend/transformer_spec.hpp"

using namespace lpusim;
namespace fs = std::filesystem;

namespace {

/// A small valid llama config; tests add or change keys.
nlohmann::json llama() {
  return nlohmann::json{{"model_type", "llama"},        {"vocab_size", 512},
                        {"hidden_size", 256},           {"intermediate_size", 512},
                        {"num_hidden_layers", 2},       {"num_attention_heads", 4},
                        {"max_position_embeddings", 128}};
}

TransformerSpec parse(const nlohmann::json& j, bool strict = false) {
  ConfigReadOptions options;
  options.strict = strict;
  return parse_transformer_spec(j.dump(), "cfg.json", options);
}

std::string error_of(const nlohmann::json& j, bool strict = false) {
  try {
    (void)parse(j, strict);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

/// Sets an environment variable for one scope and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("generic PretrainedConfig keys and known harmless keys are accepted silently", "[hf_config]") {
  nlohmann::json j = llama();
  // What save_pretrained and to_dict() write, the 4.56+ dtype key, and harmless vendor keys.
  j["dtype"] = "bfloat16";
  j["torch_dtype"] = "float16";
  j["_attn_implementation_autoset"] = false;
  j["pruned_heads"] = nlohmann::json::object();
  j["add_cross_attention"] = false;
  j["is_encoder_decoder"] = false;
  j["is_decoder"] = false;
  j["cross_attention_hidden_size"] = nullptr;
  j["_num_labels"] = 2;
  j["id2label"] = {{"0", "LABEL_0"}};
  j["task_specific_params"] = {{"text-generation", {{"do_sample", true}}}};
  j["is_llama_config"] = true;
  j["internal_version"] = "1.0";
  j["directionality"] = "bidi";
  j["max_sequence_length"] = 4096;
  j["attention_dropout"] = 0.0;
  j["pretraining_tp"] = 1;
  j["quantization_config"] = nullptr;
  const TransformerSpec s = parse(j);
  CHECK(s.warnings.empty());
  CHECK(s.family == TransformerFamily::Llama);
  CHECK(parse(j, /*strict=*/true).warnings.empty());
}

TEST_CASE("an unknown key is a warning naming it and the assumption, and --strict refuses it", "[hf_config]") {
  nlohmann::json j = llama();
  j["alibi"] = true;
  const TransformerSpec s = parse(j);
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0] ==
        "cfg.json: key 'alibi': unknown key for model_type 'llama', assumed not to change the forward pass "
        "(--strict refuses it)");
  CHECK(s.parameters() == parse(llama()).parameters());
  CHECK_THAT(error_of(j, true), Catch::StartsWith("cfg.json: key 'alibi': unknown key for model_type 'llama' (--strict"));
  // Unknown keys inside rope_scaling: transformers only warns, so does lpusim.
  j = llama();
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"foo", 1}};
  const TransformerSpec r = parse(j);
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("key 'rope_scaling.foo': unknown key"));
  CHECK(r.rope_scaling.kind == RopeScaling::Kind::Linear);
  CHECK_THAT(error_of(j, true), Catch::Contains("key 'rope_scaling.foo': unknown key"));
}

TEST_CASE("transformers 5 rope_parameters carry rope_theta and the scaling", "[hf_config]") {
  // transformers 5 writes rope_parameters instead of rope_theta and rope_scaling: read as
  // unknown, a Llama 3 file would silently run at the default theta of 10000.
  nlohmann::json j = llama();
  j["rope_parameters"] = {{"rope_theta", 500000.0}, {"rope_type", "default"}};
  const TransformerSpec plain = parse(j);
  CHECK(plain.warnings.empty());
  CHECK(plain.rope_theta == 500000.0);
  CHECK(plain.rope_scaling.kind == RopeScaling::Kind::None);
  j["rope_parameters"] = {{"rope_theta", 1e6},         {"rope_type", "yarn"}, {"type", "yarn"}, {"factor", 4.0},
                          {"beta_fast", 32.0},         {"beta_slow", 1.0},    {"mscale", 1.0},  {"mscale_all_dim", 1.0},
                          {"original_max_position_embeddings", 64}, {"llama_4_scaling_beta", 0.0}};
  const TransformerSpec yarn = parse(j);
  CHECK(yarn.warnings.empty());
  CHECK(yarn.rope_theta == 1e6);
  CHECK(yarn.rope_scaling.kind == RopeScaling::Kind::Yarn);
  CHECK(yarn.rope_scaling.factor == 4.0);
  CHECK(yarn.rope_scaling.original_max_position == 64);
  // The same theta given twice is fine; two different ones, or both forms, are not.
  j["rope_theta"] = 1e6;
  CHECK(parse(j).rope_theta == 1e6);
  j["rope_theta"] = 10000.0;
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'rope_theta': 10000 disagrees with rope_parameters.rope_theta"));
  j.erase("rope_theta");
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'rope_parameters': given beside rope_scaling"));
  j.erase("rope_scaling");
  // The query scaling needs the position it starts from.
  j["rope_parameters"]["llama_4_scaling_beta"] = 0.1;
  CHECK(parse(j).query_scale_positions == 64);
  j["rope_parameters"].erase("original_max_position_embeddings");
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'rope_parameters.original_max_position_embeddings': missing"));
  // What the parameters may say that lpusim does not model is refused by name.
  j["rope_parameters"] = {{"chunked_attention", {{"rope_theta", 1e6}, {"rope_type", "default"}}}};
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'rope_parameters.chunked_attention': unsupported"));
  // One set per layer type (transformers 5's Gemma 3): the full layers' set is the rope, a
  // plain sliding set of another base is the sliding layers' own.
  nlohmann::json g = {{"model_type", "gemma3_text"}, {"vocab_size", 512}, {"hidden_size", 256},
                      {"intermediate_size", 512}, {"num_hidden_layers", 6}, {"num_attention_heads", 4},
                      {"num_key_value_heads", 2}, {"head_dim", 64}, {"max_position_embeddings", 128},
                      {"sliding_window", 16}};
  g["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 5000.0}}}};
  const TransformerSpec gemma = parse(g);
  CHECK(gemma.warnings.empty());
  CHECK(gemma.rope_theta == 1e6);
  CHECK(gemma.rope_scaling.kind == RopeScaling::Kind::Linear);
  CHECK(gemma.rope_theta_of(0) == 5000.0);  // a sliding layer
  CHECK(gemma.rope_theta_of(5) == 1e6);     // the sixth layer is global
  CHECK(gemma.rope_scaling_of(0).kind == RopeScaling::Kind::None);
  g["rope_parameters"]["sliding_attention"] = {{"rope_type", "yarn"}, {"factor", 2.0}, {"rope_theta", 5000.0}};
  CHECK_THAT(error_of(g), Catch::StartsWith("cfg.json: key 'rope_parameters.sliding_attention.rope_type': unsupported"));
  g["rope_parameters"].erase("full_attention");
  CHECK_THAT(error_of(g), Catch::StartsWith("cfg.json: key 'rope_parameters.full_attention': missing"));
  // The same set for both layer types is one rope.
  j["rope_parameters"] = {{"full_attention", {{"rope_theta", 2e5}, {"rope_type", "default"}}},
                          {"sliding_attention", {{"rope_theta", 2e5}, {"rope_type", "default"}}}};
  const TransformerSpec same = parse(j);
  CHECK(same.rope_theta == 2e5);
  CHECK_FALSE(same.rope_local_theta);
}

TEST_CASE("a mistral3 wrapper is read as its text_config language model", "[hf_config]") {
  nlohmann::json text = llama();
  text["model_type"] = "ministral3";
  text["head_dim"] = 32;
  text["sliding_window"] = nullptr;
  text["rope_parameters"] = {{"rope_theta", 1e8},         {"rope_type", "yarn"}, {"factor", 4.0},
                             {"mscale", 1.0},             {"mscale_all_dim", 1.0},
                             {"original_max_position_embeddings", 64}, {"llama_4_scaling_beta", 0.1}};
  nlohmann::json j = {{"model_type", "mistral3"},
                      {"architectures", {"Mistral3ForConditionalGeneration"}},
                      {"text_config", text},
                      {"vision_config", {{"model_type", "pixtral"}, {"hidden_size", 1024}}},
                      {"image_token_index", 10},
                      {"projector_hidden_act", "gelu"},
                      {"tie_word_embeddings", true},
                      {"quantization_config", {{"quant_method", "fp8"}, {"activation_scheme", "static"},
                                               {"weight_block_size", nullptr}}}};
  const TransformerSpec s = parse(j);
  CHECK(s.family == TransformerFamily::Mistral);
  CHECK(s.model_type == "mistral3");
  CHECK(s.head_dim == 32);
  CHECK(s.rope_theta == 1e8);
  CHECK(s.rope_scaling.kind == RopeScaling::Kind::Yarn);
  CHECK(s.tie_embeddings);
  CHECK(s.quantization.format == CheckpointFormat::Fp8E4M3);
  CHECK(s.query_scale_beta == 0.1);
  CHECK(s.query_scale_positions == 64);
  REQUIRE(s.warnings.size() == 1);
  CHECK_THAT(s.warnings[0], Catch::Contains("its vision tower and projector are not modelled"));
  // The query scaling is 1 before position 64, then 1 + 0.1 ln(1 + floor(position / 64)).
  CHECK(s.query_scale_of(63) == 1.0);
  CHECK(s.query_scale_of(64) == Approx(1.0 + 0.1 * std::log(2.0)));
  CHECK(s.query_scale_of(200) == Approx(1.0 + 0.1 * std::log(4.0)));
  CHECK_NOTHROW(s.require_positions_modelled(s.max_positions));
  // The graph carries it on the queries' rope only where some factor is not 1.
  auto q_rope_has_scale = [&](std::int64_t tokens, std::int64_t past) {
    const Graph g = build_transformer_graph(s, tokens, past, 1);
    for (const auto& n : g.nodes)
      if (n.name == "l0.attn.q_rope") return n.attrs.count("query_scale_beta") > 0;
    return false;
  };
  CHECK_FALSE(q_rope_has_scale(2, 62));
  CHECK(q_rope_has_scale(2, 63));
  // Errors in the language model name their place in the wrapper.
  j["text_config"]["num_attention_heads"] = "four";
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'text_config.num_attention_heads'"));
  j["text_config"] = text;
  j["text_config"]["model_type"] = "pixtral";
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'text_config.model_type': unsupported: a mistral3 language "
                                            "model of model_type 'pixtral'"));
  j.erase("text_config");
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'text_config': missing"));
}

TEST_CASE("a gemma3 wrapper is its gemma3_text language model with Gemma3TextConfig's defaults", "[hf_config]") {
  // gemma-3-4b's layout: its text_config names five keys; transformers fills the rest.
  nlohmann::json j = nlohmann::json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"],
      "boi_token_index": 255999, "eoi_token_index": 256000, "image_token_index": 262144, "mm_tokens_per_image": 256,
      "model_type": "gemma3", "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
      "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                      "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                      "sliding_window": 1024},
      "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model", "num_hidden_layers": 27}})");
  const TransformerSpec s = parse(j);
  CHECK(s.family == TransformerFamily::Gemma3Text);
  CHECK(s.vocab_size == 262208);
  CHECK(s.heads == 8);
  CHECK(s.kv_heads == 4);
  CHECK(s.head_dim == 256);
  CHECK(s.max_positions == 131072);
  CHECK(s.rope_theta == 1e6);
  CHECK(s.rope_scaling.kind == RopeScaling::Kind::Linear);
  CHECK(s.window_of(0) == 1024);
  CHECK(s.window_of(5) == 0);  // every sixth layer is global
  // KerasHub's gemma3_4b_text backbone, 3,880,099,328 parameters with a 262,144-token
  // vocabulary, plus the 64 x 2560 rows of the 262,208 here.
  CHECK(s.parameters() == 3880099328 + 64 * 2560);
  REQUIRE(s.warnings.size() == 1);
  CHECK_THAT(s.warnings[0], Catch::Contains("model_type 'gemma3': its vision tower and projector are not modelled"));
  // transformers' wrapper applies no final soft-capping; a text_config that asks is told so.
  j["text_config"]["final_logit_softcapping"] = 30.0;
  const TransformerSpec capped = parse(j);
  CHECK(capped.final_softcap == 0.0);
  CHECK(capped.warnings.size() == 2);
  CHECK_THAT(capped.warnings[0], Catch::Contains("'text_config.final_logit_softcapping': not applied"));
  // Errors name their place in the wrapper; no text_config is all defaults.
  j["text_config"]["num_hidden_layers"] = -1;
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'text_config.num_hidden_layers'"));
  j.erase("text_config");
  CHECK(parse(j).layers == 26);
}

TEST_CASE("gpt_oss reads biases, sinks, alternating windows and GptOssConfig's defaults", "[hf_config]") {
  // Only model_type: every size, the window, the layer pattern and the YaRN rope are
  // GptOssConfig's (transformers 5): gpt-oss-120b's attention with 36 layers of 128 experts.
  nlohmann::json j = {{"model_type", "gpt_oss"}};
  const TransformerSpec s = parse(j);
  CHECK(s.family == TransformerFamily::GptOss);
  CHECK(s.layers == 36);
  CHECK(s.experts == 128);
  CHECK(s.experts_per_token == 4);
  CHECK(s.head_dim == 64);
  CHECK(s.qkv_bias);
  CHECK(s.attention_out_bias);
  CHECK(s.attention_sinks);
  CHECK(s.expert_biases);
  CHECK(s.expert_glu_limit == 7.0);
  CHECK(s.expert_glu_alpha == 1.702);
  CHECK(s.moe_renormalize);  // softmax over the top k logits = Mixtral's renormalised top k
  CHECK(s.rope_theta == 150000.0);
  CHECK(s.rope_scaling.kind == RopeScaling::Kind::Yarn);
  CHECK(s.rope_scaling.factor == 32.0);
  CHECK_FALSE(s.rope_scaling.truncate);
  CHECK(s.rope_scaling.original_max_position == 4096);
  CHECK(s.window_of(0) == 128);  // layer i slides unless (i + 1) is even
  CHECK(s.window_of(1) == 0);
  CHECK(s.warnings.empty());
  // OpenAI's extra keys (transformers never reads them) are accepted silently.
  j["experts_per_token"] = 4;
  j["initial_context_length"] = 4096;
  j["swiglu_limit"] = 7.0;
  CHECK(parse(j).warnings.empty());
  // attention_bias false drops the four biases from the count: 36 x (4096 + 2 x 512 + 2880).
  j["attention_bias"] = false;
  CHECK(s.parameters() - parse(j).parameters() == 36 * (4096 + 2 * 512 + 2880));
  // transformers clamps at 7.0 whatever swiglu_limit says: another value is refused by name.
  j["swiglu_limit"] = 8.0;
  CHECK_THAT(error_of(j), Catch::StartsWith("cfg.json: key 'swiglu_limit': unsupported: 8"));
}

TEST_CASE("known keys whose effect is not modelled are refused by name", "[hf_config]") {
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"add_cross_attention", true, "key 'add_cross_attention': unsupported: cross-attention"},
      {"is_encoder_decoder", true, "key 'is_encoder_decoder': unsupported: encoder-decoder models"},
      {"pruned_heads", {{"0", {1, 2}}}, "key 'pruned_heads': unsupported: pruned attention heads"},
      {"rope_scaling", {{"rope_type", "yarn"}, {"factor", 0.5}}, "key 'rope_scaling.factor': expected a number in [1"},
      {"rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}, "key 'rope_scaling.type': unsupported: rope scaling 'dynamic'"},
      {"quantization_config", {{"quant_method", "gptq"}, {"bits", 4}},
       "key 'quantization_config.quant_method': unsupported: quantization method 'gptq' (integer weights with per-group"},
      {"quantization_config", {{"quant_method", "awq"}}, "quantization method 'awq'"},
      {"quantization_config", {{"quant_method", "bitsandbytes"}, {"load_in_4bit", true}}, "quantization method 'bitsandbytes'"},
      {"quantization_config", {{"bits", 4}}, "key 'quantization_config.quant_method': missing (required)"},
      {"quantization_config", {{"quant_method", "fp8"}, {"fmt", "e3m4"}}, "key 'quantization_config.fmt': expected e4m3 or e5m2"},
      {"quantization_config", {{"quant_method", "fp8"}, {"dequantize", true}},
       "key 'quantization_config.dequantize': unsupported: a checkpoint dequantized on load"},
      {"quantization_config", {{"quant_method", "mxfp4"}, {"modules_to_not_convert", "lm_head"}},
       "key 'quantization_config.modules_to_not_convert': expected an array of module names or null"},
      {"attention_bias", true, "key 'attention_bias': unsupported: biases on the q/k/v/o projections"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = llama();
    j[c.key] = c.value;
    const std::string error = error_of(j);
    INFO(c.key << ": " << error);
    CHECK_THAT(error, Catch::StartsWith("cfg.json: "));
    CHECK_THAT(error, Catch::Contains(c.message));
    CHECK(error.find('\n') == std::string::npos);
  }
}

TEST_CASE("a missing model_type is inferred from architectures", "[hf_config]") {
  nlohmann::json j = {{"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", 500}, {"n_positions", 64},
                      {"n_embd", 128}, {"n_layer", 2}, {"n_head", 4}};
  const TransformerSpec s = parse(j);
  CHECK(s.family == TransformerFamily::Gpt2);
  CHECK(s.model_type == "gpt2");
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0] == "cfg.json: key 'model_type': missing; inferred 'gpt2' from architectures[0] 'GPT2LMHeadModel'");
  j["architectures"] = {"QWenLMHeadModel"};
  CHECK_THAT(error_of(j), Catch::Contains("key 'model_type': missing, and architectures[0] 'QWenLMHeadModel' is not "
                                          "a transformers class lpusim knows"));
  j.erase("architectures");
  CHECK_THAT(error_of(j), Catch::Contains("key 'model_type': missing (required), and there is no 'architectures'"));
  j["architectures"] = "GPT2LMHeadModel";
  CHECK_THAT(error_of(j), Catch::Contains("key 'architectures': expected a non-empty array of class names"));
  // A class of a family lpusim does not model is refused as that family.
  j["architectures"] = {"T5ForConditionalGeneration"};
  CHECK_THAT(error_of(j), Catch::Contains("unsupported model_type 't5' (not modelled: an encoder-decoder"));
}

TEST_CASE("gpt2 reads the generic names of its sizes (GPT2Config.attribute_map)", "[hf_config]") {
  nlohmann::json j = {{"model_type", "gpt2"}, {"vocab_size", 500}, {"n_positions", 64}, {"hidden_size", 128},
                      {"n_layer", 2},         {"num_attention_heads", 4}};
  const TransformerSpec s = parse(j);
  CHECK(s.hidden == 128);
  CHECK(s.heads == 4);
  CHECK(s.warnings.empty());
  j["n_embd"] = 256;
  CHECK_THAT(error_of(j), Catch::Contains("key 'hidden_size': 128 disagrees with n_embd 256"));
}

TEST_CASE("config values of the wrong type name the key and the value", "[hf_config]") {
  nlohmann::json j = llama();
  j["vocab_size"] = nullptr;
  CHECK(error_of(j) == "cfg.json: key 'vocab_size': expected an integer in [1, 16777216], got null");
  j = llama();
  j["tie_word_embeddings"] = 5;
  CHECK(error_of(j) == "cfg.json: key 'tie_word_embeddings': expected true or false, got number 5");
  j = llama();
  j["rope_theta"] = 0;
  CHECK_THAT(error_of(j), Catch::Contains("key 'rope_theta': expected a number in [1,"));
  CHECK_THAT(error_of(nlohmann::json::array()), Catch::Contains("top level: expected an object"));
}

TEST_CASE("config text that is not JSON is reported with line and column", "[hf_config]") {
  try {
    (void)parse_transformer_spec("{\n  \"model_type\": \"llama\",\n  oops\n}", "bad.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("bad.json:3:"));
    CHECK_THAT(e.what(), Catch::Contains("invalid JSON"));
  }
}

TEST_CASE("hub model ids resolve offline in the local Hugging Face cache", "[hf_config]") {
  CHECK(looks_like_hub_model_id("Qwen/Qwen3-32B"));
  CHECK(looks_like_hub_model_id("openai-community/gpt2@main"));
  CHECK_FALSE(looks_like_hub_model_id("gpt2"));
  CHECK_FALSE(looks_like_hub_model_id("./models/config.json"));
  CHECK_FALSE(looks_like_hub_model_id("a/b/c"));
  CHECK_FALSE(looks_like_hub_model_id("../x"));
  CHECK_FALSE(looks_like_hub_model_id("org/.."));

  const fs::path root = fs::temp_directory_path() / ("lpusim_hub_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  const fs::path repo = root / "hub" / "models--Org--Tiny-Model";
  write(repo / "refs" / "main", commit);
  write(repo / "snapshots" / commit / "config.json", llama().dump());
  {
    ScopedEnv cache("HF_HUB_CACHE", (root / "hub").string());
    CHECK(hub_cache_dir() == (root / "hub").string());
    const std::string path = resolve_hub_model_config("Org/Tiny-Model");
    CHECK(path == (repo / "snapshots" / commit / "config.json").string());
    CHECK(load_transformer_spec(path).family == TransformerFamily::Llama);
    CHECK(resolve_hub_model_config("Org/Tiny-Model@" + commit) == path);
    // Absent: the message says where lpusim looked and how to get the file.
    try {
      (void)resolve_hub_model_config("Org/Other");
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string m = e.what();
      CHECK_THAT(m, Catch::StartsWith("Org/Other: not a file or folder, and not in the Hugging Face cache ("));
      CHECK_THAT(m, Catch::Contains("models--Org--Other does not exist"));
      CHECK_THAT(m, Catch::Contains("huggingface-cli download Org/Other config.json"));
    }
    // A revision recorded as having no config.json.
    write(repo / ".no_exist" / commit / "config.json", "");
    CHECK_THROWS_WITH(resolve_hub_model_config("Org/Tiny-Model"), Catch::Contains("has no config.json"));
    fs::remove_all(repo / ".no_exist");
    // A ref that is not a commit cannot steer the path out of the cache.
    write(repo / "refs" / "evil", "../../../etc");
    CHECK_THROWS_WITH(resolve_hub_model_config("Org/Tiny-Model@evil"), Catch::Contains("not a commit hash"));
  }
  {
    // Without HF_HUB_CACHE, HF_HOME/hub is the cache.
    ScopedEnv unset_cache("HF_HUB_CACHE", "");
    ScopedEnv legacy("HUGGINGFACE_HUB_CACHE", "");
    ScopedEnv home("HF_HOME", root.string());
    CHECK(hub_cache_dir() == (root / "hub").string());
    CHECK(resolve_hub_model_config("Org/Tiny-Model") == (repo / "snapshots" / commit / "config.json").string());
    // A cache without refs/main but with exactly one snapshot uses it.
    fs::remove(repo / "refs" / "main");
    CHECK(resolve_hub_model_config("Org/Tiny-Model") == (repo / "snapshots" / commit / "config.json").string());
  }
  fs::remove_all(root);
}

TEST_CASE("fp8 and mxfp4 quantization_config map to checkpoint formats per module", "[hf_config]") {
  nlohmann::json j = llama();
  j["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                              {"weight_block_size", {128, 128}}, {"scale_fmt", "ue8m0"}};
  const TransformerSpec fp8 = parse(j);
  CHECK(fp8.warnings.empty());
  CHECK(fp8.quantization.format == CheckpointFormat::Fp8E4M3);
  CHECK(fp8.quantization.format_of("model.layers.0.self_attn.q_proj") == CheckpointFormat::Fp8E4M3);
  CHECK(fp8.quantization.format_of("lm_head") == CheckpointFormat::None);  // transformers keeps it 16-bit
  j["quantization_config"]["fmt"] = "e5m2";
  CHECK(parse(j).quantization.format == CheckpointFormat::Fp8E5M2);
  // gpt-oss's list: attention, router, embeddings and head stay 16-bit; the experts are MXFP4.
  j["quantization_config"] = {{"modules_to_not_convert", {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                          "model.embed_tokens", "lm_head"}},
                              {"quant_method", "mxfp4"}};
  const TransformerSpec mx = parse(j);
  CHECK(mx.quantization.format == CheckpointFormat::Mxfp4);
  CHECK(mx.quantization.format_of("model.layers.11.self_attn.o_proj") == CheckpointFormat::None);
  CHECK(mx.quantization.format_of("model.layers.11.mlp.router") == CheckpointFormat::None);
  CHECK(mx.quantization.format_of("model.layers.11.mlp.experts.3.down_proj") == CheckpointFormat::Mxfp4);
  // A pattern with many stars stays cheap (greedy matching, not backtracking).
  j["quantization_config"]["modules_to_not_convert"] = {std::string(60, '*') + "x" + std::string(60, '*') + "y"};
  CHECK(parse(j).quantization.format_of(std::string(200, 'a')) == CheckpointFormat::Mxfp4);
  // The graph marks each linear weight with its checkpoint format.
  j["quantization_config"] = {{"quant_method", "fp8"}, {"modules_to_not_convert", {"model.layers.1.mlp"}}};
  const TransformerSpec partial = parse(j);
  const Graph g = build_transformer_graph(partial, 1, 0);
  CHECK(g.tensors[static_cast<std::size_t>(g.find("l0.attn.q.weight"))].checkpoint_format == "fp8e4m3");
  CHECK(g.tensors[static_cast<std::size_t>(g.find("l0.mlp.down.weight"))].checkpoint_format == "fp8e4m3");
  CHECK(g.tensors[static_cast<std::size_t>(g.find("l1.mlp.down.weight"))].checkpoint_format.empty());
  CHECK(g.tensors[static_cast<std::size_t>(g.find("l1.attn.k.weight"))].checkpoint_format == "fp8e4m3");
  CHECK(g.tensors[static_cast<std::size_t>(g.find("lm_head.weight"))].checkpoint_format.empty());
}
