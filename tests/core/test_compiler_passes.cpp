// Compiler passes without the simulator: decompose and calibrate checked through the fp32
// interpreter of primitive graphs, and the batched transformer graph against the Eigen
// reference run one sequence at a time.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/pipeline.hpp"
#include "arch/config/chip_config.hpp"
#include "compiler/interpreter/interpret.hpp"
#include "arch/core/error.hpp"
#include "frontend/transformer_spec.hpp"
#include "numerics/matmul_numerics.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "compiler/ir/weight_init.hpp"

using namespace lpusim;

namespace {
const std::string kModels = std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/";

TransformerSpec bundled(const std::string& name) { return load_transformer_spec(kModels + name + "/config.json"); }

/// Row-major values of a [rows, cols] interpreter result as a matrix.
Eigen::MatrixXf as_matrix(const std::vector<float>& v, Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) m(r, c) = v[static_cast<std::size_t>(r * cols + c)];
  return m;
}

std::vector<float> row_major(const Eigen::MatrixXf& m) {
  std::vector<float> v;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v.push_back(m(r, c));
  return v;
}

/// The host's embedding lookup for a transformer graph's "embed" input.
std::vector<float> embedding_rows(const Graph& g, const std::vector<int>& ids) {
  const auto& table = g.tensors[static_cast<std::size_t>(g.find("embed.weight"))];
  const auto values = make_weight_values(table);
  const std::int64_t width = table.shape[1];
  std::vector<float> rows;
  for (int id : ids) rows.insert(rows.end(), values.begin() + id * width, values.begin() + (id + 1) * width);
  return rows;
}

Graph one_node_graph(OpKind kind, std::int64_t rows, std::int64_t cols) {
  Graph g;
  g.name = "test";
  TensorInfo x;
  x.name = "x";
  x.shape = {rows, cols};
  x.role = TensorRole::Input;
  TensorInfo y;
  y.name = "y";
  y.shape = {rows, cols};
  y.role = TensorRole::Output;
  const int xi = g.add_tensor(x), yi = g.add_tensor(y);
  Node n;
  n.kind = kind;
  n.name = "y";
  n.inputs = {xi};
  n.outputs = {yi};
  g.nodes.push_back(n);
  return g;
}
}  // namespace

TEST_CASE("decompose: softmax subtracts the row max, so logits of hundreds do not overflow", "[compiler]") {
  const std::int64_t rows = 3, cols = 200;  // not a power of two: the rotation tree wraps
  Graph g = one_node_graph(OpKind::Softmax, rows, cols);
  infer_shapes(g);
  const Graph primitive = decompose(g);
  verify_graph(primitive, "decompose");
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c)
      x(r, c) = 400.0f * std::sin(0.37f * static_cast<float>(c) + static_cast<float>(r));  // exp(400) overflows fp32
  x(1, 117) = 450.0f;  // a single winner far from lane 0
  const auto out = interpret_primitive_graph(primitive, {{"x", row_major(x)}});
  const Eigen::MatrixXf p = as_matrix(out.at("y"), rows, cols);
  const Eigen::MatrixXf want = softmax_rows(x);
  REQUIRE(p.allFinite());
  CHECK((p - want).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK(p(1, 117) > 0.99f);
}

TEST_CASE("decompose: a softmax wider than 1024 lanes skips the shift (its constants would be N x N)", "[compiler]") {
  auto rotations = [](std::int64_t cols) {
    Graph g = one_node_graph(OpKind::Softmax, 1, cols);
    infer_shapes(g);
    const Graph primitive = decompose(g);
    std::int64_t constant_values = 0;
    for (const auto& [name, values] : primitive.values) constant_values += static_cast<std::int64_t>(values.size());
    int max_ops = 0;
    for (const auto& n : primitive.nodes) max_ops += n.kind == OpKind::Max ? 1 : 0;
    return std::make_pair(max_ops, constant_values);
  };
  CHECK(rotations(1024).first == 10);  // ceil(log2 1024) rotation steps
  const auto wide = rotations(1025);
  CHECK(wide.first == 0);
  CHECK(wide.second == 1025 * 320);  // only the row-sum ones
}

