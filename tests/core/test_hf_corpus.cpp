// The corpus of real Hugging Face config.json files (tests/data/hf_configs, provenance in
// its README): every file's outcome is checked. A config is either read (its family and,
// where the vendor published it, its exact parameter count) and then compiled for one TSP v1
// with int8 weights (one decode step, timing only: fits, or "about N chips are needed", N
// derived here from the weights' MXM block layout), or refused with the stated reason.
// Nothing is simulated, so the test stays fast.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "compiler/cost/compile_cost.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/transformer_graph.hpp"
#include "frontend/transformer_spec.hpp"

using namespace lpusim;
namespace fs = std::filesystem;

namespace {

const std::string kCorpus = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/hf_configs/";

struct Case {
  const char* folder;
  /// The family lpusim reads it as, or "refused".
  const char* outcome;
  /// For a refusal: what the one-line error must say.
  const char* reason;
  /// The vendor's published parameter count (model card / safetensors total), 0 when none was
  /// checked. Embeddings and LM head included, a tied head once.
  std::int64_t published_parameters;
};

// Refusal reasons, shared by several files.
const char* const kDeepseek = "unsupported model_type 'deepseek_v3' (not modelled yet: multi-head latent attention";

const std::vector<Case> kCases = {
    // llama
    {"meta-llama__Llama-3.1-8B", "llama", nullptr, 8030261248},
    {"meta-llama__Llama-3.1-8B-Instruct", "llama", nullptr, 8030261248},
    {"meta-llama__Llama-3.1-70B-Instruct", "llama", nullptr, 70553706496},
    {"meta-llama__Llama-3.3-70B-Instruct", "llama", nullptr, 70553706496},
    {"meta-llama__Llama-3.2-1B", "llama", nullptr, 1235814400},
    {"meta-llama__Llama-3.2-1B-Instruct", "llama", nullptr, 1235814400},
    {"meta-llama__Llama-3.2-3B", "llama", nullptr, 3212749824},
    {"meta-llama__Llama-3.2-3B-Instruct", "llama", nullptr, 3212749824},
    {"derived__Llama-2-7b-hf-resaved-4.31.0-float32", "llama", nullptr, 6738415616},
    {"derived__Llama-2-70b-chat-hf-resaved-4.31.0-float32", "llama", nullptr, 68976648192},
    {"derived__TinyLlama-1.1B-Chat-v1.0-resaved-4.56", "llama", nullptr, 1100048384},
    {"humain-ai__ALLaM-7B-Instruct-preview", "llama", nullptr, 0},
    // mistral: a to_dict() dump with every generic key of transformers 4.38
    {"derived__Mistral-7B-Instruct-v0.3-to_dict-dump", "mistral", nullptr, 7248023552},
    // qwen2
    {"Qwen__Qwen2.5-3B", "qwen2", nullptr, 3085938688},
    {"Qwen__Qwen2.5-7B", "qwen2", nullptr, 7615616512},
    {"Qwen__Qwen2.5-7B-Instruct", "qwen2", nullptr, 7615616512},
    {"Qwen__Qwen2.5-14B", "qwen2", nullptr, 14770033664},
    {"Qwen__Qwen2.5-32B", "qwen2", nullptr, 32763876352},
    {"Qwen__Qwen2.5-32B-Instruct", "qwen2", nullptr, 32763876352},
    {"derived__Qwen2.5-0.5B-Instruct-resaved-4.49-float32", "qwen2", nullptr, 494032768},
    // phi3 family
    {"microsoft__phi-4", "phi3", nullptr, 14659507200},
    {"derived__Phi-3.5-vision-instruct-text-only-phi3-longrope", "refused",
     "key 'rope_scaling.type': unsupported: rope scaling 'longrope'", 0},
    // gpt2: the hub files (no trailing newline, pre-transformers_version), re-saves by 4.47 and 5.x
    {"openai-community__gpt2", "gpt2", nullptr, 124439808},
    {"openai-community__gpt2-large", "gpt2", nullptr, 774030080},
    {"derived__gpt2-resaved-transformers-4.47.1", "gpt2", nullptr, 124439808},
    {"derived__gpt2-resaved-transformers-5", "gpt2", nullptr, 124439808},
    {"derived__gpt2-seqcls-finetune", "gpt2", nullptr, 0},  // vocabulary 50258: one added token
    {"derived__gpt2-gptq-4bit", "refused", "key 'quantization_config.quant_method': unsupported: quantization method 'gptq'",
     0},
    // bert: the encoder without pooler and MLM head (bert-base-uncased with its pooler: 109,482,240)
    {"derived__bert-base-uncased-BertModel-resaved-4.56.2-dtype", "bert", nullptr, 109482240 - 590592},
    {"derived__bert-base-uncased-seqcls-finetune", "bert", nullptr, 109482240 - 590592},
    // families being added (issue #14)
    {"Qwen__Qwen3-8B", "qwen3", nullptr, 8190735360},
    {"Qwen__Qwen3-8B__ttmetal-edited", "qwen3", nullptr, 8190735360},  // head_dim removed: Qwen3Config's 128
    {"Qwen__Qwen3-14B", "qwen3", nullptr, 14768307200},
    {"Qwen__Qwen3-32B", "qwen3", nullptr, 32762123264},
    {"Qwen__Qwen3-4B__reformatted", "qwen3", nullptr, 4022468096},
    {"Qwen__Qwen3-30B-A3B", "qwen3_moe", nullptr, 30532122624},
    // carries qkv_bias false, use_qk_norm true, shared_experts_intermediate_size 0: keys
    // transformers does not read, accepted because they state what the model does
    {"Qwen__Qwen3-Coder-30B-A3B-Instruct", "qwen3_moe", nullptr, 30532122624},
    // gpt_oss, counted by hand from the config: per layer q, k, v, o with biases (2880 x 4096
    // + 4096, 2 x (2880 x 512 + 512), 4096 x 2880 + 2880), 64 sinks, two norms (2 x 2880), a
    // biased router (2880 x E + E) and E experts of gate, up, down with biases (3 x 2880 x 2880
    // + 3 x 2880); embeddings and the untied head 2 x 201088 x 2880; the final norm 2880.
    // 120b (36 layers, 128 experts): 116,829,156,672; 20b (24 layers, 32 experts):
    // 20,914,757,184; OpenAI's model card gives 116.83B and 20.91B.
    {"openai__gpt-oss-120b", "gpt_oss", nullptr, 116829156672},
    {"openai__gpt-oss-20b__no-quant-copy", "gpt_oss", nullptr, 20914757184},
    {"deepseek-ai__DeepSeek-R1", "refused", kDeepseek, 0},
    {"deepseek-ai__DeepSeek-V3.1", "refused", kDeepseek, 0},
    {"moonshotai__Kimi-K2-Instruct-0905", "refused", "unsupported model_type 'kimi_k2' (the deepseek_v3 forward pass", 0},
    // phi: phi-1's published total was not checked against this copy (its vocab_size 50295
    // may differ from the hub checkpoint's embedding rows); phi-2's is the published one.
    {"microsoft__phi-1", "phi", nullptr, 0},
    {"derived__phi-2-resaved-4.38.2-remote-code-auto_map", "phi", nullptr, 2779683840},
    // olmo3 with YaRN rope scaling (attention_factor given)
    {"allenai__Olmo-3.1-32B-Instruct", "olmo3", nullptr, 0},
    // mistral3: the language model in text_config (ministral3: yarn and a query scaling from
    // 8192 positions on), the vision tower left out with a warning; fp8 at the top level.
    // Parameters: embeddings and untied head 2 x 131072 x 5120, plus 40 layers of q (5120 x
    // 4096), k and v (5120 x 1024 each), o (4096 x 5120), gate/up/down (3 x 5120 x 32768) and
    // two norms (2 x 5120), plus the final norm (5120): 23,572,403,200.
    {"mistralai__Devstral-Small-2-24B-Instruct-2512", "mistral", nullptr, 23572403200},
    // families lpusim does not model, each refused for what stands in the way
    {"LGAI-EXAONE__EXAONE-4.0-32B", "refused", "unsupported model_type 'exaone4' (not modelled:", 0},
    {"Qwen__Qwen3.5-9B", "refused", "unsupported model_type 'qwen3_5' (not modelled: linear-attention layers", 0},
    {"derived__t5-small-resaved-4.46.3", "refused", "unsupported model_type 't5' (not modelled: an encoder-decoder", 0},
    {"derived__distilbert-base-uncased-38-label-finetune", "refused", "unsupported model_type 'distilbert'", 0},
    {"microsoft__phi-2__mixformer-revision", "refused",
     "unsupported model_type 'mixformer-sequential' (Microsoft's 2023 remote-code phi", 0},
};

/// What compiling one decode step for one chip says: 1 when it fits, else the chips the
/// compile's capacity check asks for ("about N chips are needed").
std::int64_t chips_needed(const TransformerSpec& spec, const ChipConfig& chip) {
  CompileOptions options;
  options.lowering.weights = WeightType::Int8;
  options.lowering.functional_data = false;
  try {
    (void)compile_graph(build_transformer_graph(spec, 1, 1), chip, options);
    return 1;
  } catch (const InputError& e) {
    const std::string m = e.what();
    const auto at = m.find("about ");
    INFO(m);
    REQUIRE(at != std::string::npos);
    return std::stoll(m.substr(at + 6));
  }
}

}  // namespace

