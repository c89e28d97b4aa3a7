// The runtime layer without a simulation: loading what the user names once, the checks made
// before any compile (weights before KV caches), the compiler's per-layer attribution, and
// packing host rows into tiles.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "input_error_text.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/transformer_graph.hpp"
#include "runtime/model_costs.hpp"
#include "runtime/tile_rows.hpp"
#include "runtime/workload.hpp"

using namespace lpusim;

namespace {
const std::string kTransformers = std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/";

using testing::input_error_text;

/// A file under the test's temporary folder holding `text`.
std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/lpusim_test_" + name;
  std::ofstream(path) << text;
  return path;
}

ChipConfig chip() { return load_chip_config(LPUSIM_TSP_V1); }
}  // namespace

TEST_CASE("a workload is a bundled name, a folder, a config.json or a graph file", "[runtime][workload]") {
  const Workload by_name = load_workload("tiny-llama");
  REQUIRE_FALSE(by_name.is_graph());
  CHECK(by_name.path == bundled_transformers_dir() + "/tiny-llama/config.json");
  CHECK(by_name.spec().family == TransformerFamily::Llama);
  CHECK(by_name.spec().file == by_name.path);
  const Workload by_folder = load_workload(kTransformers + "tiny-gpt2");
  CHECK(by_folder.spec().family == TransformerFamily::Gpt2);
  CHECK(by_folder.path == kTransformers + "tiny-gpt2/config.json");
  const Workload by_file = load_workload(kTransformers + "tiny-bert/config.json");
  CHECK_FALSE(by_file.spec().causal);
  const Workload graph = load_workload(std::string(LPUSIM_SOURCE_DIR) + "/workloads/graphs/mlp_tiny.json");
  REQUIRE(graph.is_graph());
  CHECK_FALSE(graph.graph().nodes.empty());
  CHECK_THROWS_AS(graph.spec(), std::logic_error);
  // A command that takes model configs only refuses a graph by its kind, before reading it.
  const std::string bad_graph = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/bad_graphs/unknown_op.json";
  CHECK(input_error_text([&] { load_workload(bad_graph, "model configs only"); }) == bad_graph + ": model configs only");
  CHECK_THAT(input_error_text([] { load_workload("no-such-model"); }),
             Catch::Contains("no-such-model: no such file, folder or bundled model"));
}

TEST_CASE("malformed JSON is reported as JSON with line and column, never guessed to be a graph", "[runtime][workload]") {
  // A model config that is not valid JSON (issue: it was called "a graph, use compile and run").
  const std::string nan_config = temp_file("nan_model.json", "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": NaN\n}\n");
  const std::string message = input_error_text([&] { load_workload(nan_config); });
  CHECK_THAT(message, Catch::Contains(nan_config + ":3:"));
  CHECK_THAT(message, Catch::Contains("invalid JSON"));
  CHECK_THAT(message, !Catch::Contains("graph"));
  // Trailing garbage after a graph: still a JSON error.
  const std::string garbage = temp_file("garbage_graph.json", "{\"name\": \"g\", \"nodes\": []} }");
  CHECK_THAT(input_error_text([&] { load_workload(garbage); }), Catch::Contains(garbage + ":1:"));
  // Valid JSON that is neither: the model config parser names what is missing.
  const std::string neither = temp_file("neither.json", "{\"hidden_size\": 64}");
  CHECK_THAT(input_error_text([&] { load_workload(neither); }), Catch::Contains("key 'model_type': missing"));
  std::remove(nan_config.c_str());
  std::remove(garbage.c_str());
  std::remove(neither.c_str());
}

TEST_CASE("chip capacity is the memory plan's: activation quads and weight groups", "[runtime][capacity]") {
  const ChipCapacity c = chip_capacity(chip());
  // 2 hemispheres x 3 quads x 8192 words: one fp32 vector of 320 lanes per quad word.
  CHECK(c.activation_vectors == 49152);
  CHECK(c.activation_slices == 24);
  CHECK(c.activation_bytes == 49152LL * 320 * 4);
  // 2 hemispheres x 2 groups x 16 slices x 8192 words x 320 bytes.
  CHECK(c.weight_bytes == 167772160);
}

TEST_CASE("a model too large for one chip is told the chips it needs before any KV-cache message", "[runtime][capacity]") {
  // Llama-2-7B: 6.7 G int8 weights, and its KV caches at 4096 positions would not fit either.
  const TransformerSpec big = load_workload("llama-2-7b").spec();
  const std::string message = input_error_text([&] { check_model_fits(big, chip(), WeightType::Int8, 1, 4096); });
  CHECK_THAT(message, Catch::Contains("does not fit in one tsp-v1 chip: the weights alone are"));
  CHECK_THAT(message, Catch::Contains("chips are needed"));
  CHECK_THAT(message, !Catch::Contains("KV caches"));
  CHECK_THROWS_AS(check_kv_caches_fit(big, chip(), 1, 4096), InputError);
  // GPT-2's int8 weights fit; 64 sequences of 256 positions of KV cache do not:
  // 12 layers x 2 x 256 positions x ceil(768 / 320) = 3 tiles = 18,432 vectors a sequence,
  // so 49,152 / 18,432 = 2 sequences fit.
  const TransformerSpec gpt2 = load_workload("gpt2").spec();
  const std::string kv = input_error_text([&] { check_model_fits(gpt2, chip(), WeightType::Int8, 64, 256); });
  CHECK_THAT(kv, Catch::Contains("batch 64: the KV caches of 64 sequences x 256 positions"));
  CHECK_THAT(kv, Catch::Contains("at most 2 sequences fit"));
  CHECK_NOTHROW(check_model_fits(gpt2, chip(), WeightType::Int8, 2, 256));
  // At fp16 GPT-2's 124 M weights (249 MB) exceed the 168 MB of weight slices.
  CHECK_THAT(input_error_text([&] { check_model_fits(gpt2, chip(), WeightType::Fp16, 2, 256); }),
             Catch::Contains("about 2 chips are needed"));
}

