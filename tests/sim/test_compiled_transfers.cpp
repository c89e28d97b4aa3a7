// Compiled C2C transfers (compiler/lower/c2c_transfers.hpp): graphs with Send, Recv and
// AllReduce nodes compiled for a system (compile_system) and simulated on it
// (run_compiled_system). The values must arrive unchanged, every chip must run exactly its
// scheduled length, and no hazard may be reported (run_compiled_system throws on one).
#include <catch2/catch.hpp>

#include <cmath>

#include "arch/config/system_config.hpp"
#include "compiler/pipeline.hpp"
#include "runtime/system_run.hpp"

using namespace lpusim;

namespace {

SystemConfig groq_node() {
  return load_system_config(LPUSIM_SOURCE_DIR "/models/systems/groq-node.json",
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

Node op(OpKind kind, const std::string& name, std::vector<int> inputs, std::vector<int> outputs) {
  Node n;
  n.kind = kind;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

/// Chip `chip`'s graph of an all-reduce over `group`: input "partial", output "sum".
Graph all_reduce_graph(int chip, std::int64_t rows, std::int64_t cols, const std::vector<int>& group) {
  Graph g;
  g.name = "chip" + std::to_string(chip);
  const int p = g.add_tensor(tensor("partial", rows, cols, TensorRole::Input));
  const int s = g.add_tensor(tensor("sum", rows, cols, TensorRole::Output));
  Node ar = op(OpKind::AllReduce, "ar", {p}, {s});
  ar.group = group;
  g.nodes.push_back(ar);
  return g;
}

std::vector<float> ramp(std::int64_t n, float scale) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = scale * static_cast<float>((i * 37) % 101 - 50);
  return v;
}

}  // namespace

TEST_CASE("a tensor sent from chip 0 arrives on chip 1 unchanged and on time", "[transfers]") {
  const SystemConfig system = groq_node();
  const std::int64_t rows = 3, cols = 400;  // two tiles: 3 x 2 x 4 byte planes = 24 vectors
  Graph sender;
  sender.name = "sender";
  const int x = sender.add_tensor(tensor("x", rows, cols, TensorRole::Input));
  Node send = op(OpKind::Send, "send", {x}, {});
  send.peer = 1;
  sender.nodes.push_back(send);
  Graph receiver;
  receiver.name = "receiver";
  const int y = receiver.add_tensor(tensor("y", rows, cols, TensorRole::Intermediate));
  const int z = receiver.add_tensor(tensor("z", rows, cols, TensorRole::Output));
  Node recv = op(OpKind::Recv, "recv", {}, {y});
  recv.peer = 0;
  receiver.nodes.push_back(recv);
  Node copy = op(OpKind::Scale, "copy", {y}, {z});
  copy.attrs["value"] = 2.0;
  receiver.nodes.push_back(copy);

  CompileOptions options;
  options.lowering.weights = WeightType::Fp16;
  std::vector<CompileResult> compiled = compile_system({sender, receiver}, system, options);
  REQUIRE(compiled.size() == 2);
  const std::vector<float> values = ramp(rows * cols, 0.25f);
  const SystemStepResult r = run_compiled_system(system, std::move(compiled), true, {{{"x", values}}, {}},
                                                 {{}, {"z"}}, "transfer");
  CHECK(r.simulated_equals_scheduled());
  const HostTensor& got = r.outputs[1].at("z");
  REQUIRE(got.values.size() == values.size());
  double worst = 0;
  for (std::size_t i = 0; i < values.size(); ++i) worst = std::max(worst, std::fabs(got.values[i] - 2.0 * values[i]));
  CHECK(worst == 0.0);
  // 24 vectors over one link, 22 cycles each (320 bytes at 4 x 28 Gbps x 64/66 and 900 MHz),
  // then 216 cycles of flight: the receiver cannot finish before 24 x 22 + 216 = 744 cycles.
  CHECK(r.simulated.chips[0].c2c_vectors_sent == 24);
  CHECK(r.simulated.chips[1].c2c_vectors_received == 24);
  CHECK(r.scheduled[1].value() > 24 * 22 + 216);
  CHECK(r.simulated.chips[0].c2c_link_busy_cycles == 24 * 22);
}

TEST_CASE("compiled transfers take the same cycles in timing-only mode", "[transfers]") {
  const SystemConfig system = groq_node();
  std::vector<Graph> graphs;
  const std::vector<int> group{0, 1, 2};
  for (int c : group) graphs.push_back(all_reduce_graph(c, 4, 700, group));
  CompileOptions functional;
  functional.lowering.weights = WeightType::Fp16;
  CompileOptions timing = functional;
  timing.lowering.functional_data = false;
  const SystemStepResult f = run_compiled_system(system, compile_system(graphs, system, functional), true, {}, {}, "f");
  const SystemStepResult t = run_compiled_system(system, compile_system(graphs, system, timing), false, {}, {}, "t");
  CHECK(f.simulated_equals_scheduled());
  CHECK(t.simulated_equals_scheduled());
  REQUIRE(f.scheduled.size() == t.scheduled.size());
  for (std::size_t c = 0; c < f.scheduled.size(); ++c) {
    CHECK(f.simulated.chips[c].total_cycles == t.simulated.chips[c].total_cycles);
    // 2 peers x 4 rows x 3 tiles (700 lanes) x 4 planes, 22 cycles each (320 bytes at
    // 4 x 28 Gbps x 64/66, 900 MHz).
    CHECK(f.simulated.chips[c].c2c_link_busy_cycles == 2 * 4 * 3 * 4 * 22);
    CHECK(t.simulated.chips[c].c2c_link_busy_cycles == 2 * 4 * 3 * 4 * 22);
  }
}

TEST_CASE("an all-reduce over four chips gives each chip the same sum", "[transfers]") {
  const SystemConfig system = groq_node();
  const std::int64_t rows = 2, cols = 100;
  const std::vector<int> group{0, 1, 2, 3};
  std::vector<Graph> graphs;
  std::vector<std::map<std::string, std::vector<float>>> inputs;
  std::vector<float> want(static_cast<std::size_t>(rows * cols), 0.0f);
  for (int c : group) {
    graphs.push_back(all_reduce_graph(c, rows, cols, group));
    inputs.push_back({{"partial", ramp(rows * cols, 0.5f + static_cast<float>(c))}});
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += inputs.back().at("partial")[i];
  }
  CompileOptions options;
  options.lowering.weights = WeightType::Fp16;
  std::vector<CompileResult> compiled = compile_system(graphs, system, options);
  const SystemStepResult r = run_compiled_system(system, std::move(compiled), true, inputs,
                                                 {{"sum"}, {"sum"}, {"sum"}, {"sum"}}, "all_reduce");
  CHECK(r.simulated_equals_scheduled());
  for (int c : group) {
    const auto& got = r.outputs[static_cast<std::size_t>(c)].at("sum").values;
    REQUIRE(got.size() == want.size());
    // Every chip adds in rank order: the same fp32 sums as the loop above.
    std::size_t differ = 0;
    for (std::size_t i = 0; i < want.size(); ++i) differ += got[i] != want[i] ? 1 : 0;
    CHECK(differ == 0);
    // Direct algorithm: 3 peers x 2 rows x 1 tile x 4 planes = 24 vectors out of each chip.
    CHECK(r.simulated.chips[static_cast<std::size_t>(c)].c2c_vectors_sent == 24);
  }
}