TEST_CASE("every real config in the corpus has its expected outcome", "[hf_corpus]") {
  // Every folder of the corpus is a case, and every case a folder.
  std::set<std::string> folders;
  for (const auto& entry : fs::directory_iterator(kCorpus))
    if (entry.is_directory()) folders.insert(entry.path().filename().string());
  std::set<std::string> listed;
  for (const auto& c : kCases) listed.insert(c.folder);
  CHECK(folders == listed);
  CHECK(folders.size() >= 40);

  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  for (const auto& c : kCases) {
    INFO(c.folder);
    const std::string path = kCorpus + c.folder + "/config.json";
    if (std::string(c.outcome) == "refused") {
      try {
        (void)load_transformer_spec(path);
        FAIL("read without error");
      } catch (const InputError& e) {
        const std::string m = e.what();
        CHECK_THAT(m, Catch::StartsWith(path + ": "));
        CHECK_THAT(m, Catch::Contains(c.reason));
        CHECK(m.find('\n') == std::string::npos);
      }
      continue;
    }
    const TransformerSpec s = load_transformer_spec(path);
    CHECK(family_name(s.family) == std::string(c.outcome));
    // Real configs hold no key lpusim does not know; the one warning left is a wrapper's
    // vision tower, not modelled (mistral3).
    for (const auto& w : s.warnings) CHECK_THAT(w, Catch::Contains("its vision tower and projector are not modelled"));
    CHECK(s.warnings.size() == (s.model_type == "mistral3" ? 1u : 0u));
    if (c.published_parameters > 0) CHECK(s.parameters() == c.published_parameters);
    // The compile refuses, before any pass, a model whose matmul weights do not fit the
    // weight slices (4 MXM planes x 16 slices x 8192 words of 320 bytes = 167.8 MB) as the
    // lowering stores them: per 320-lane input and output tile, int8 rows 16 to an lw word
    // (weight_block_words), a MoE router in fp16 (8 rows a word). The embedding table is
    // read on the host and takes none. It asks for ceil(words / capacity) chips, at least 2.
    const Graph g = build_transformer_graph(s, 1, 1);
    std::set<std::pair<int, bool>> stored;
    double words = 0, int8_bytes = 0;
    auto store = [&](int w, bool transpose, bool one_byte) {
      if (!stored.insert({w, transpose}).second) return;
      const auto& shape = g.tensors[static_cast<std::size_t>(w)].shape;
      const std::int64_t k = transpose ? shape[1] : shape[0], n = transpose ? shape[0] : shape[1];
      words += static_cast<double>(weight_block_words(k, n, chip.lanes(), one_byte));
      int8_bytes += static_cast<double>(k) * static_cast<double>(n) * (one_byte ? 1.0 : 2.0);
    };
    for (const Node& n : g.nodes) {
      if (n.kind == OpKind::MatMul && g.tensors[static_cast<std::size_t>(n.inputs[1])].role == TensorRole::Weight)
        store(n.inputs[1], n.int_attr("transpose_w", 0) != 0, true);
      if (n.kind == OpKind::MoeMlp) {  // the router in fp16, each expert's three matrices (not its bias vectors)
        store(n.inputs[1], false, false);
        const MoeLayout layout = moe_layout(n);
        for (std::int64_t e = 0; e < layout.experts_listed(n.inputs.size()); ++e)
          for (std::size_t part = 0; part < 3; ++part) store(n.inputs[layout.input(e, part)], false, true);
      }
    }
    const double capacity = 4.0 * static_cast<double>(chip.mem_slice_words);
    const std::int64_t expected = words <= capacity ? 1 : std::max<std::int64_t>(2, static_cast<std::int64_t>(std::ceil(words / capacity)));
    // Padding to whole tiles only adds: never fewer chips than the bytes alone need.
    CHECK(static_cast<double>(expected) >= std::ceil(int8_bytes / (capacity * 16.0 * static_cast<double>(chip.lanes()))));
    CHECK(chips_needed(s, chip) == expected);
  }
}
