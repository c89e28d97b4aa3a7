#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "arch/isa/isa.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

bool is_primitive(OpKind k) {
  switch (k) {
    case OpKind::MatMul: case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min:
    case OpKind::Neg: case OpKind::Exp: case OpKind::Exp2: case OpKind::Rsqrt: case OpKind::Tanh: case OpKind::Relu:
    case OpKind::Scale: case OpKind::SumRows: case OpKind::MaxRows: case OpKind::Assign: case OpKind::Slice:
    case OpKind::Concat: case OpKind::PermuteLanes: case OpKind::Greater: case OpKind::GreaterEqual:
    case OpKind::AllReduce: case OpKind::Send: case OpKind::Recv:
      return true;
    default:
      return false;
  }
}

namespace {
/// Which of the pipeline's guarantees hold after a pass.
bool after_any(const std::string& pass, std::initializer_list<const char*> passes) {
  for (const char* p : passes)
    if (pass == p) return true;
  return false;
}
}  // namespace

void verify_graph(const Graph& g, const std::string& after) {
  auto fail = [&](const std::string& what) {
    throw std::logic_error(fmt::format("graph verifier after pass '{}': {}", after, what));
  };
  const bool primitive = after_any(after, {"decompose", "expand_collectives", "quantization", "calibration", "fuse_pointwise"});
  const bool formats = after_any(after, {"quantization", "calibration", "fuse_pointwise"});
  std::vector<bool> defined(g.tensors.size(), false);
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    const auto& t = g.tensors[i];
    if (t.role == TensorRole::Input || t.role == TensorRole::Weight || t.role == TensorRole::State) defined[i] = true;
  }
  for (const auto& node : g.nodes) {
    for (int in : node.inputs) {
      if (in < 0 || static_cast<std::size_t>(in) >= g.tensors.size()) fail(fmt::format("node '{}' reads tensor id {}", node.name, in));
      if (!defined[static_cast<std::size_t>(in)])
        fail(fmt::format("node '{}' reads '{}' before it is computed", node.name, g.tensors[static_cast<std::size_t>(in)].name));
    }
    for (int out : node.outputs) {
      if (out < 0 || static_cast<std::size_t>(out) >= g.tensors.size()) fail(fmt::format("node '{}' writes tensor id {}", node.name, out));
      if (defined[static_cast<std::size_t>(out)]) fail(fmt::format("tensor '{}' is computed twice", g.tensors[static_cast<std::size_t>(out)].name));
      defined[static_cast<std::size_t>(out)] = true;
      if (g.tensors[static_cast<std::size_t>(out)].shape.empty())
        fail(fmt::format("tensor '{}' has no shape", g.tensors[static_cast<std::size_t>(out)].name));
    }
    if (primitive && !is_primitive(node.kind))
      fail(fmt::format("node '{}' is still a {} after decompose", node.name, op_name(node.kind)));
    // The number formats: every matmul has one once quantization ran, nothing else ever.
    const bool decided = node.weight_type || node.matmul_compute != MatmulCompute::Native || node.mxfp4_weights;
    if (node.kind != OpKind::MatMul && (decided || node.act_scale))
      fail(fmt::format("node '{}' ({}) carries a matmul's number format", node.name, op_name(node.kind)));
    if (node.kind == OpKind::MatMul && formats && !node.weight_type)
      fail(fmt::format("matmul '{}' has no weight type", node.name));
    if (node.kind == OpKind::MatMul && !formats && decided)
      fail(fmt::format("matmul '{}' has a number format before the quantization pass", node.name));
    if (node.weight_type == WeightType::Fp16 && (node.matmul_compute != MatmulCompute::Native || node.mxfp4_weights))
      fail(fmt::format("fp16 matmul '{}' is marked as dequantised or MXFP4", node.name));
    if (node.mxfp4_weights && node.weight_type != WeightType::Fp8E4M3)
      fail(fmt::format("matmul '{}' holds MXFP4 weights in {}, not fp8e4m3", node.name,
                       weight_type_name(node.weight_type.value_or(WeightType::Fp16))));
    if (node.weight_type) {
      const MatmulFormat format = matmul_format(node);
      if (format.scaled_activations() && !(node.act_scale && std::isfinite(*node.act_scale) && *node.act_scale > 0))
        fail(fmt::format("{} matmul '{}' has no finite positive activation scale", dtype_name(format.activations), node.name));
      if (!format.scaled_activations() && node.act_scale)
        fail(fmt::format("matmul '{}' with fp16 activations carries an activation scale", node.name));
    }
    if (node.fuse_into_next && after != "fuse_pointwise")
      fail(fmt::format("node '{}' is marked for fusion before the fuse_pointwise pass", node.name));
    if (node.layer < -1) fail(fmt::format("node '{}' has layer {}", node.name, node.layer));
  }
  // A fused run: each marked node's result is read only by the next node, as its first operand.
  std::vector<int> readers(g.tensors.size(), 0);
  for (const auto& node : g.nodes)
    for (int in : node.inputs) ++readers[static_cast<std::size_t>(in)];
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    if (!node.fuse_into_next) continue;
    if (node.kind != OpKind::MatMul && node.kind != OpKind::PermuteLanes && !is_fusable_pointwise(node.kind))
      fail(fmt::format("node '{}' ({}) is marked for fusion", node.name, op_name(node.kind)));
    if (i + 1 == g.nodes.size() || !is_fusable_pointwise(g.nodes[i + 1].kind) || node.outputs.size() != 1 ||
        g.nodes[i + 1].inputs.empty() || g.nodes[i + 1].inputs[0] != node.outputs[0] ||
        readers[static_cast<std::size_t>(node.outputs[0])] !=
            std::count(g.nodes[i + 1].inputs.begin(), g.nodes[i + 1].inputs.end(), node.outputs[0]) ||
        g.tensors[static_cast<std::size_t>(node.outputs[0])].role != TensorRole::Intermediate)
      fail(fmt::format("node '{}' is fused into a node that is not its only, pointwise reader", node.name));
  }
  for (std::size_t i = 0; i < g.tensors.size(); ++i)
    if (g.tensors[i].role == TensorRole::Output && !defined[i]) fail(fmt::format("output '{}' is never computed", g.tensors[i].name));
}

