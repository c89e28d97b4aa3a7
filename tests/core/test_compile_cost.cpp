// The compile cost model (sim/compiler/cost, sim/frontend/transformer_cost): weight storage
// derived by hand from the lowering's block layout, the one-layer extrapolation, the
// instruction estimate against what the lowering really issues, and the refusals.
#include <catch2/catch.hpp>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "input_error_text.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "compiler/cost/compile_cost.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/transformer_cost.hpp"
#include "frontend/transformer_graph.hpp"
#include "frontend/transformer_spec.hpp"

using namespace lpusim;

namespace {
const ChipConfig& tsp() {
  static const ChipConfig c = load_chip_config(LPUSIM_TSP_V1);
  return c;
}

Graph one_matmul(std::int64_t k, std::int64_t n, const std::string& weight_name = "w") {
  const nlohmann::json j = {{"name", "m"},
                            {"inputs", {{"x", {2, k}}}},
                            {"weights", {{weight_name, {{"shape", {k, n}}}}}},
                            {"nodes", {{{"op", "matmul"}, {"inputs", {"x", weight_name}}, {"output", "y"}}}},
                            {"outputs", {"y"}}};
  Graph g = graph_from_json(j, "m.json");
  infer_shapes(g);
  return g;
}

using testing::input_error_text;
}  // namespace

TEST_CASE("cost: weights take whole 320-lane blocks, in lw words of 16 int8 or 8 fp16 rows", "[cost]") {
  // [64, 64]: one input tile, one output tile of 64 rows: ceil(64/16) = 4 int8 words, 8 fp16.
  CHECK(estimate_graph_cost(one_matmul(64, 64), tsp(), WeightType::Int8).weight_words == 4);
  CHECK(estimate_graph_cost(one_matmul(64, 64), tsp(), WeightType::Fp16).weight_words == 8);
  // [640, 330]: 2 input tiles x (a full output tile of 320 rows = 20 words + 10 rows = 1 word).
  const CompileCost c = estimate_graph_cost(one_matmul(640, 330), tsp(), WeightType::Int8);
  CHECK(c.weight_words == 42);
  CHECK(c.parameters == 640 * 330);
  CHECK(c.weight_sram_bytes == 42 * 16 * 320);
  CHECK(c.weight_word_capacity == 4 * 8192);
  // Named l0.*, it counts once per layer.
  CHECK(estimate_graph_cost(one_matmul(64, 64, "l0.w"), tsp(), WeightType::Int8, "l0.", 1000).weight_words == 4000);
}

TEST_CASE("cost: the instruction estimate is within 15% of what the lowering issues", "[cost]") {
  for (const char* model : {"tiny-llama", "tiny-gpt2", "tiny-mixtral"}) {
    const TransformerSpec spec = load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/" + model);
    for (const TransformerStep step : {TransformerStep{1, 7, 1}, TransformerStep{4, 0, 2}}) {
      const CompileCost cost = require_transformer_fits(spec, tsp(), WeightType::Int8, false, step);
      CompileOptions options;
      options.lowering.weights = WeightType::Int8;
      options.lowering.functional_data = false;
      const CompileResult r = compile_graph(build_transformer_graph(spec, step.tokens, step.past, step.batch), tsp(), options);
      INFO(model << " tokens " << step.tokens << " past " << step.past << " batch " << step.batch << ": estimated "
                 << cost.instructions << ", issued " << r.lowered.instructions);
      CHECK(static_cast<double>(cost.instructions) >= 0.85 * static_cast<double>(r.lowered.instructions));
      CHECK(static_cast<double>(cost.instructions) <= 1.15 * static_cast<double>(r.lowered.instructions));
      // The pipeline's own estimate, on the whole graph, agrees with the one-layer one.
      CHECK(static_cast<double>(r.cost.instructions) >= 0.95 * static_cast<double>(cost.instructions));
      CHECK(static_cast<double>(r.cost.instructions) <= 1.05 * static_cast<double>(cost.instructions));
    }
  }
}