TEST_CASE("batched transformer graph: shapes, one cache per sequence, rope period", "[compiler][model]") {
  const TransformerSpec s = bundled("tiny-llama");
  const Graph g = build_transformer_graph(s, 3, 0, 2);
  CHECK(g.tensors[static_cast<std::size_t>(g.find("token_ids"))].shape == std::vector<std::int64_t>{6});
  CHECK(g.tensors[static_cast<std::size_t>(g.find("logits"))].shape == std::vector<std::int64_t>{6, s.vocab_size});
  CHECK(g.find("l0.s0.k_cache") >= 0);
  CHECK(g.find("l0.s1.v_cache") >= 0);
  CHECK(g.find("l0.k_cache") < 0);
  int attention_nodes = 0;
  for (const auto& n : g.nodes) attention_nodes += n.kind == OpKind::Attention ? 1 : 0;
  CHECK(attention_nodes == 2 * s.layers);
  // Batch 1 keeps the single-sequence names.
  const Graph single = build_transformer_graph(s, 3, 0);
  CHECK(single.find("l0.k_cache") >= 0);
  CHECK_THROWS_AS(build_transformer_graph(s, 3, 0, 0), InputError);
}

TEST_CASE("batched transformer graph, decomposed and interpreted, equals the reference per sequence",
          "[compiler][model]") {
  for (const std::string family : {"llama", "gpt2", "qwen2"}) {
    INFO(family);
    const TransformerSpec s = bundled("tiny-" + family);
    const std::int64_t batch = 3, prompt = 4;
    std::vector<std::vector<int>> seqs;
    std::vector<int> flat;
    for (std::int64_t b = 0; b < batch; ++b) {
      std::vector<int> ids;
      for (std::int64_t i = 0; i < prompt + 1; ++i) ids.push_back(static_cast<int>((7 * i + 3 + 13 * b) % s.vocab_size));
      seqs.push_back(ids);
    }
    // Prefill of `prompt` tokens, then one decode step with the caches carried over.
    Graph prefill = build_transformer_graph(s, prompt, 0, batch);
    infer_shapes(prefill);
    const Graph prefill_primitive = decompose(prefill);
    for (const auto& ids : seqs) flat.insert(flat.end(), ids.begin(), ids.begin() + prompt);
    const auto prefill_out = interpret_primitive_graph(prefill_primitive, {{"embed", embedding_rows(prefill, flat)}});
    Graph decode = build_transformer_graph(s, 1, prompt, batch);
    infer_shapes(decode);
    const Graph decode_primitive = decompose(decode);
    std::map<std::string, std::vector<float>> decode_in;
    std::vector<int> next;
    for (const auto& ids : seqs) next.push_back(ids[static_cast<std::size_t>(prompt)]);
    decode_in["embed"] = embedding_rows(decode, next);
    for (const auto& t : decode_primitive.tensors)
      if (t.role == TensorRole::State) {
        // The prefill's cache rows, padded to this step's cache length.
        std::vector<float> rows = prefill_out.at(t.name);
        rows.resize(static_cast<std::size_t>(t.shape[0] * t.shape[1]), 0.0f);
        decode_in[t.name] = rows;
      }
    const auto decode_out = interpret_primitive_graph(decode_primitive, decode_in);
    const Eigen::MatrixXf got_prefill = as_matrix(prefill_out.at("logits"), batch * prompt, s.vocab_size);
    const Eigen::MatrixXf got_decode = as_matrix(decode_out.at("logits"), batch, s.vocab_size);
    for (std::int64_t b = 0; b < batch; ++b) {
      INFO("sequence " << b);
      ReferenceTransformer reference(s, prefill);
      const auto& ids = seqs[static_cast<std::size_t>(b)];
      const Eigen::MatrixXf want = reference.forward(std::vector<int>(ids.begin(), ids.begin() + prompt), 0);
      const Eigen::MatrixXf got = got_prefill.middleRows(b * prompt, prompt);
      CHECK((got - want).cwiseAbs().maxCoeff() / want.cwiseAbs().maxCoeff() < 1e-4f);
      const Eigen::MatrixXf want_next = reference.forward({ids[static_cast<std::size_t>(prompt)]}, static_cast<int>(prompt));
      CHECK((got_decode.row(b) - want_next).cwiseAbs().maxCoeff() / want_next.cwiseAbs().maxCoeff() < 1e-4f);
    }
    // The sequences differ, so a mix-up between them would show.
    CHECK((got_decode.row(0) - got_decode.row(1)).cwiseAbs().maxCoeff() > 1e-2f);
  }
}

