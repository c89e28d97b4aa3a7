// quantization: the number format of every matmul, decided once for the passes after it.
// A matmul takes the scenario's weight type (int8, fp8 or fp16) when every weight it
// multiplies is a model weight; constants the compiler made (norm sums, head reductions,
// routing spreads: init "data") stay fp16, which holds them exactly. int8 and fp8 weights are
// multiplied natively (activations quantised with the node's act_scale, which calibration may
// replace) or, with MatmulCompute::Fp16, dequantised into an fp16 MXM. The lowering stores
// int8 and fp8 weights with per-output-column scales max|w| / largest code.
#include <stdexcept>

#include "compiler/passes/passes.hpp"

namespace lpusim {

namespace {
DType dtype_of(const std::string& name) {
  if (name == "int8") return DType::Int8;
  if (name == "fp8e4m3") return DType::Fp8E4M3;
  if (name == "fp8e5m2") return DType::Fp8E5M2;
  if (name == "fp16") return DType::Fp16;
  throw std::logic_error("quantization: unknown weight_type '" + name + "'");
}
}  // namespace

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

void plan_quantization(Graph& graph, WeightType weights, MatmulCompute compute, bool checkpoint_weights) {
  for (auto& node : graph.nodes) {
    if (node.kind != OpKind::MatMul) continue;
    bool model_weights = true;
    std::string checkpoint;
    for (std::size_t i = 1; i < node.inputs.size(); i += 2) {
      const TensorInfo& w = graph.tensors[static_cast<std::size_t>(node.inputs[i])];
      if (w.init == "data") model_weights = false;
      if (i == 1) checkpoint = w.checkpoint_format;
      else if (w.checkpoint_format != checkpoint) checkpoint.clear();  // mixed terms: 16 bits
    }
    WeightType type = model_weights ? weights : WeightType::Fp16;
    if (checkpoint_weights) {
      type = !model_weights || checkpoint.empty() ? WeightType::Fp16
             : checkpoint == "fp8e5m2"            ? WeightType::Fp8E5M2
                                                  : WeightType::Fp8E4M3;  // fp8e4m3, and MXFP4's container
      if (model_weights && checkpoint == "mxfp4") node.attrs["mxfp4"] = std::int64_t{1};
    }
    node.attrs["weight_type"] = std::string(weight_type_name(type));
    if (type != WeightType::Fp16 && compute == MatmulCompute::Fp16) node.attrs["compute"] = std::string("fp16");
    const MatmulFormat format = matmul_format(node);
    if (format.scaled_activations() && !node.attrs.count("act_scale"))
      node.attrs["act_scale"] = default_act_scale(format.activations);
  }
}

MatmulFormat matmul_format(const Node& node) {
  MatmulFormat f;
  if (node.kind != OpKind::MatMul) return f;
  f.weights = dtype_of(node.string_attr("weight_type", "fp16"));
  f.activations = node.string_attr("compute", "native") == "fp16" ? DType::Fp16 : f.weights;
  f.mxfp4 = node.int_attr("mxfp4", 0) != 0;
  return f;
}

bool is_int8_matmul(const Node& node) { return matmul_format(node).activations == DType::Int8; }

}  // namespace lpusim