TEST_CASE("cost: configs that cannot fit are refused from the config, with the numbers", "[cost]") {
  TransformerSpec spec = load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/tiny-llama");
  // 4096 layers, never built. int8 words per layer (hidden 512 = tiles of 320 + 192 rows, kv
  // 128, intermediate 1024 = 3 x 320 + 64): q, o [512, 512] 2 x (20 + 12) = 64 each; k, v
  // [512, 128] 2 x 8 = 16 each; gate, up [512, 1024] 2 x (60 + 4) = 128 each; down [1024, 512]
  // 4 x 32 = 128: 544. 4096 x 544 + the LM head [512, 512] 64 = 2228288 words over
  // 4 x 8192 = 32768 a chip: 68.0..., 69 chips.
  spec.layers = 4096;
  CHECK_THAT(input_error_text([&] { (void)require_transformer_fits(spec, tsp(), WeightType::Int8, false, {1, 4, 1}); }),
             Catch::Contains("does not fit in one tsp-v1 chip: the weights alone are") &&
                 Catch::Contains("about 69 chips are needed"));
  // The KV caches: 201 positions x 2 (k, v) x 128 lanes (one tile) x 2 layers = 804 vectors
  // per sequence; 64 sequences need more than the 49152 of the 24 activation slices.
  spec.layers = 2;
  CHECK_THAT(input_error_text([&] { (void)require_transformer_fits(spec, tsp(), WeightType::Int8, false, {1, 200, 64}); }),
             Catch::Contains("batch 64: 64 sequences x 201 positions need") && Catch::Contains("sequences fit at this context"));
  {
    setenv("LPUSIM_MAX_HOST_BYTES", "1000000", 1);
    CHECK_THAT(input_error_text([&] { (void)require_transformer_fits(spec, tsp(), WeightType::Int8, false, {1, 4, 1}); }),
               Catch::Contains("compiling it (") && Catch::Contains("of host memory, more than the 1.0 MiB available"));
    unsetenv("LPUSIM_MAX_HOST_BYTES");
  }
  ChipConfig small = tsp();
  small.mxm_rows = small.mxm_cols = 1;
  CHECK_THAT(input_error_text([&] { require_compilable_chip(small); }), Catch::Contains("key 'mxm.rows': the compiler needs"));
}

TEST_CASE("cost: a graph output that is a row or lane concat of inputs is computed", "[cost]") {
  for (int axis : {0, 1}) {
    const nlohmann::json j = {{"name", "c"},
                              {"inputs", {{"a", {2, 320}}, {"b", {2, 320}}}},
                              {"nodes", {{{"op", "concat"}, {"inputs", {"a", "b"}}, {"axis", axis}, {"output", "c"}}}},
                              {"outputs", {"c"}}};
    CompileOptions options;
    options.lowering.functional_data = false;
    const CompileResult r = compile_graph(graph_from_json(j, "c.json"), tsp(), options);
    INFO("axis " << axis);
    CHECK(r.lowered.instructions > 0);
    CHECK(r.lowered.placements.count("c") == 1);
  }
}