std::string dump_graph(const Graph& g) {
  std::string out = fmt::format("graph {} ({} tensors, {} nodes)\n", g.name, g.tensors.size(), g.nodes.size());
  auto shape = [&](int t) {
    std::string s = "[";
    for (std::size_t i = 0; i < g.tensors[static_cast<std::size_t>(t)].shape.size(); ++i)
      s += (i ? "," : "") + std::to_string(g.tensors[static_cast<std::size_t>(t)].shape[i]);
    return s + "]";
  };
  for (std::size_t i = 0; i < g.tensors.size(); ++i) {
    const auto& t = g.tensors[i];
    if (t.role == TensorRole::Input) out += fmt::format("  input  {} {}\n", t.name, shape(static_cast<int>(i)));
    if (t.role == TensorRole::Weight) out += fmt::format("  weight {} {}\n", t.name, shape(static_cast<int>(i)));
    if (t.role == TensorRole::State) out += fmt::format("  state  {} {}\n", t.name, shape(static_cast<int>(i)));
  }
  for (const auto& n : g.nodes) {
    std::string line = fmt::format("  {} = {}(", n.outputs.empty() ? std::string("_") : g.tensors[static_cast<std::size_t>(n.outputs[0])].name, op_name(n.kind));
    for (std::size_t i = 0; i < n.inputs.size(); ++i) line += (i ? ", " : "") + g.tensors[static_cast<std::size_t>(n.inputs[i])].name;
    line += ")";
    for (const auto& [k, v] : n.attrs) {
      if (auto iv = std::get_if<std::int64_t>(&v)) line += fmt::format(" {}={}", k, *iv);
      else if (auto dv = std::get_if<double>(&v)) line += fmt::format(" {}={}", k, *dv);
      else line += fmt::format(" {}={}", k, std::get<std::string>(v));
    }
    if (n.act_scale) line += fmt::format(" act_scale={}", *n.act_scale);
    if (n.fuse_into_next) line += " fuse_into_next=1";
    if (n.layer >= 0) line += fmt::format(" layer={}", n.layer);
    if (n.weight_type) line += fmt::format(" weight_type={}", weight_type_name(*n.weight_type));
    if (n.matmul_compute == MatmulCompute::Fp16) line += " matmul_compute=fp16";
    if (n.mxfp4_weights) line += " mxfp4_weights=1";
    if (!n.outputs.empty()) line += " " + shape(n.outputs[0]);
    out += line + "\n";
  }
  return out;
}

}  // namespace lpusim