TEST_CASE("calibrate: int8 matmuls get max |input| / 127, compiler constants none", "[compiler]") {
  Graph g;
  g.name = "calibration";
  TensorInfo x;
  x.name = "x";
  x.shape = {2, 8};
  x.role = TensorRole::Input;
  TensorInfo w;
  w.name = "w";
  w.shape = {8, 4};
  w.role = TensorRole::Weight;
  w.seed = 3;
  w.init_scale = 0.5;
  TensorInfo y;
  y.name = "y";
  y.shape = {2, 4};
  y.role = TensorRole::Output;
  const int xi = g.add_tensor(x), wi = g.add_tensor(w), yi = g.add_tensor(y);
  Node mm;
  mm.kind = OpKind::MatMul;
  mm.name = "y";
  mm.inputs = {xi, wi};
  mm.outputs = {yi};
  g.nodes.push_back(mm);
  TensorInfo p;
  p.name = "p";
  p.shape = {2, 4};
  p.role = TensorRole::Output;
  Node softmax;
  softmax.kind = OpKind::Softmax;
  softmax.name = "p";
  softmax.inputs = {yi};
  softmax.outputs = {g.add_tensor(p)};
  g.nodes.push_back(softmax);
  infer_shapes(g);
  Graph primitive = decompose(g);
  plan_quantization(primitive, WeightType::Int8);

  std::vector<float> xs(16);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = 0.25f * static_cast<float>(i) - 1.0f;  // max |x| = 2.75
  Calibration calibration;
  calibration.values["x"] = xs;
  calibrate_int8_scales(primitive, calibration);
  int constants = 0;
  for (const auto& n : primitive.nodes) {
    if (n.kind != OpKind::MatMul) continue;
    if (n.name == "y") {
      CHECK(n.act_scale.value_or(0.0) == Approx(2.75 / 127.0));
    } else {
      ++constants;  // the softmax's lane rotations and row sum: fp16 constants, not int8
      CHECK_FALSE(n.act_scale);
      CHECK(n.weight_type == WeightType::Fp16);
    }
  }
  CHECK(constants > 0);

  // Scales decided elsewhere are taken as they are.
  calibration.act_scales["y"] = 0.5;
  calibrate_int8_scales(primitive, calibration);
  for (const auto& n : primitive.nodes)
    if (n.name == "y") CHECK(n.act_scale.value_or(0.0) == 0.5);

  // Without given values the input is deterministic: the same scale twice.
  Graph again = decompose(g), twice = decompose(g);
  plan_quantization(again, WeightType::Int8);
  plan_quantization(twice, WeightType::Int8);
  calibrate_int8_scales(again, {});
  calibrate_int8_scales(twice, {});
  for (std::size_t i = 0; i < again.nodes.size(); ++i)
    if (again.nodes[i].name == "y") {
      CHECK(again.nodes[i].act_scale.value_or(0.0) == twice.nodes[i].act_scale.value_or(0.0));
      CHECK(again.nodes[i].act_scale.value_or(0.0) <= 1.0 / 127.0);
      CHECK(again.nodes[i].act_scale.value_or(0.0) > 0.5 / 127.0);
    }
}

TEST_CASE("int8 activations at a fixed scale clamp beyond 127 * scale", "[model]") {
  Eigen::MatrixXf x(1, 4);
  x << 0.1f, -0.5078125f, 2.0f, -3.0f;
  const Int8Activations q = quantize_activations_int8(x, 1.0f / 64.0f);
  CHECK(q.scale == 1.0f / 64.0f);
  CHECK(q.codes(0, 0) == 6);
  CHECK(q.codes(0, 1) == -33);  // -32.5 rounds away from zero
  CHECK(q.codes(0, 2) == 127);
  CHECK(q.codes(0, 3) == -127);
}

