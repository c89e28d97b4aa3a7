// Calibrate: the activation scale of every matmul with quantised activations (int8, or fp8
// native), from the activations an fp32 run of the graph actually produces. The text below
// says int8 and 127; fp8 uses its largest code (448 for e4m3, 57344 for e5m2) the same way.
//
// An int8 matmul quantises its input x with one scale s per node, q = round(x / s) clamped
// to +-127, so s = max|x| / 127 uses the whole int8 range without clipping the calibration
// data. The pass runs the fp32 interpreter of primitive graphs (compiler/interpreter/
// interpret.cpp) on a deterministic calibration input and sets each int8 matmul's
// act_scale to the max |value| over all its activation inputs (a matmul split over a
// lane concat has several) divided by 127. The scale changes values, not timing: the
// schedule is the same for any scale.
#include <algorithm>
#include <cmath>

#include "compiler/ir/weight_init.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/interpreter/interpret.hpp"

namespace lpusim {

namespace {
/// Uniform values in [-1, 1] from a splitmix64 stream seeded by the tensor's name.
std::vector<float> deterministic_uniform(const std::string& name, std::size_t count) {
  std::uint64_t state = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) state = (state ^ c) * 0x100000001b3ULL;
  std::vector<float> v(count);
  for (auto& x : v) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    x = static_cast<float>(static_cast<double>(z >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
  return v;
}

}  // namespace

void calibrate_int8_scales(Graph& graph, const Calibration& calibration) {
  bool needs_run = false;
  for (const auto& node : graph.nodes)
    if (matmul_format(node).scaled_activations() && !calibration.act_scales.count(node.name)) needs_run = true;
  std::map<std::string, std::vector<float>> observed;
  if (needs_run) {
    std::map<std::string, std::vector<float>> inputs = calibration.values;
    for (std::size_t i = 0; i < graph.tensors.size(); ++i) {
      const auto& t = graph.tensors[i];
      if (t.role == TensorRole::Input && !inputs.count(t.name))
        inputs[t.name] = deterministic_uniform(t.name, static_cast<std::size_t>(graph.elements(static_cast<int>(i))));
    }
    observed = interpret_primitive_graph(graph, inputs);
  }
  for (auto& node : graph.nodes) {
    const MatmulFormat format = matmul_format(node);
    if (!format.scaled_activations()) continue;
    if (auto given = calibration.act_scales.find(node.name); given != calibration.act_scales.end()) {
      node.act_scale = given->second;
      continue;
    }
    float max_abs = 0.0f;
    for (std::size_t i = 0; i < node.inputs.size(); i += 2)
      for (float v : observed.at(graph.tensors[static_cast<std::size_t>(node.inputs[i])].name))
        max_abs = std::max(max_abs, std::fabs(v));
    // An input that was all zero in calibration keeps the uncalibrated default.
    node.act_scale = max_abs > 0.0f && std::isfinite(max_abs) ? static_cast<double>(max_abs) / largest_code(format.activations)
                                                               : default_act_scale(format.activations);
  }
}

}  // namespace lpusim
