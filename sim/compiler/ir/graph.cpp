#include <cmath>
#include "compiler/ir/graph.hpp"

namespace lpusim {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::MatMul: return "matmul";
    case OpKind::Add: return "add";
    case OpKind::Sub: return "sub";
    case OpKind::Mul: return "mul";
    case OpKind::Max: return "max";
    case OpKind::Min: return "min";
    case OpKind::Neg: return "neg";
    case OpKind::Exp: return "exp";
    case OpKind::Exp2: return "exp2";
    case OpKind::Rsqrt: return "rsqrt";
    case OpKind::Tanh: return "tanh";
    case OpKind::Sigmoid: return "sigmoid";
    case OpKind::Relu: return "relu";
    case OpKind::Gelu: return "gelu";
    case OpKind::GeluTanh: return "gelu_tanh";
    case OpKind::Silu: return "silu";
    case OpKind::Scale: return "scale";
    case OpKind::Cast: return "cast";
    case OpKind::Softmax: return "softmax";
    case OpKind::LayerNorm: return "layernorm";
    case OpKind::RmsNorm: return "rmsnorm";
    case OpKind::Concat: return "concat";
    case OpKind::Slice: return "slice";
    case OpKind::Transpose: return "transpose";
    case OpKind::Gather: return "gather";
    case OpKind::Rope: return "rope";
    case OpKind::Attention: return "attention";
    case OpKind::MoeMlp: return "moe_mlp";
    case OpKind::SumRows: return "sum_rows";
    case OpKind::MaxRows: return "max_rows";
    case OpKind::Cvt: return "cvt";
    case OpKind::Greater: return "greater";
    case OpKind::GreaterEqual: return "greater_equal";
    case OpKind::Assign: return "assign";
    case OpKind::PermuteLanes: return "permute_lanes";
    case OpKind::AllReduce: return "all_reduce";
    case OpKind::Send: return "send";
    case OpKind::Recv: return "recv";
  }
  return "?";
}

std::int64_t Node::int_attr(const std::string& key, std::int64_t fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<std::int64_t>(&it->second)) return *v;
  if (auto d = std::get_if<double>(&it->second)) return static_cast<std::int64_t>(*d);
  return fallback;
}

double Node::float_attr(const std::string& key, double fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto d = std::get_if<double>(&it->second)) return *d;
  if (auto v = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*v);
  return fallback;
}

std::string Node::string_attr(const std::string& key, const std::string& fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<std::string>(&it->second)) return *v;
  return fallback;
}

int Graph::add_tensor(TensorInfo t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::find(const std::string& tensor_name) const {
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == tensor_name) return static_cast<int>(i);
  return -1;
}

std::int64_t Graph::elements(int tensor) const {
  std::int64_t n = 1;
  for (auto d : tensors[static_cast<std::size_t>(tensor)].shape) n *= d;
  return n;
}

const char* weight_type_name(WeightType t) {
  switch (t) {
    case WeightType::Int8: return "int8";
    case WeightType::Fp16: return "fp16";
    case WeightType::Fp8E4M3: return "fp8e4m3";
    case WeightType::Fp8E5M2: return "fp8e5m2";
  }
  return "fp16";
}

int weight_type_bytes(WeightType t) { return t == WeightType::Fp16 ? 2 : 1; }

WeightType stored_weight_type(const TensorInfo& weight, const WeightScenario& scenario) {
  // Constants the compiler made, and activations a matmul uses as weights (attention), are fp16.
  if (weight.init == "data" || weight.role != TensorRole::Weight) return WeightType::Fp16;
  if (!scenario.checkpoint_weights) return scenario.weights;
  if (weight.checkpoint_format.empty()) return WeightType::Fp16;
  return weight.checkpoint_format == "fp8e5m2" ? WeightType::Fp8E5M2 : WeightType::Fp8E4M3;
}

double llama4_query_scale(double beta, std::int64_t original_positions, std::int64_t position) {
  if (beta == 0.0) return 1.0;
  return 1.0 + beta * std::log(1.0 + std::floor(static_cast<double>(position) / static_cast<double>(original_positions)));
}

MoeLayout moe_layout(const Node& moe) {
  MoeLayout layout;
  layout.biases = moe.int_attr("biases", 0) != 0;
  return layout;
}

}  // namespace lpusim