TEST_CASE("calibration changes int8 scales, never the schedule", "[compiler]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const TransformerSpec s = bundled("tiny-llama");
  CompileOptions functional;
  functional.lowering.weights = WeightType::Int8;
  CompileOptions timing_only = functional;
  timing_only.lowering.functional_data = false;
  const Graph g = build_transformer_graph(s, 1, 4, 2);
  const CompileResult calibrated = compile_graph(g, chip, functional);
  const CompileResult uncalibrated = compile_graph(g, chip, timing_only);
  CHECK(calibrated.lowered.scheduled_length == uncalibrated.lowered.scheduled_length);
  CHECK(calibrated.lowered.instructions == uncalibrated.lowered.instructions);
  int int8_matmuls = 0;
  for (const auto& n : calibrated.primitive.nodes)
    if (n.name == "l0.attn.q") {
      ++int8_matmuls;
      CHECK(n.act_scale.value_or(kDefaultActScale) != kDefaultActScale);
    }
  for (const auto& n : uncalibrated.primitive.nodes)  // timing-only: the quantization pass's default
    if (is_int8_matmul(n)) CHECK(n.act_scale.value_or(0.0) == kDefaultActScale);
  CHECK(int8_matmuls == 1);
}

TEST_CASE("decompose: prefill attention on the MXM equals the reference over several query blocks and chunks",
          "[compiler][model]") {
  // Prompts beyond one 320-query block, a second chunk after a cached past (keys widened to
  // whole tiles and masked), sliding windows, GQA, attention sinks, soft-capping, straddling
  // heads, GQA tile ranges that share a first tile, and an encoder: each decomposed, interpreted in fp32 and compared with the reference.
  struct Case {
    std::string config;
    std::vector<std::int64_t> chunks;
  };
  const std::string long_context = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/long_context/";
  for (const Case& c : {Case{long_context + "tiny-mistral-1k/config.json", {330, 70}},
                        Case{long_context + "tiny-bert-1k/config.json", {350}},
                        Case{kModels + "tiny-gpt-oss/config.json", {100, 21}},
                        Case{kModels + "tiny-gemma2/config.json", {40, 9}},
                        Case{kModels + "tiny-llama-hd128/config.json", {24, 5}},
                        // kv heads of 128 lanes whose tile ranges start alike but end apart
                        // ([0, 320) and [0, 512)): the views must be keyed by both ends.
                        Case{long_context + "tiny-llama-kv4-hd128/config.json", {40, 8}},
                        // ministral3's query scaling from position 64 (its original max).
                        Case{long_context + "tiny-ministral3-query-scale/config.json", {60, 30, 1}}}) {
    INFO(c.config);
    const TransformerSpec s = load_transformer_spec(c.config);
    ReferenceTransformer reference(s, build_transformer_graph(s, 1, 0, 1));
    std::map<std::string, std::vector<float>> caches;
    std::int64_t past = 0;
    for (std::int64_t tokens : c.chunks) {
      INFO("chunk of " << tokens << " after " << past);
      std::vector<int> ids;
      for (std::int64_t i = 0; i < tokens; ++i) ids.push_back(static_cast<int>((11 * (past + i) + 5) % s.vocab_size));
      Graph g = build_transformer_graph(s, tokens, past, 1);
      infer_shapes(g);
      const Graph primitive = decompose(g);
      std::map<std::string, std::vector<float>> in{{"embed", embedding_rows(g, ids)}};
      if (s.type_vocab_size > 0) {  // bert: every token of type 0, the type table's first row
        const auto& table = g.tensors[static_cast<std::size_t>(g.find("type_embed.weight"))];
        const auto values = make_weight_values(table);
        for (std::int64_t i = 0; i < tokens; ++i) in["type_embed"].insert(in["type_embed"].end(), values.begin(), values.begin() + table.shape[1]);
      }
      for (const auto& t : primitive.tensors)
        if (t.role == TensorRole::State) {
          std::vector<float> rows = caches.count(t.name) ? caches[t.name] : std::vector<float>{};
          rows.resize(static_cast<std::size_t>(t.shape[0] * t.shape[1]), 0.0f);
          in[t.name] = rows;
        }
      const auto out = interpret_primitive_graph(primitive, in);
      for (const auto& t : primitive.tensors)
        if (t.role == TensorRole::State) caches[t.name] = out.at(t.name);
      const Eigen::MatrixXf want = reference.forward(ids, static_cast<int>(past));
      const Eigen::MatrixXf got = as_matrix(out.at(s.has_lm_head ? "logits" : "hidden"), want.rows(), want.cols());
      CHECK((got - want).cwiseAbs().maxCoeff() / want.cwiseAbs().maxCoeff() < 1e-4f);
      past += tokens;
    }
  }
}