TEST_CASE("cost: the estimate holds for every family and weight format of the Hugging Face reader", "[cost]") {
  // Per-head q/k norms (qwen3, gemma3), whole-row q/k norms and norms after the sub-layers
  // (olmo2), sandwich norms and soft-capping (gemma2), a parallel block with partial rotary
  // (phi), MoE experts (qwen3_moe), and weights stored in fp8, as a checkpoint's fp8 or MXFP4,
  // or dequantised into an fp16 MXM: the one-layer estimate against the lowering, as above,
  // and the weights' bytes at the type each is stored in.
  const ChipConfig gen2 = load_chip_config(std::string(LPUSIM_SOURCE_DIR) + "/models/chips/lpu-gen2.json");
  struct Case {
    const char* model;
    WeightScenario weights;
  };
  const std::vector<Case> cases = {
      {"tiny-qwen3", WeightType::Int8},
      {"tiny-qwen3-moe", WeightType::Fp8E4M3},
      {"tiny-olmo2", WeightScenario(WeightType::Int8, MatmulCompute::Fp16)},
      {"tiny-gemma2", WeightType::Fp8E5M2},
      {"tiny-gemma3-text", WeightType::Int8},
      {"tiny-phi", WeightType::Fp16},
      {"tiny-llama-fp8", WeightScenario(WeightType::Fp16, MatmulCompute::Native, true)},
      {"tiny-mixtral-mxfp4", WeightScenario(WeightType::Fp16, MatmulCompute::Fp16, true)},
  };
  for (const Case& c : cases) {
    const TransformerSpec spec = load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/" + c.model);
    const TransformerStep step{4, 3, 1};
    const CompileCost cost = require_transformer_fits(spec, gen2, c.weights, false, step);
    CompileOptions options;
    options.lowering.weights = c.weights.weights;
    options.lowering.compute = c.weights.compute;
    options.lowering.checkpoint_weights = c.weights.checkpoint_weights;
    options.lowering.functional_data = false;
    const Graph graph = build_transformer_graph(spec, step.tokens, step.past, step.batch);
    const CompileResult r = compile_graph(graph, gen2, options);
    INFO(c.model << ": estimated " << cost.instructions << ", issued " << r.lowered.instructions);
    CHECK(static_cast<double>(cost.instructions) >= 0.85 * static_cast<double>(r.lowered.instructions));
    CHECK(static_cast<double>(cost.instructions) <= 1.15 * static_cast<double>(r.lowered.instructions));
    CHECK(static_cast<double>(r.cost.instructions) >= 0.95 * static_cast<double>(cost.instructions));
    CHECK(static_cast<double>(r.cost.instructions) <= 1.05 * static_cast<double>(cost.instructions));
    // Weight bytes before decompose (which turns a MoE router into a constant): every
    // parameter (q/k and sandwich norms, experts) at the type it is stored in, as the
    // lowering's capacity check counts them (model_weight_bytes).
    const std::int64_t bytes = model_weight_bytes(graph, c.weights.weights, c.weights.checkpoint_weights);
    Graph shaped = graph;
    infer_shapes(shaped);
    const CompileCost whole = estimate_graph_cost(shaped, gen2, c.weights);
    CHECK(whole.parameters == spec.parameters());
    CHECK(whole.weight_value_bytes == bytes);
    // One layer of each kind (tiny-qwen3-moe has a dense layer among its MoE ones), each
    // repeated: the same weights, words and parameters as the whole primitive graph.
    CHECK(cost.parameters == r.cost.parameters);
    CHECK(cost.weight_value_bytes == r.cost.weight_value_bytes);
    CHECK(cost.weight_words == r.cost.weight_words);
  }
}

TEST_CASE("cost: the intermediates' peak follows the lowering's order and frees after the last reader", "[cost]") {
  // x [4, 640] -> h = x w1 [4, 960] -> hb = h + b [4, 960] -> y = hb w2 [4, 320] (an output).
  const nlohmann::json j = {{"name", "chain"},
                            {"inputs", {{"x", {4, 640}}}},
                            {"weights", {{"w1", {{"shape", {640, 960}}}}, {"b", {{"shape", {960}}}}, {"w2", {{"shape", {960, 320}}}}}},
                            {"nodes", {{{"op", "matmul"}, {"inputs", {"x", "w1"}}, {"output", "h"}},
                                       {{"op", "add"}, {"inputs", {"h", "b"}}, {"output", "hb"}},
                                       {{"op", "matmul"}, {"inputs", {"hb", "w2"}}, {"output", "y"}}}},
                            {"outputs", {"y"}}};
  Graph g = graph_from_json(j, "chain.json");
  infer_shapes(g);
  // An intermediate of [4, 960] is 4 rows x 3 column tiles = 12 words. While the add runs,
  // h (its input) and hb (its output) are both live: 24; h is freed after the add, hb after
  // the second matmul; y is an output (resident, not an intermediate).
  CompileCost c = estimate_primitive_cost(g, tsp(), WeightType::Fp16, false);
  CHECK(c.peak_intermediate_words == 24);
  CHECK(c.largest_intermediate_rows == 4);
  CHECK(c.words_per_slice == 8192);
  CHECK(c.activations_fit());
  // 24 words more than the resident data leaves: refused by the count.
  c.resident_words = c.resident_word_capacity - 23;
  CHECK_FALSE(c.activations_fit());
  CHECK_THROWS_WITH(require_compile_fits(c, tsp(), WeightType::Fp16, "chain.json"),
                    Catch::Contains("the step's intermediates need at least") && Catch::Contains("(24 fp32 vectors)"));
  // A fused chain keeps the matmul's result on the streams: only hb is stored.
  g.nodes[0].fuse_into_next = true;
  CHECK(estimate_primitive_cost(g, tsp(), WeightType::Fp16, false).peak_intermediate_words == 12);
}