TEST_CASE("the compiler attributes every node to its layer, through decompose and fusion", "[runtime][attribution]") {
  const TransformerSpec spec = load_workload("tiny-llama").spec();
  for (std::int64_t batch : {1, 2}) {
    INFO("batch " << batch);
    const Graph graph = build_transformer_graph(spec, 1, 3, batch);
    CompileOptions options;
    options.lowering.functional_data = false;
    options.sequences = batch;
    const CompileResult r = compile_graph(graph, chip(), options);
    // Every primitive node made from layer i's nodes (named "l{i}." by the front end) carries
    // layer i, and no other node does.
    int attributed = 0;
    for (const Node& n : r.primitive.nodes) {
      std::int64_t named = -1;
      if (n.name.size() > 1 && n.name[0] == 'l' && std::isdigit(static_cast<unsigned char>(n.name[1])))
        named = std::stoll(n.name.substr(1, n.name.find('.') - 1));
      INFO(n.name);
      CHECK(n.layer == named);
      attributed += n.layer >= 0;
    }
    CHECK(attributed > 10 * spec.layers);
    const LoweringStats& stats = r.lowered.stats;
    REQUIRE(static_cast<std::int64_t>(stats.layers.size()) == spec.layers);
    const auto cycles = stats.cycles_per_layer();
    std::int64_t sum = 0;
    for (auto c : cycles) {
      CHECK(c > 0);
      sum += c;
    }
    // The layers end in order, so their cycles add up to the last layer's end, which is
    // before the head's and so within the schedule.
    CHECK(sum == stats.layers.back().end_cycle);
    CHECK(sum < r.lowered.scheduled_length.value());
  }
}

TEST_CASE("weight MACs count each weight matmul once per row, and a mixture's routed experts", "[runtime]") {
  // tiny-llama decode: per row, every layer's q, k, v, o, gate, up, down and the head.
  const TransformerSpec s = load_workload("tiny-llama").spec();
  const std::int64_t kv = s.kv_heads * s.head_dim, q = s.heads * s.head_dim;
  const std::int64_t per_layer = s.hidden * q + 2 * s.hidden * kv + q * s.hidden + 3 * s.hidden * s.intermediate;
  const std::int64_t per_row = s.layers * per_layer + s.hidden * s.vocab_size;
  CHECK(weight_macs(build_transformer_graph(s, 1, 4, 1)) == per_row);
  CHECK(weight_macs(build_transformer_graph(s, 5, 0, 3)) == 15 * per_row);  // 3 sequences x 5 tokens
  // tiny-mixtral: the router and top_k of the experts' three matrices per row.
  const TransformerSpec m = load_workload("tiny-mixtral").spec();
  const std::int64_t mq = m.heads * m.head_dim, mkv = m.kv_heads * m.head_dim;
  const std::int64_t moe = m.hidden * m.experts + m.experts_per_token * 3 * m.hidden * m.intermediate;
  const std::int64_t m_row = m.layers * (m.hidden * mq + 2 * m.hidden * mkv + mq * m.hidden + moe) +
                             m.hidden * m.vocab_size;
  CHECK(weight_macs(build_transformer_graph(m, 1, 2, 1)) == m_row);
}

TEST_CASE("host rows pack into tiles and back, padding lanes and missing rows with zeros", "[runtime]") {
  // [3, 5] at 4 lanes: tile 0 holds columns 0-3, tile 1 column 4 and 3 lanes of padding.
  TensorPlacement p;
  p.rows = 3;
  p.cols = 5;
  p.tiles = {"t_0", "t_1"};
  std::vector<float> values;
  for (int i = 0; i < 10; ++i) values.push_back(static_cast<float>(i + 1));  // two rows given of three
  std::map<std::string, std::vector<double>> tiles;
  pack_rows(p, values, 4, tiles);
  CHECK(tiles.at("t_0") == std::vector<double>{1, 2, 3, 4, 6, 7, 8, 9, 0, 0, 0, 0});
  CHECK(tiles.at("t_1") == std::vector<double>{5, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0});
  const HostTensor back = unpack_rows(p, tiles, 4);
  CHECK(back.rows == 3);
  CHECK(back.cols == 5);
  CHECK(back.values == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0});
  CHECK_THROWS_AS(pack_rows(p, std::vector<float>(20, 1.0f), 4, tiles), std::logic_error);  // 4 rows of 3
}
