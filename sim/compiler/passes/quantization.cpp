// quantization: the number format of every matmul, decided once for the passes after it.
// A matmul runs in int8 when the scenario asks for int8 weights and every weight it
// multiplies is a model weight; constants the compiler made (norm sums, head reductions,
// routing spreads: init "data") stay fp16, which holds them exactly. An int8 matmul gets
// the default activation scale, which calibration may replace; the lowering stores its
// weights with per-output-column scales max|w| / 127.
#include "compiler/passes/passes.hpp"

namespace lpusim {

void plan_quantization(Graph& graph, WeightType weights) {
  for (auto& node : graph.nodes) {
    if (node.kind != OpKind::MatMul) continue;
    bool int8 = weights == WeightType::Int8;
    for (std::size_t i = 1; i < node.inputs.size(); i += 2)
      if (graph.tensors[static_cast<std::size_t>(node.inputs[i])].init == "data") int8 = false;
    node.weight_type = int8 ? WeightType::Int8 : WeightType::Fp16;
    if (int8 && !node.act_scale) node.act_scale = kDefaultActScale;
    if (!int8) node.act_scale.reset();
  }
}

bool is_int8_matmul(const Node& node) {
  return node.kind == OpKind::MatMul && node.weight_type == WeightType::Int8;
}

}  // namespace lpusim
