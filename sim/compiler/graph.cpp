#include "compiler/graph.hpp"

#include <fmt/format.h>

namespace lpusim {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::MatMul: return "MatMul";
    case OpKind::Add: return "Add";
    case OpKind::Sub: return "Sub";
    case OpKind::Mul: return "Mul";
    case OpKind::Max: return "Max";
    case OpKind::Min: return "Min";
    case OpKind::Neg: return "Neg";
    case OpKind::Exp: return "Exp";
    case OpKind::Exp2: return "Exp2";
    case OpKind::Rsqrt: return "Rsqrt";
    case OpKind::Tanh: return "Tanh";
    case OpKind::Sigmoid: return "Sigmoid";
    case OpKind::Relu: return "Relu";
    case OpKind::Gelu: return "Gelu";
    case OpKind::GeluTanh: return "GeluTanh";
    case OpKind::Silu: return "Silu";
    case OpKind::Scale: return "Scale";
    case OpKind::Cast: return "Cast";
    case OpKind::Softmax: return "Softmax";
    case OpKind::LayerNorm: return "LayerNorm";
    case OpKind::RmsNorm: return "RmsNorm";
    case OpKind::Concat: return "Concat";
    case OpKind::Slice: return "Slice";
    case OpKind::Transpose: return "Transpose";
    case OpKind::Gather: return "Gather";
    case OpKind::Rope: return "Rope";
    case OpKind::Attention: return "Attention";
    case OpKind::MoeMlp: return "MoeMlp";
  }
  return "?";
}

std::int64_t Node::int_attr(const std::string& key, std::int64_t fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return *v;
  return fallback;
}

double Node::float_attr(const std::string& key, double fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<double>(&it->second)) return *v;
  // An integer attribute read as a number is the same value (e.g. "window": 4096).
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*v);
  return fallback;
}

std::string Node::string_attr(const std::string& key, const std::string& fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
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
  for (const auto d : tensors.at(static_cast<std::size_t>(tensor)).shape) n *= d;
  return n;
}

}  // namespace lpusim
