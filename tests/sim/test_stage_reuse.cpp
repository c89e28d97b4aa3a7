// The stage gate (lower_system) and stage classes (runtime/stage_reuse.hpp): a gated stage's
// schedule from its gate on does not depend on when its hand-off came, and stages are put in
// one class only where their links have the same shape.
#include <catch2/catch.hpp>

#include "arch/config/system_config.hpp"
#include "compiler/pipeline.hpp"
#include "runtime/stage_reuse.hpp"

using namespace lpusim;

namespace {

SystemConfig bundled_system(const std::string& name) {
  return load_system_config(LPUSIM_SOURCE_DIR "/models/systems/" + name + ".json",
                            [](const std::string& chip, const std::string&) {
                              return std::string(LPUSIM_SOURCE_DIR "/models/chips/") + chip + ".json";
                            });
}

TensorInfo tensor(const std::string& name, std::int64_t rows, std::int64_t cols, TensorRole role) {
  TensorInfo t;
  t.name = name;
  t.shape = {rows, cols};
  t.role = role;
  return t;
}

Node scale_node(const std::string& name, int in, int out, double value) {
  Node scale;
  scale.kind = OpKind::Scale;
  scale.name = name;
  scale.inputs = {in};
  scale.outputs = {out};
  scale.attrs["value"] = value;
  return scale;
}

PartitionPlan even_plan(int tp, int pp, std::int64_t layers_per_stage) {
  PartitionPlan plan;
  plan.tp = tp;
  plan.pp = pp;
  for (int k = 0; k < pp; ++k) plan.stages.push_back(LayerRange{k * layers_per_stage, (k + 1) * layers_per_stage});
  return plan;
}

/// Three chips in a line of stages: chip 0 scales its input `delay_ops` times and sends it;
/// chip 1 receives it (a hand-off), scales it twice and sends it on, and scales an input of
/// its own (work that needs no hand-off: ungated, it would run at once); chip 2 receives it
/// and scales it into the output.
std::vector<Graph> line_of_stages(int delay_ops) {
  const std::int64_t rows = 2, cols = 640;
  std::vector<Graph> graphs(3);
  Graph& first = graphs[0];
  first.name = "stage0";
  int x = first.add_tensor(tensor("x", rows, cols, TensorRole::Input));
  for (int i = 0; i < delay_ops; ++i) {
    const int y = first.add_tensor(tensor("x" + std::to_string(i), rows, cols, TensorRole::Intermediate));
    first.nodes.push_back(scale_node("delay" + std::to_string(i), x, y, 1.0));
    x = y;
  }
  for (int k = 0; k < 3; ++k) {
    Graph& g = graphs[static_cast<std::size_t>(k)];
    if (k > 0) {
      g.name = "stage" + std::to_string(k);
      x = g.add_tensor(tensor("in", rows, cols, TensorRole::Intermediate));
      Node recv;
      recv.kind = OpKind::Recv;
      recv.name = "handoff";
      recv.outputs = {x};
      recv.peer = k - 1;
      recv.stage_input = true;
      g.nodes.push_back(recv);
      if (k == 1) {
        const int own = g.add_tensor(tensor("own", rows, cols, TensorRole::Input));
        const int own_out = g.add_tensor(tensor("own_out", rows, cols, TensorRole::Output));
        g.nodes.push_back(scale_node("own_work", own, own_out, 3.0));
      }
      for (int i = 0; i < 2; ++i) {
        const bool out = k == 2 && i == 1;
        const int y = g.add_tensor(tensor("y" + std::to_string(i), rows, cols,
                                          out ? TensorRole::Output : TensorRole::Intermediate));
        g.nodes.push_back(scale_node("work" + std::to_string(i), x, y, 0.5));
        x = y;
      }
    }
    if (k < 2) {
      Node send;
      send.kind = OpKind::Send;
      send.name = "handoff_out";
      send.inputs = {x};
      send.peer = k + 1;
      g.nodes.push_back(send);
    }
  }
  return graphs;
}

std::vector<CompileResult> compile_line(int delay_ops) {
  CompileOptions options;
  options.lowering.weights = WeightType::Fp16;
  options.lowering.functional_data = false;
  options.pipeline_stages = {0, 1, 2};
  return compile_system(line_of_stages(delay_ops), bundled_system("groq-node"), options);
}

}  // namespace

TEST_CASE("a gated stage starts its own work at its gate and is scheduled alike whenever its hand-off came",
          "[stage_reuse]") {
  const std::vector<CompileResult> early = compile_line(0), late = compile_line(6);
  for (const auto* run : {&early, &late}) {
    const LoweringStats& s1 = (*run)[1].lowered.stats;
    const LoweringStats& s2 = (*run)[2].lowered.stats;
    // The hand-off crosses a link of 216 cycles' latency: each gate is at least that far on.
    CHECK(s1.stage_gate_cycle > 216);
    CHECK(s2.stage_gate_cycle > s1.stage_gate_cycle + 216);
    for (const NodeAttribution& n : s1.nodes)
      if (n.name != "handoff") CHECK(n.end_cycle > s1.stage_gate_cycle);
  }
  // Chip 0's six extra ops move stage 1's gate; every node of stage 1 moves with it, cycle
  // for cycle, and so do its program's end and stage 2's gate.
  const LoweringStats& a = early[1].lowered.stats;
  const LoweringStats& b = late[1].lowered.stats;
  const std::int64_t shift = b.stage_gate_cycle - a.stage_gate_cycle;
  CHECK(shift > 0);
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (std::size_t i = 0; i < a.nodes.size(); ++i)
    if (a.nodes[i].name != "handoff") CHECK(b.nodes[i].end_cycle - a.nodes[i].end_cycle == shift);
  CHECK(late[1].lowered.scheduled_length.value() - early[1].lowered.scheduled_length.value() == shift);
  CHECK(late[2].lowered.stats.stage_gate_cycle - early[2].lowered.stats.stage_gate_cycle == shift);
}

TEST_CASE("stages on consecutive nodes of a GroqRack are one class: first - middle - the one before the last - last",
          "[stage_reuse]") {
  const SystemConfig rack = bundled_system("groq-rack");
  const StageClasses classes = classify_stages_by_plan(even_plan(8, 9, 3), rack);
  CHECK(classes.representative == std::vector<int>{0, 1, 1, 1, 1, 1, 1, 7, 8});
  CHECK(classes.classes() == 4);
  // Four chips a stage, two stages a node: a stage on a node's first half and one on its
  // second use other ports for their hand-offs, so they are classes of their own.
  const StageClasses halves = classify_stages_by_plan(even_plan(4, 8, 1), rack);
  CHECK(halves.classes() > 4);
  CHECK(halves.classes() < 8);
}

TEST_CASE("uneven stages are classes of their own", "[stage_reuse]") {
  const SystemConfig node = bundled_system("groq-node");
  PartitionPlan plan = even_plan(1, 5, 2);
  plan.stages[2] = LayerRange{4, 7};  // three layers in the middle stage
  plan.stages[3] = LayerRange{7, 9};
  plan.stages[4] = LayerRange{9, 11};
  const StageClasses classes = classify_stages_by_plan(plan, node);
  CHECK(classes.representative[2] == 2);
  CHECK(classes.representative[1] != classes.representative[2]);
}
