#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "arch/core/error.hpp"
#include "frontend/transformer_spec.hpp"
#include "numerics/matmul_numerics.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "compiler/ir/weight_init.hpp"

using namespace lpusim;

namespace {
const std::string kModels = std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/";
const std::string kBadModels = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/bad_models/";

TransformerSpec bundled(const std::string& name) { return load_transformer_spec(kModels + name + "/config.json"); }

std::string error_of(const std::string& path) {
  try {
    (void)load_transformer_spec(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<std::string> kTinyFamilies = {"llama", "mistral", "mixtral", "qwen2",     "gemma",
                                                "phi3",  "gpt2",    "bert",    "qwen3",     "qwen3_moe",
                                                "olmo2"};

/// The bundled tiny model of a family: workloads/transformers/tiny-<family>, '_' as '-'.
std::string tiny(const std::string& family) {
  std::string dir = "tiny-" + family;
  for (auto& c : dir)
    if (c == '_') c = '-';
  return dir;
}

/// A deterministic token sequence inside the vocabulary.
std::vector<int> tokens_for(const TransformerSpec& s, int count, int salt = 0) {
  std::vector<int> ids;
  for (int i = 0; i < count; ++i) ids.push_back(static_cast<int>((i * 37 + salt * 11 + 5) % s.vocab_size));
  return ids;
}

/// max |a - b| / max |b|: error relative to the size of the reference values.
double relative_error(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return static_cast<double>((a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff());
}
}  // namespace

// ---- config loading ---------------------------------------------------------------------

TEST_CASE("bundled configs load with the published parameter counts", "[model]") {
  struct Expected {
    const char* name;
    TransformerFamily family;
    std::int64_t parameters;
  };
  // Counts of the Hugging Face checkpoints (embeddings and LM head included; a tied head
  // counted once). bert-base-uncased: the encoder without the pooler and MLM head
  // (109,482,240 with the pooler's 590,592).
  const std::vector<Expected> expected = {
      {"gpt2", TransformerFamily::Gpt2, 124439808},
      {"bert-base-uncased", TransformerFamily::Bert, 108891648},
      {"llama-2-7b", TransformerFamily::Llama, 6738415616},
      {"llama-2-70b", TransformerFamily::Llama, 68976648192},
      {"llama-3.1-8b", TransformerFamily::Llama, 8030261248},
      {"mistral-7b-v0.1", TransformerFamily::Mistral, 7241732096},
      {"mixtral-8x7b", TransformerFamily::Mixtral, 46702792704},
      {"qwen2-7b", TransformerFamily::Qwen2, 7615616512},
      {"gemma-2b", TransformerFamily::Gemma, 2506172416},
      {"phi-3-mini-4k", TransformerFamily::Phi3, 3821079552},
  };
  for (const auto& e : expected) {
    INFO(e.name);
    const TransformerSpec s = bundled(e.name);
    CHECK(s.family == e.family);
    CHECK(s.parameters() == e.parameters);
  }
}

TEST_CASE("bundled configs: per-family details", "[model]") {
  const TransformerSpec gpt2 = bundled("gpt2");
  CHECK(gpt2.intermediate == 3072);  // n_inner absent -> 4 x n_embd
  CHECK(gpt2.head_dim == 64);
  CHECK(gpt2.activation == ActivationKind::GeluTanh);
  CHECK(gpt2.norm == NormKind::LayerNorm);
  CHECK(gpt2.positions == PositionKind::Learned);
  CHECK(gpt2.tie_embeddings);
  CHECK(gpt2.qkv_bias);
  CHECK(gpt2.max_positions == 1024);

  const TransformerSpec bert = bundled("bert-base-uncased");
  CHECK_FALSE(bert.causal);
  CHECK(bert.post_norm);
  CHECK(bert.activation == ActivationKind::Gelu);
  CHECK(bert.type_vocab_size == 2);
  CHECK(bert.norm_eps == 1e-12);
  CHECK_FALSE(bert.has_lm_head);

  const TransformerSpec l70 = bundled("llama-2-70b");
  CHECK(l70.kv_heads == 8);
  CHECK(l70.head_dim == 128);
  CHECK(l70.rope_scaling.kind == RopeScaling::Kind::None);

  const TransformerSpec l31 = bundled("llama-3.1-8b");
  CHECK(l31.rope_scaling.kind == RopeScaling::Kind::Llama3);
  CHECK(l31.rope_scaling.factor == 8.0);
  CHECK(l31.rope_scaling.original_max_position == 8192);
  CHECK(l31.rope_theta == 500000.0);

  CHECK(bundled("mistral-7b-v0.1").sliding_window == std::optional<std::int64_t>(4096));
  const TransformerSpec mixtral = bundled("mixtral-8x7b");
  CHECK(mixtral.experts == 8);
  CHECK(mixtral.experts_per_token == 2);
  CHECK_FALSE(mixtral.sliding_window.has_value());  // null

  const TransformerSpec qwen = bundled("qwen2-7b");
  CHECK(qwen.qkv_bias);
  CHECK_FALSE(qwen.attention_out_bias);
  CHECK_FALSE(qwen.sliding_window.has_value());  // use_sliding_window false

  const TransformerSpec gemma = bundled("gemma-2b");
  CHECK(gemma.head_dim == 256);
  CHECK(gemma.kv_heads == 1);
  CHECK(gemma.norm_adds_one);
  CHECK(gemma.scale_embeddings);
  CHECK(gemma.tie_embeddings);
  CHECK(gemma.activation == ActivationKind::GeluTanh);

  const TransformerSpec phi3 = bundled("phi-3-mini-4k");
  CHECK(phi3.sliding_window == std::optional<std::int64_t>(2047));
  CHECK(phi3.gated_mlp);
  CHECK(phi3.activation == ActivationKind::Silu);
}

TEST_CASE("a folder holding config.json loads like the file", "[model]") {
  CHECK(load_transformer_spec(kModels + "gpt2").parameters() == 124439808);
  CHECK_THAT(error_of(kModels), Catch::Contains("config.json: file not found"));
}

TEST_CASE("every tiny config loads", "[model]") {
  for (const auto& family : kTinyFamilies) {
    INFO(family);
    const TransformerSpec s = bundled(tiny(family));
    CHECK(family_name(s.family) == family);
    CHECK(s.layers == 2);
    CHECK(s.hidden >= 320);
    CHECK(s.hidden <= 640);
    CHECK(s.head_dim == 64);
    CHECK(s.vocab_size <= 512);
    CHECK(s.max_positions == 256);
  }
  CHECK(bundled("tiny-llama").kv_heads == 2);
  CHECK(bundled("tiny-gpt2").intermediate == 1280);  // n_inner null
  CHECK(bundled("tiny-mixtral").experts == 4);
}

TEST_CASE("malformed model configs give one-line errors naming the key", "[model]") {
  struct Case {
    const char* file;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown_model_type", "key 'model_type': unsupported model_type 'falcon' (not modelled: parallel attention with "
                             "multi-query heads); supported: llama, mistral, mixtral, qwen2, gemma, phi3, gpt2, bert"},
      {"missing_model_type", "key 'model_type': missing (required), and there is no 'architectures'"},
      {"llama_attention_bias", "key 'attention_bias': unsupported: biases on the q/k/v/o projections"},
      {"llama_mlp_bias", "key 'mlp_bias': unsupported: biases on the MLP projections"},
      {"llama_rope_yarn", "key 'rope_scaling.factor': expected a number in [1, 1000000], got 0.5"},
      {"llama_rope_dynamic", "key 'rope_scaling.type': unsupported: rope scaling 'dynamic' (dynamic NTK scaling, which depends on the sequence length) is not modelled"},
      {"llama3_rope_missing_factor", "key 'rope_scaling.factor': missing (required)"},
      {"llama3_rope_bad_band", "key 'rope_scaling.high_freq_factor': expected greater than low_freq_factor 4"},
      {"llama_heads_not_dividing", "key 'num_attention_heads': hidden_size 500 is not a multiple of "
                                   "num_attention_heads 8 (and no head_dim is given)"},
      {"llama_kv_not_dividing", "key 'num_key_value_heads': expected a divisor of num_attention_heads 8, got 3"},
      {"llama_negative_hidden", "key 'hidden_size': expected an integer in [1, 1048576], got -1"},
      {"llama_hidden_string", "key 'hidden_size': expected an integer in [1, 1048576], got string"},
      {"llama_hidden_fraction", "key 'hidden_size': expected an integer in [1, 1048576], got number"},
      {"llama_missing_vocab", "key 'vocab_size': missing (required)"},
      {"llama_bad_activation", "key 'hidden_act': unsupported activation 'quick_gelu'"},
      {"llama_rope_theta_zero", "key 'rope_theta': expected a number in [1,"},
      {"llama_odd_head_dim", "key 'head_dim': rope needs an even head_dim, got 63"},
      {"mixtral_top_k_above_experts", "key 'num_experts_per_tok': expected at most num_local_experts 4, got 5"},
      {"mixtral_overflow", "parameter count overflows 64 bits"},
      {"qwen2_sliding_window", "key 'use_sliding_window': unsupported: Qwen2 sliding-window attention"},
      {"gemma_no_head_dim", "key 'head_dim': missing (required: gemma's head_dim"},
      {"gemma_untied", "key 'tie_word_embeddings': unsupported: gemma with an untied LM head"},
      {"phi3_longrope", "key 'rope_scaling.type': unsupported: rope scaling 'longrope' (Phi-3 LongRoPE"},
      {"phi3_su", "key 'rope_scaling.type': unsupported: rope scaling 'su' (Phi-3 LongRoPE"},
      {"phi3_partial_rotary", "key 'partial_rotary_factor': unsupported: rope on part of each head"},
      {"gpt2_scale_by_layer", "key 'scale_attn_by_inverse_layer_idx': unsupported: attention scaled by 1/(layer"},
      {"gpt2_llama_key", "key 'hidden_size': 384 disagrees with n_embd 320"},
      {"bert_relative_positions", "key 'position_embedding_type': unsupported: 'relative_key' position embeddings"},
      {"bert_decoder", "key 'is_decoder': unsupported: bert as a causal decoder"},
      {"not_json", "not_json.json:1:43: invalid JSON"},
      {"array_top_level", "array_top_level.json: top level: expected an object"},
  };
  for (const auto& c : cases) {
    const std::string path = kBadModels + c.file + ".json";
    const std::string error = error_of(path);
    INFO(c.file << ": " << error);
    CHECK_THAT(error, Catch::StartsWith(path));
    CHECK_THAT(error, Catch::Contains(c.message));
    CHECK(error.find('\n') == std::string::npos);
  }
}

TEST_CASE("unknown keys in model configs are warnings, errors with strict", "[model]") {
  for (const auto& [file, key] : std::vector<std::pair<std::string, std::string>>{
           {"llama_unknown_key", "foo_bar"}, {"llama_alibi", "alibi"}, {"llama_rope_unknown_subkey", "rope_scaling.foo"}}) {
    INFO(file);
    const std::string path = kBadModels + file + ".json";
    const TransformerSpec s = load_transformer_spec(path);
    REQUIRE(s.warnings.size() == 1);
    CHECK_THAT(s.warnings[0], Catch::StartsWith(path + ": key '" + key + "': unknown key for model_type 'llama'"));
    ConfigReadOptions strict;
    strict.strict = true;
    CHECK_THROWS_WITH(load_transformer_spec(path, strict),
                      Catch::StartsWith(path + ": key '" + key + "': unknown key for model_type 'llama' (--strict"));
  }
}

// ---- weights and quantisation -----------------------------------------------------------

TEST_CASE("weight values are deterministic, in range and fp16-exact", "[model]") {
  TensorInfo t;
  t.name = "l0.attn.q.weight";
  t.shape = {64, 48};
  t.role = TensorRole::Weight;
  t.seed = seed_from_name(t.name);
  t.init_scale = 0.125;
  const auto a = make_weight_values(t);
  REQUIRE(a.size() == 64u * 48u);
  CHECK(a == make_weight_values(t));
  double sum = 0;
  for (const float v : a) {
    CHECK(std::abs(v) <= 0.125f);
    CHECK(round_to_fp16(v) == v);
    sum += v;
  }
  CHECK(std::abs(sum / static_cast<double>(a.size())) < 0.01);  // centred
  t.seed = seed_from_name("l0.attn.k.weight");
  CHECK(a != make_weight_values(t));
  t.init = "ones";
  CHECK(make_weight_values(t) == std::vector<float>(64u * 48u, 1.0f));
  t.init = "zeros";
  CHECK(make_weight_values(t) == std::vector<float>(64u * 48u, 0.0f));
  t.init = "normal";
  CHECK_THROWS_AS(make_weight_values(t), InputError);
}

TEST_CASE("int8 quantisation: per-column weight scales, per-tensor activation scale", "[model]") {
  Eigen::MatrixXf w(2, 3);
  w << 0.6f, -0.5f, 0.0f,
       -2.0f, 0.2f, 0.0f;
  const Int8Weights q = quantize_weights_int8(w);
  CHECK(q.scale(0) == Approx(2.0f / 127.0f));
  CHECK(q.scale(1) == Approx(0.5f / 127.0f));
  CHECK(q.scale(2) == 1.0f);  // all-zero column
  CHECK(int(q.codes(1, 0)) == -127);
  CHECK(int(q.codes(0, 0)) == 38);   // 0.6 / (2/127) = 38.1
  CHECK(int(q.codes(1, 1)) == 51);   // 0.2 / (0.5/127) = 50.8
  CHECK(int(q.codes(0, 1)) == -127);
  Eigen::MatrixXf x(1, 2);
  x << 0.5f, -1.0f;
  const Int8Activations a = quantize_activations_int8(x);
  CHECK(a.scale == Approx(1.0f / 127.0f));
  const Eigen::MatrixXf y = matmul_int8(x, q);
  const Eigen::MatrixXf exact = x * w;
  CHECK(y(0, 0) == Approx(exact(0, 0)).margin(0.03));
  CHECK(y(0, 1) == Approx(exact(0, 1)).margin(0.01));
  CHECK(y(0, 2) == 0.0f);
  CHECK(quantize_int8(2.5f, 1.0f) == 3);  // ties away from zero
  CHECK(quantize_int8(-2.5f, 1.0f) == -3);
  CHECK(quantize_int8(1000.0f, 1.0f) == 127);
  CHECK(quantize_int8(-1000.0f, 1.0f) == -127);
  CHECK(round_to_fp16(1.0f + 1.0f / 4096.0f) == 1.0f);  // below half an fp16 ulp
}

// ---- math spot checks -------------------------------------------------------------------

TEST_CASE("softmax, gelu, silu and rope against hand-computed values", "[model]") {
  Eigen::MatrixXf x(1, 3);
  x << 1.0f, 2.0f, 3.0f;
  const Eigen::MatrixXf p = softmax_rows(x);
  CHECK(p(0, 0) == Approx(0.09003057f).epsilon(1e-6));
  CHECK(p(0, 1) == Approx(0.24472847f).epsilon(1e-6));
  CHECK(p(0, 2) == Approx(0.66524096f).epsilon(1e-6));
  CHECK(gelu_erf(1.0f) == Approx(0.84134475f).epsilon(1e-6));
  CHECK(gelu_erf(-1.0f) == Approx(-0.15865525f).epsilon(1e-6));
  CHECK(gelu_tanh(1.0f) == Approx(0.84119199f).epsilon(1e-6));
  CHECK(silu(1.0f) == Approx(0.73105858f).epsilon(1e-6));
  CHECK(silu(-2.0f) == Approx(-0.23840584f).epsilon(1e-6));

  // head_dim 4, theta 10000: inverse frequencies 1 and 0.01; position 1.
  const auto inv = rope_inverse_frequencies(4, 10000.0, RopeScaling{});
  REQUIRE(inv.size() == 2u);
  CHECK(inv[0] == 1.0);
  CHECK(inv[1] == Approx(0.01));
  Eigen::MatrixXf q(1, 4);
  q << 1.0f, 2.0f, 3.0f, 4.0f;
  const Eigen::MatrixXf r = apply_rope(q, 4, 1, inv);
  CHECK(r(0, 0) == Approx(1 * std::cos(1.0) - 3 * std::sin(1.0)));  // -1.9841107
  CHECK(r(0, 2) == Approx(3 * std::cos(1.0) + 1 * std::sin(1.0)));  //  2.4623779
  CHECK(r(0, 1) == Approx(1.9599007f));
  CHECK(r(0, 3) == Approx(4.0197997f));

  // Llama 3.1 scaling: the highest frequency is kept, the lowest divided by 8, and one in
  // the band between is interpolated.
  RopeScaling llama3;
  llama3.kind = RopeScaling::Kind::Llama3;
  llama3.factor = 8.0;
  const auto plain = rope_inverse_frequencies(128, 500000.0, RopeScaling{});
  const auto scaled = rope_inverse_frequencies(128, 500000.0, llama3);
  CHECK(scaled[0] == plain[0]);
  CHECK(scaled[63] == Approx(plain[63] / 8.0));
  int interpolated = 0;
  for (std::size_t i = 0; i < plain.size(); ++i)
    if (scaled[i] < plain[i] && scaled[i] > plain[i] / 8.0 * 1.0001) ++interpolated;
  CHECK(interpolated > 0);
  RopeScaling linear;
  linear.kind = RopeScaling::Kind::Linear;
  linear.factor = 4.0;
  CHECK(rope_inverse_frequencies(128, 500000.0, linear)[5] == Approx(plain[5] / 4.0));
}

// ---- graphs -----------------------------------------------------------------------------

TEST_CASE("tiny graphs: node counts, output shapes, caches and weights", "[model]") {
  struct Expected {
    const char* family;
    std::size_t nodes;
    const char* output;
    std::int64_t width;
  };
  // Per layer: norms, q/k/v/o matmuls (+ bias adds), 2 ropes, attention, 2 residual adds,
  // and the MLP (gated: gate, act, up, mul, down; plain: fc1, act, fc2; MoE: one node).
  // Plus embedding (+ scale / positions / types / norm), final norm and LM head.
  const std::vector<Expected> expected = {
      {"llama", 2 * 16 + 3, "logits", 512},
      {"mistral", 2 * 16 + 3, "logits", 512},
      {"mixtral", 2 * 12 + 3, "logits", 512},
      {"qwen2", 2 * 19 + 3, "logits", 512},
      {"gemma", 2 * 16 + 4, "logits", 512},
      {"phi3", 2 * 16 + 3, "logits", 512},
      {"gpt2", 2 * 18 + 5, "logits", 509},   // + position slice and add
      {"bert", 2 * 18 + 6, "hidden", 320},   // + positions, types, embedding norm; no final norm or head
  };
  for (const auto& e : expected) {
    INFO(e.family);
    const TransformerSpec s = bundled(std::string("tiny-") + e.family);
    const Graph g = build_transformer_graph(s, 7, 3);
    CHECK(g.nodes.size() == e.nodes);
    const int out = g.find(e.output);
    REQUIRE(out >= 0);
    CHECK(g.tensors[static_cast<std::size_t>(out)].role == TensorRole::Output);
    CHECK(g.tensors[static_cast<std::size_t>(out)].shape == std::vector<std::int64_t>{7, e.width});
    const int ids = g.find("token_ids");
    REQUIRE(ids >= 0);
    CHECK(g.tensors[static_cast<std::size_t>(ids)].shape == std::vector<std::int64_t>{7});
    const int cache = g.find("l1.v_cache");
    REQUIRE(cache >= 0);
    CHECK(g.tensors[static_cast<std::size_t>(cache)].role == TensorRole::State);
    CHECK(g.tensors[static_cast<std::size_t>(cache)].shape ==
          std::vector<std::int64_t>{256, s.kv_heads * s.head_dim});

    // Every weight is counted by parameters() exactly once; seeds are distinct; names unique.
    std::int64_t weight_elements = 0;
    std::set<std::uint64_t> seeds;
    std::set<std::string> names;
    for (std::size_t i = 0; i < g.tensors.size(); ++i) {
      CHECK(names.insert(g.tensors[i].name).second);
      if (g.tensors[i].role != TensorRole::Weight) continue;
      weight_elements += g.elements(static_cast<int>(i));
      seeds.insert(g.tensors[i].seed);
    }
    CHECK(weight_elements == s.parameters());
    // Nodes read only tensors that exist and were produced earlier (or are not intermediates).
    std::set<int> produced;
    for (const Node& n : g.nodes) {
      for (const int in : n.inputs) {
        REQUIRE(in >= 0);
        REQUIRE(in < static_cast<int>(g.tensors.size()));
        if (g.tensors[static_cast<std::size_t>(in)].role == TensorRole::Intermediate) CHECK(produced.count(in) == 1);
      }
      for (const int o : n.outputs) produced.insert(o);
    }
  }
  const Graph mixtral = build_transformer_graph(bundled("tiny-mixtral"), 1, 0);
  const Node& moe = mixtral.nodes[11];
  CHECK(moe.kind == OpKind::MoeMlp);
  CHECK(moe.inputs.size() == 2u + 3u * 4u);
  CHECK(mixtral.tensors[static_cast<std::size_t>(moe.inputs[2])].name == "l0.moe.e0.w1.weight");
  CHECK(mixtral.tensors[static_cast<std::size_t>(moe.inputs[4])].name == "l0.moe.e0.w2.weight");
  CHECK(moe.int_attr("top_k", 0) == 2);
  const Graph gpt2 = build_transformer_graph(bundled("tiny-gpt2"), 1, 5);
  const Node& head = gpt2.nodes.back();
  CHECK(head.int_attr("transpose_w", 0) == 1);
  CHECK(gpt2.tensors[static_cast<std::size_t>(head.inputs[1])].name == "embed.weight");
  CHECK_THROWS_AS(build_transformer_graph(bundled("tiny-llama"), 10, 250), InputError);
  CHECK_THROWS_AS(build_transformer_graph(bundled("tiny-llama"), 0, 0), InputError);
}

TEST_CASE("big graphs build with the right weight count", "[model]") {
  for (const char* name : {"llama-2-7b", "mixtral-8x7b", "gemma-2b", "bert-base-uncased", "tiny-gpt-oss"}) {
    INFO(name);
    const TransformerSpec s = bundled(name);
    const Graph g = build_transformer_graph(s, 1, 0);
    std::int64_t weight_elements = 0;
    for (std::size_t i = 0; i < g.tensors.size(); ++i)
      if (g.tensors[i].role == TensorRole::Weight) weight_elements += g.elements(static_cast<int>(i));
    CHECK(weight_elements == s.parameters());
  }
}

// ---- reference forward pass -------------------------------------------------------------

TEST_CASE("reference: decode steps with the KV cache equal the rows of one prefill", "[model]") {
  for (const auto& family : kTinyFamilies) {
    if (family == "bert") continue;  // not causal
    INFO(family);
    const TransformerSpec s = bundled(tiny(family));
    const Graph g = build_transformer_graph(s, 1, 0);
    // 24 tokens: past tiny-mistral's window of 16, so the window is exercised too.
    const std::vector<int> ids = tokens_for(s, 24);
    ReferenceTransformer full(s, g);
    const Eigen::MatrixXf all = full.forward(ids, 0);
    REQUIRE(all.rows() == 24);
    REQUIRE(all.cols() == s.vocab_size);

    ReferenceTransformer stepwise(s, g);
    const std::vector<int> prompt(ids.begin(), ids.begin() + 20);
    const Eigen::MatrixXf first = stepwise.forward(prompt, 0);
    double worst = relative_error(first, all.topRows(20));
    for (int t = 20; t < 24; ++t) {
      const Eigen::MatrixXf row = stepwise.forward({ids[static_cast<std::size_t>(t)]}, t);
      worst = std::max(worst, relative_error(row, all.middleRows(t, 1)));
    }
    CHECK(stepwise.cached_positions() == 24);
    CHECK(worst < 1e-4);
    // Logits vary across the vocabulary (nothing collapsed to a constant).
    CHECK(all.row(23).maxCoeff() - all.row(23).minCoeff() > 1.0f);
  }
}

TEST_CASE("reference: causal masking and the sliding window matter", "[model]") {
  // Changing a later token must not change earlier logits; changing a token more than a
  // window back must not change the last position's logits in a 1-layer view... with 2
  // layers the window reaches 2 x (W - 1) back, so check a token beyond that.
  const TransformerSpec s = bundled("tiny-mistral");  // window 16
  const Graph g = build_transformer_graph(s, 1, 0);
  std::vector<int> ids = tokens_for(s, 40);
  ReferenceTransformer a(s, g);
  const Eigen::MatrixXf base = a.forward(ids, 0);
  ids[5] = (ids[5] + 1) % static_cast<int>(s.vocab_size);
  ReferenceTransformer b(s, g);
  const Eigen::MatrixXf changed = b.forward(ids, 0);
  CHECK(relative_error(changed.topRows(5), base.topRows(5)) == 0.0);
  CHECK(relative_error(changed.middleRows(5, 1), base.middleRows(5, 1)) > 1e-3);
  // Position 39 sees positions >= 24 in layer 2, which saw >= 9 in layer 1: token 5 is out of reach.
  CHECK(relative_error(changed.bottomRows(1), base.bottomRows(1)) == 0.0);
  // Position 20 still reaches token 5 through two layers (20 - 15 = 5).
  CHECK(relative_error(changed.middleRows(20, 1), base.middleRows(20, 1)) > 0.0);
}

TEST_CASE("reference: gemma2 and gemma3 soft-capping, score scale, windows and local rope each matter", "[model]") {
  // Each feature changed alone moves the logits, so a compiled graph that skipped it would
  // fail verify against this reference.
  auto logits = [](const TransformerSpec& s, int tokens) {
    const Graph g = build_transformer_graph(s, 1, 0);
    ReferenceTransformer r(s, g);
    return r.forward(tokens_for(s, tokens), 0);
  };
  const TransformerSpec g2 = bundled("tiny-gemma2");
  CHECK(g2.norm_placement == NormPlacement::Sandwich);
  CHECK(g2.window_of(0) == 4);  // even layers slide
  CHECK(g2.window_of(1) == 0);
  const Eigen::MatrixXf base = logits(g2, 8);
  // Soft-capped logits stay inside +-3.
  CHECK(base.cwiseAbs().maxCoeff() < 3.0f);
  TransformerSpec no_cap = g2;
  no_cap.attention_softcap = 0;
  CHECK(relative_error(logits(no_cap, 8), base) > 1e-3);
  TransformerSpec no_final_cap = g2;
  no_final_cap.final_softcap = 0;
  CHECK(relative_error(logits(no_final_cap, 8), base) > 1e-3);
  TransformerSpec head_dim_scale = g2;
  head_dim_scale.attention_scale = 0;  // 1/sqrt(64) instead of 1/sqrt(48)
  CHECK(relative_error(logits(head_dim_scale, 8), base) > 1e-3);
  TransformerSpec no_window = g2;
  no_window.sliding_window.reset();
  CHECK(relative_error(logits(no_window, 8).topRows(4), base.topRows(4)) == 0.0);  // within the window
  CHECK(relative_error(logits(no_window, 8).bottomRows(1), base.bottomRows(1)) > 1e-4);

  const TransformerSpec g3 = bundled("tiny-gemma3-text");
  CHECK(g3.qk_norm == QkNorm::PerHead);
  CHECK(g3.rope_theta_of(0) == 10000.0);  // sliding: rope_local_base_freq, no scaling
  CHECK(g3.rope_scaling_of(0).kind == RopeScaling::Kind::None);
  CHECK(g3.rope_theta_of(1) == 1e6);
  CHECK(g3.rope_scaling_of(1).kind == RopeScaling::Kind::Linear);
  TransformerSpec global_rope = g3;
  global_rope.rope_local_theta.reset();
  CHECK(relative_error(logits(global_rope, 6), logits(g3, 6)) > 1e-4);
}

TEST_CASE("yarn rope frequencies and attention factor follow transformers", "[model]") {
  // head_dim 64, theta 500000, factor 4, original context 16, beta_fast 32, beta_slow 1:
  // correction dims 64 ln(16 / (2 pi b)) / (2 ln 500000) = -2.74 (b 32) and 2.279 (b 1),
  // truncated to [0, 3]: pair 0 keeps its frequency, pairs >= 3 are divided by 4, pairs 1
  // and 2 ramp (1/3, 2/3 of the way).
  RopeScaling y;
  y.kind = RopeScaling::Kind::Yarn;
  y.factor = 4.0;
  y.original_max_position = 16;
  const auto inv = rope_inverse_frequencies(64, 500000.0, y);
  auto base = [](int i) { return std::pow(500000.0, -2.0 * i / 64.0); };
  CHECK(inv[0] == Approx(base(0)));
  CHECK(inv[1] == Approx(base(1) * (1.0 / 3.0 / 4.0 + 2.0 / 3.0)));
  CHECK(inv[2] == Approx(base(2) * (2.0 / 3.0 / 4.0 + 1.0 / 3.0)));
  CHECK(inv[3] == Approx(base(3) / 4.0));
  CHECK(inv[31] == Approx(base(31) / 4.0));
  // attention_factor from the config, else mscale / mscale_all_dim, else 0.1 ln(factor) + 1.
  auto factor_of = [](const std::string& extra) {
    const std::string text = R"({"model_type": "llama", "vocab_size": 64, "hidden_size": 64, "intermediate_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 1, "max_position_embeddings": 64,
      "rope_scaling": {"rope_type": "yarn", "factor": 4.0)" + extra + "}}";
    return parse_transformer_spec(text, "config.json").rope_scaling.attention_factor;
  };
  CHECK(factor_of("") == Approx(0.1 * std::log(4.0) + 1.0));
  CHECK(factor_of(R"(, "attention_factor": 1.5)") == 1.5);
  CHECK(factor_of(R"(, "mscale": 1.0, "mscale_all_dim": 1.0)") == Approx(1.0));  // DeepSeek-V3's
  // The yarn tiny model's logits depend on the factor.
  const TransformerSpec s = bundled("tiny-olmo3-yarn");
  CHECK(s.rope_scaling.kind == RopeScaling::Kind::Yarn);
  TransformerSpec no_factor = s;
  no_factor.rope_scaling.attention_factor = 1.0;
  const Graph g = build_transformer_graph(s, 1, 0);
  ReferenceTransformer a(s, g), b(no_factor, g);
  CHECK(relative_error(a.forward(tokens_for(s, 6), 0), b.forward(tokens_for(s, 6), 0)) > 1e-3);
}

TEST_CASE("reference: bert is bidirectional and uses token types", "[model]") {
  const TransformerSpec s = bundled("tiny-bert");
  const Graph g = build_transformer_graph(s, 1, 0);
  std::vector<int> ids = tokens_for(s, 12);
  ReferenceTransformer a(s, g);
  const Eigen::MatrixXf base = a.forward(ids, 0);
  CHECK(base.cols() == 320);
  ids.back() = (ids.back() + 1) % static_cast<int>(s.vocab_size);
  ReferenceTransformer b(s, g);
  CHECK(relative_error(b.forward(ids, 0).topRows(1), base.topRows(1)) > 1e-4);  // a later token changes row 0
  ReferenceTransformer c(s, g);
  std::vector<int> types(12, 0);
  types[3] = 1;
  CHECK(relative_error(c.forward(tokens_for(s, 12), 0, types), base) > 1e-4);
}

TEST_CASE("reference: fp16-matmul and int8 policies stay near fp32", "[model]") {
  // Error of a row: max |error| / max |fp32 output| over the whole run (16-token prefill and,
  // for causal families, 2 decode steps). Measured on these tiny models: fp16-matmul at most
  // 8.1e-4, int8 at most 3.9e-2 (mistral). The bounds leave ~2x margin.
  // Mixtral is checked on the median row: an int8 error upstream can flip the router's
  // top-k choice for a token (measured: one row of 16 at 0.24), a discrete change that no
  // tolerance on the maximum can bound; the other rows stay within the dense bound.
  for (const auto& family : kTinyFamilies) {
    INFO(family);
    const TransformerSpec s = bundled(tiny(family));
    const Graph g = build_transformer_graph(s, 1, 0);
    ReferenceTransformer fp32(s, g, Precision::Fp32);
    ReferenceTransformer fp16(s, g, Precision::Fp16Matmul);
    ReferenceTransformer int8(s, g, Precision::Int8);
    const std::vector<int> ids = tokens_for(s, 16, 3);
    std::vector<Eigen::MatrixXf> exact = {fp32.forward(ids, 0)};
    std::vector<Eigen::MatrixXf> half = {fp16.forward(ids, 0)};
    std::vector<Eigen::MatrixXf> quant = {int8.forward(ids, 0)};
    if (s.causal) {
      for (int t = 16; t < 18; ++t) {
        exact.push_back(fp32.forward({t % 100}, t));
        half.push_back(fp16.forward({t % 100}, t));
        quant.push_back(int8.forward({t % 100}, t));
      }
    }
    float largest = 0.0f;
    for (const auto& e : exact) largest = std::max(largest, e.cwiseAbs().maxCoeff());
    std::vector<double> fp16_rows, int8_rows;
    for (std::size_t i = 0; i < exact.size(); ++i) {
      for (Eigen::Index r = 0; r < exact[i].rows(); ++r) {
        fp16_rows.push_back((half[i].row(r) - exact[i].row(r)).cwiseAbs().maxCoeff() / largest);
        int8_rows.push_back((quant[i].row(r) - exact[i].row(r)).cwiseAbs().maxCoeff() / largest);
      }
    }
    const double fp16_error = *std::max_element(fp16_rows.begin(), fp16_rows.end());
    std::sort(int8_rows.begin(), int8_rows.end());
    const double int8_error = s.experts > 0 ? int8_rows[int8_rows.size() / 2] : int8_rows.back();
    INFO(family << ": fp16-matmul " << fp16_error << ", int8 " << int8_error);
    CHECK(fp16_error > 0.0);
    CHECK(fp16_error < 2e-3);
    CHECK(int8_error > fp16_error);
    CHECK(int8_error < 8e-2);
  }
}

TEST_CASE("reference: a graph missing a weight or with a wrong shape is refused", "[model]") {
  const TransformerSpec s = bundled("tiny-llama");
  Graph g = build_transformer_graph(s, 1, 0);
  g.tensors[static_cast<std::size_t>(g.find("l1.attn.k.weight"))].shape = {512, 512};
  CHECK_THROWS_WITH(ReferenceTransformer(s, g), Catch::Contains("'l1.attn.k.weight' has shape [512, 512], expected [512, 128]"));
  g.tensors[static_cast<std::size_t>(g.find("l1.attn.k.weight"))].name = "renamed";
  CHECK_THROWS_WITH(ReferenceTransformer(s, g), Catch::Contains("no tensor 'l1.attn.k.weight'"));
}

TEST_CASE("reference: fp8 and stored-low computed-fp16 policies against fp32", "[model][fp8]") {
  // Error of a run: max |error| / max |fp32 output| over a 16-token prefill and 2 decode steps.
  // Measured on tiny-llama / tiny-qwen3 (the bounds leave about 2x margin):
  //   fp8e4m3 native 0.117 / 0.153, fp8e5m2 native 0.214 / 0.222,
  //   int8 stored, fp16 computed 0.0129 / 0.0108, fp8e4m3 stored 0.080 / 0.080,
  //   fp8e5m2 stored 0.157 / 0.172 (int8 native: 0.035 / 0.044).
  // fp8 is coarser than int8 here: these weights are uniform in +-1/sqrt(K), where int8's
  // 255 evenly spaced levels per column beat e4m3's 3 mantissa bits (up to 6% per weight);
  // fp8 pays off on weights spanning several binades, which random uniform ones do not.
  // Storing low and computing in fp16 leaves only the weights' quantisation error, so it is
  // below the native policy of the same type, and e5m2 (2 mantissa bits) is coarser than e4m3.
  for (const char* name : {"tiny-llama", "tiny-qwen3"}) {
    INFO(name);
    const TransformerSpec s = bundled(name);
    const Graph g = build_transformer_graph(s, 1, 0);
    auto run = [&](Precision p) {
      ReferenceTransformer r(s, g, p);
      std::vector<Eigen::MatrixXf> out = {r.forward(tokens_for(s, 16, 3), 0)};
      for (int t = 16; t < 18; ++t) out.push_back(r.forward({t % 100}, t));
      return out;
    };
    const auto exact = run(Precision::Fp32);
    float largest = 0.0f;
    for (const auto& e : exact) largest = std::max(largest, e.cwiseAbs().maxCoeff());
    auto error = [&](Precision p) {
      const auto got = run(p);
      double worst = 0;
      for (std::size_t i = 0; i < exact.size(); ++i)
        worst = std::max(worst, static_cast<double>((got[i] - exact[i]).cwiseAbs().maxCoeff() / largest));
      return worst;
    };
    const double e4m3 = error(Precision::Fp8E4M3), e5m2 = error(Precision::Fp8E5M2);
    const double int8_fp16 = error(Precision::Int8Fp16), e4m3_fp16 = error(Precision::Fp8E4M3Fp16),
                 e5m2_fp16 = error(Precision::Fp8E5M2Fp16), int8 = error(Precision::Int8);
    INFO("e4m3 " << e4m3 << " e5m2 " << e5m2 << " int8/fp16 " << int8_fp16 << " e4m3/fp16 " << e4m3_fp16
                 << " e5m2/fp16 " << e5m2_fp16 << " int8 " << int8);
    CHECK(e4m3 > 0.0);
    CHECK(e4m3 < e5m2);
    CHECK(int8_fp16 < int8);
    CHECK(e4m3_fp16 < e4m3);
    CHECK(e5m2_fp16 < e5m2);
    CHECK(e4m3_fp16 < e5m2_fp16);
    CHECK(e4m3 < 0.3);
    CHECK(e5m2 < 0.45);
    CHECK(e4m3_fp16 < 0.16);
    CHECK(int8_fp16 < 0.025);
  }
}
