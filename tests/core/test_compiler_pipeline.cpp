// The pipeline as a whole: every pass named, timed and verified (also the last-row pass a
// prefill uses), the typed fields passes hand each other, the per-layer and per-node
// attribution the lowering exports, and the limits a compiled program is checked against.
#include <catch2/catch.hpp>

#include <cctype>
#include <set>
#include <string>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "compiler/lower/verify_program.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/transformer_graph.hpp"
#include "frontend/transformer_spec.hpp"

using namespace lpusim;

namespace {
const std::string kModels = std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/";

TransformerSpec bundled(const std::string& name) { return load_transformer_spec(kModels + name + "/config.json"); }

CompileOptions timing_only() {
  CompileOptions o;
  o.lowering.functional_data = false;
  return o;
}
}  // namespace

TEST_CASE("every pass is named and timed, last_row_outputs among them", "[compiler]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const TransformerSpec s = bundled("tiny-gpt2");
  CompileOptions options = timing_only();
  options.last_row_outputs = true;
  options.dump_after = "last_row_outputs";
  const CompileResult r = compile_graph(build_transformer_graph(s, 4, 0, 1), chip, options);
  for (const auto& pass : pass_names()) CHECK(r.pass_seconds.count(pass) == 1);
  CHECK(r.pass_seconds.size() == pass_names().size());
  // The LM head reads the last row only: a row slice of the final norm's output.
  CHECK(r.dump.find("final_norm.last_row = slice(final_norm)") != std::string::npos);
  CHECK(r.dump.find("logits") != std::string::npos);
  bool last_row_head = false;
  for (const auto& n : r.primitive.nodes)
    if (n.name == "logits") last_row_head = r.primitive.tensors[static_cast<std::size_t>(n.outputs[0])].shape[0] == 1;
  CHECK(last_row_head);
}

TEST_CASE("last_row_outputs keeps the last row of each sequence of a batch", "[compiler]") {
  const TransformerSpec s = bundled("tiny-llama");
  Graph g = build_transformer_graph(s, 3, 0, 2);
  infer_shapes(g);
  keep_last_output_rows(g, 2);
  verify_graph(g, "last_row_outputs");
  int slices = 0;
  for (const auto& n : g.nodes)
    if (n.kind == OpKind::Slice && n.name.find(".last_row.s") != std::string::npos) {
      ++slices;
      CHECK(n.int_attr("end", 0) - n.int_attr("begin", 0) == 1);
      CHECK((n.int_attr("begin", -1) == 2 || n.int_attr("begin", -1) == 5));  // rows 2 and 5 of 2 x 3
    }
  CHECK(slices == 2);
  CHECK(g.tensors[static_cast<std::size_t>(g.find("logits"))].shape == std::vector<std::int64_t>{2, s.vocab_size});
}

TEST_CASE("passes hand each other typed fields, and the verifier checks them", "[compiler]") {
  const TransformerSpec s = bundled("tiny-llama");
  Graph g = build_transformer_graph(s, 2, 0, 1);
  infer_shapes(g);
  // The front end sets the layer of every node of a layer, and only of those.
  for (const auto& n : g.nodes) {
    const bool in_layer = n.name.size() > 1 && n.name[0] == 'l' && std::isdigit(static_cast<unsigned char>(n.name[1]));
    CHECK(in_layer == (n.layer >= 0));
    if (in_layer) CHECK(n.name.rfind(fmt::format("l{}.", n.layer), 0) == 0);
  }
  Graph p = decompose(g);
  for (const auto& n : p.nodes) CHECK_FALSE(n.weight_type);
  std::set<int> layers;
  for (const auto& n : p.nodes) layers.insert(n.layer);
  CHECK(layers.size() == static_cast<std::size_t>(s.layers) + 1);  // every layer, and -1 (LM head)
  plan_quantization(p, WeightType::Int8);
  verify_graph(p, "quantization");
  int int8 = 0, fp16 = 0;
  for (const auto& n : p.nodes) {
    if (n.kind != OpKind::MatMul) continue;
    REQUIRE(n.weight_type);
    if (*n.weight_type == WeightType::Int8) {
      ++int8;
      CHECK(n.act_scale == kDefaultActScale);
    } else {
      ++fp16;  // constants the compiler made (norm sums)
      CHECK_FALSE(n.act_scale);
    }
  }
  CHECK(int8 > 0);
  CHECK(fp16 > 0);
  // What a broken pass would leave behind.
  Graph broken = p;
  for (auto& n : broken.nodes)
    if (n.kind != OpKind::MatMul) {
      n.weight_type = WeightType::Fp16;
      break;
    }
  CHECK_THROWS_AS(verify_graph(broken, "quantization"), std::logic_error);
  broken = p;
  for (auto& n : broken.nodes)
    if (is_int8_matmul(n)) {
      n.act_scale.reset();
      break;
    }
  CHECK_THROWS_AS(verify_graph(broken, "calibration"), std::logic_error);
  broken = p;
  for (auto& n : broken.nodes)
    if (n.kind == OpKind::MatMul) n.weight_type.reset();
  CHECK_THROWS_AS(verify_graph(broken, "fuse_pointwise"), std::logic_error);
  CHECK_NOTHROW(verify_graph(broken, "decompose"));
}

TEST_CASE("the lowering attributes every instruction to a node and every node to its layer", "[compiler]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const TransformerSpec s = bundled("tiny-llama");
  const CompileResult r = compile_graph(build_transformer_graph(s, 1, 3, 1), chip, timing_only());
  const LoweringStats& st = r.lowered.stats;
  REQUIRE(st.layers.size() == static_cast<std::size_t>(s.layers));
  CHECK(st.nodes.size() == r.primitive.nodes.size());
  UnitIssueSlots total = st.outside_layers.issued;
  std::int64_t previous_end = 0, cycles = 0;
  for (std::size_t l = 0; l < st.layers.size(); ++l) {
    const auto& layer = st.layers[l];
    CHECK(layer.layer == static_cast<int>(l));
    CHECK(layer.issued.mxm > 0);  // every layer has matmuls
    CHECK(layer.issued.vxm > 0);
    CHECK(layer.end_cycle > previous_end);  // layers finish in order in a decode step
    cycles += layer.cycles;
    previous_end = layer.end_cycle;
    total += layer.issued;
  }
  CHECK(cycles == st.layers.back().end_cycle);  // the layers' shares add up to the last one's end
  // Every instruction issued (counting repeats) is attributed to exactly one node.
  CHECK(total.mem + total.vxm + total.mxm + total.sxm == r.lowered.instructions);
  for (const auto& n : st.nodes) {
    CHECK(n.end_cycle <= r.lowered.scheduled_length.value());
    if (n.layer >= 0) CHECK(n.end_cycle <= st.layers[static_cast<std::size_t>(n.layer)].end_cycle);
  }
  CHECK(st.outside_layers.end_cycle > st.layers.back().end_cycle);  // the LM head comes last
}

TEST_CASE("a compiled program is checked against the loader's limits before it is written", "[compiler]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const CompileResult r = compile_graph(build_transformer_graph(bundled("tiny-gpt2"), 2, 0, 1), chip, timing_only());
  std::int64_t lines = 0;
  for (const auto& q : r.lowered.program.queues)
    for (const auto& item : q.items) lines += item.kind == QueueItem::Kind::Instruction;
  CHECK_NOTHROW(verify_lowered_program(r.lowered.program, lines));
  try {
    verify_lowered_program(r.lowered.program, lines - 1);
    FAIL("a program one line over the limit was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(fmt::format("{} instruction lines, more than the {}", lines, lines - 1)) !=
          std::string::npos);
  }
}
