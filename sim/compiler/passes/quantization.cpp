// quantization: the number format of every matmul, decided once for the passes after it and
// kept in the node's typed fields (weight_type, matmul_compute, mxfp4_weights, act_scale).
// A matmul takes the scenario's weight type (int8, fp8 or fp16) when every weight it
// multiplies is a model weight; constants the compiler made (norm sums, head reductions,
// routing spreads: init "data") stay fp16, which holds them exactly. int8 and fp8 weights are
// multiplied natively (activations quantised with the node's act_scale, which calibration may
// replace) or, with MatmulCompute::Fp16, dequantised into an fp16 MXM. The lowering stores
// int8 and fp8 weights with per-output-column scales max|w| / largest code.
#include "compiler/passes/passes.hpp"

namespace lpusim {

DType weight_dtype(WeightType type) {
  switch (type) {
    case WeightType::Int8: return DType::Int8;
    case WeightType::Fp16: return DType::Fp16;
    case WeightType::Fp8E4M3: return DType::Fp8E4M3;
    case WeightType::Fp8E5M2: return DType::Fp8E5M2;
  }
  return DType::Fp16;
}

double largest_code(DType type) {
  switch (type) {
    case DType::Int8: return 127.0;
    case DType::Fp8E4M3: return 448.0;
    case DType::Fp8E5M2: return 57344.0;
    default: return 0.0;
  }
}

double default_act_scale(DType activations) {
  return activations == DType::Int8 ? kDefaultActScale : 4.0 / largest_code(activations);
}

void plan_quantization(Graph& graph, const WeightScenario& scenario) {
  for (auto& node : graph.nodes) {
    if (node.kind != OpKind::MatMul) continue;
    // One format per node keeps the accumulator type uniform: terms stored differently (a
    // constant beside a model weight, or checkpoint formats that differ) make it fp16.
    std::optional<WeightType> type;
    bool mxfp4 = scenario.checkpoint_weights;
    for (std::size_t i = 1; i < node.inputs.size(); i += 2) {
      const TensorInfo& w = graph.tensors[static_cast<std::size_t>(node.inputs[i])];
      const WeightType t = stored_weight_type(w, scenario);
      type = !type || *type == t ? t : WeightType::Fp16;
      mxfp4 = mxfp4 && w.init != "data" && w.checkpoint_format == "mxfp4";
    }
    node.weight_type = type.value_or(WeightType::Fp16);
    node.mxfp4_weights = mxfp4 && node.weight_type == WeightType::Fp8E4M3;
    node.matmul_compute = node.weight_type != WeightType::Fp16 ? scenario.compute : MatmulCompute::Native;
    const MatmulFormat format = matmul_format(node);
    if (!format.scaled_activations()) node.act_scale.reset();
    else if (!node.act_scale) node.act_scale = default_act_scale(format.activations);
  }
}

MatmulFormat matmul_format(const Node& node) {
  MatmulFormat f;
  if (node.kind != OpKind::MatMul || !node.weight_type) return f;
  f.weights = weight_dtype(*node.weight_type);
  f.activations = node.matmul_compute == MatmulCompute::Fp16 ? DType::Fp16 : f.weights;
  f.mxfp4 = node.mxfp4_weights;
  return f;
}

bool is_int8_matmul(const Node& node) { return matmul_format(node).activations == DType::Int8; }

}  // namespace lpusim
