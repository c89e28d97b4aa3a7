// The JSON graph format (docs/compiler.md): inputs, weights, nodes, outputs.
#include <fmt/format.h>

#include "compiler/ir/graph.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

namespace {

struct OpSpec {
  OpKind kind;
  std::size_t min_inputs, max_inputs;
  std::vector<std::pair<std::string, char>> attrs;  // name, 'i' integer, 'f' number
};

const std::map<std::string, OpSpec>& op_table() {
  static const std::map<std::string, OpSpec> t{
      {"matmul", {OpKind::MatMul, 2, 2, {{"transpose_w", 'i'}}}},
      {"add", {OpKind::Add, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"sub", {OpKind::Sub, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"mul", {OpKind::Mul, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"max", {OpKind::Max, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"min", {OpKind::Min, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"greater", {OpKind::Greater, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"greater_equal", {OpKind::GreaterEqual, 1, 2, {{"immediate", 'f'}, {"broadcast", 's'}}}},
      {"neg", {OpKind::Neg, 1, 1, {}}},
      {"exp", {OpKind::Exp, 1, 1, {}}},
      {"exp2", {OpKind::Exp2, 1, 1, {}}},
      {"rsqrt", {OpKind::Rsqrt, 1, 1, {}}},
      {"tanh", {OpKind::Tanh, 1, 1, {}}},
      {"sigmoid", {OpKind::Sigmoid, 1, 1, {}}},
      {"relu", {OpKind::Relu, 1, 1, {}}},
      {"gelu", {OpKind::Gelu, 1, 1, {}}},
      {"gelu_tanh", {OpKind::GeluTanh, 1, 1, {}}},
      {"silu", {OpKind::Silu, 1, 1, {}}},
      {"scale", {OpKind::Scale, 1, 1, {{"value", 'f'}}}},
      {"softmax", {OpKind::Softmax, 1, 1, {}}},
      {"layernorm", {OpKind::LayerNorm, 3, 3, {{"eps", 'f'}}}},
      {"rmsnorm", {OpKind::RmsNorm, 2, 2, {{"eps", 'f'}, {"adds_one", 'i'}}}},
      {"concat", {OpKind::Concat, 2, 64, {{"axis", 'i'}}}},
      {"slice", {OpKind::Slice, 1, 1, {{"axis", 'i'}, {"begin", 'i'}, {"end", 'i'}}}},
      {"rope", {OpKind::Rope, 1, 1, {{"head_dim", 'i'}, {"theta", 'f'}, {"position", 'i'}}}},
  };
  return t;
}

std::string op_names() {
  std::string names;
  for (const auto& [name, spec] : op_table()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

std::vector<std::int64_t> read_shape(const nlohmann::json& v, const JsonObject& owner, const std::string& key) {
  if (!v.is_array() || v.empty() || v.size() > 2)
    owner.fail(key, fmt::format("expected a shape of 1 or 2 positive integers, got {}", describe_json(v)));
  std::vector<std::int64_t> shape;
  for (const auto& d : v) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 1 || d.get<std::int64_t>() > (1LL << 24))
      owner.fail(key, fmt::format("expected dimensions in [1, 16777216], got {}", describe_json(d)));
    shape.push_back(d.get<std::int64_t>());
  }
  if (shape.size() == 2 && shape[0] * shape[1] > (1LL << 31))
    owner.fail(key, fmt::format("a tensor of {} x {} elements is larger than the 2^31 lpusim accepts", shape[0], shape[1]));
  return shape;
}

}  // namespace

Graph load_graph_json(const std::string& path) { return graph_from_json(load_user_json(path), path); }

Graph graph_from_json(const nlohmann::json& root_json, const std::string& path) {
  JsonObject root(root_json, path, "");
  Graph g;
  g.file = path;
  g.name = root.string("name");
  if (g.name.empty() || g.name.size() > 100) root.fail("name", "expected a name of 1 to 100 characters");
  if (one_line(g.name) != g.name) root.fail("name", fmt::format("expected printable characters, got \"{}\"", one_line(g.name)));

  auto declare = [&](const std::string& name, const JsonObject& owner, const std::string& key, TensorInfo t) {
    if (name.empty() || name.size() > 200) owner.fail(key, "expected a tensor name of 1 to 200 characters");
    if (g.find(name) >= 0) owner.fail(key, fmt::format("tensor '{}' is defined twice", name));
    t.name = name;
    return g.add_tensor(std::move(t));
  };

  auto inputs = root.object("inputs");
  for (const auto& name : inputs.keys()) {
    TensorInfo t;
    t.role = TensorRole::Input;
    t.shape = read_shape(inputs.raw(name), inputs, name);
    declare(name, inputs, name, t);
  }
  inputs.finish();

  if (root.has("weights")) {
    auto weights = root.object("weights");
    for (const auto& name : weights.keys()) {
      auto w = weights.object(name);
      TensorInfo t;
      t.role = TensorRole::Weight;
      t.shape = read_shape(w.raw("shape"), w, "shape");
      t.init = w.optional_string("init").value_or("random");
      if (t.init != "random" && t.init != "ones" && t.init != "zeros")
        w.fail("init", fmt::format("expected random, ones or zeros, got \"{}\"", t.init));
      t.seed = static_cast<std::uint64_t>(w.optional_integer("seed", 0, 1LL << 40).value_or(static_cast<std::int64_t>(g.tensors.size()) + 1));
      t.init_scale = w.has("scale") ? w.number("scale", 0.0, 1e6) : 0.05;
      w.finish();
      declare(name, weights, name, t);
    }
    weights.finish();
  }

  const auto& nodes_json = root.raw("nodes");
  if (!nodes_json.is_array() || nodes_json.empty())
    root.fail("nodes", fmt::format("expected a non-empty array of nodes, got {}", describe_json(nodes_json)));
  for (std::size_t i = 0; i < nodes_json.size(); ++i) {
    JsonObject n(nodes_json[i], path, fmt::format("nodes[{}]", i));
    const std::string op = n.string("op");
    auto spec = op_table().find(op);
    if (spec == op_table().end()) n.fail("op", fmt::format("unknown op \"{}\" (expected one of {})", op, op_names()));
    Node node;
    node.kind = spec->second.kind;
    node.name = n.optional_string("name").value_or(fmt::format("{}{}", op, i));
    const auto& ins = n.raw("inputs");
    if (!ins.is_array() || ins.size() < spec->second.min_inputs || ins.size() > spec->second.max_inputs)
      n.fail("inputs", fmt::format("expected {} to {} tensor names for {}, got {}", spec->second.min_inputs,
                                   spec->second.max_inputs, op, describe_json(ins)));
    for (const auto& in : ins) {
      if (!in.is_string()) n.fail("inputs", fmt::format("expected tensor names, got {}", describe_json(in)));
      const int id = g.find(in.get<std::string>());
      if (id < 0) n.fail("inputs", fmt::format("no tensor named '{}' is defined before this node", in.get<std::string>()));
      node.inputs.push_back(id);
    }
    for (const auto& [attr, type] : spec->second.attrs) {
      if (!n.has(attr)) continue;
      if (type == 's') {
        const std::string v = n.string(attr);
        if (v != "tile") n.fail(attr, fmt::format("expected \"tile\" (one 320-lane tile repeated along each row), got \"{}\"", v));
        node.attrs[attr] = v;
      } else if (type == 'i') node.attrs[attr] = n.integer(attr, -(1LL << 40), 1LL << 40);
      else node.attrs[attr] = n.number(attr, -1e30, 1e30);
    }
    const std::string out = n.string("output");
    TensorInfo t;
    t.role = TensorRole::Intermediate;
    node.outputs.push_back(declare(out, n, "output", t));
    n.finish();
    g.nodes.push_back(std::move(node));
  }

  const auto& outs = root.raw("outputs");
  if (!outs.is_array() || outs.empty()) root.fail("outputs", "expected a non-empty array of tensor names");
  for (const auto& o : outs) {
    if (!o.is_string() || g.find(o.get<std::string>()) < 0)
      root.fail("outputs", fmt::format("expected names of tensors the graph computes, got {}", describe_json(o)));
    auto& t = g.tensors[static_cast<std::size_t>(g.find(o.get<std::string>()))];
    if (t.role != TensorRole::Intermediate) root.fail("outputs", fmt::format("'{}' is not computed by a node", t.name));
    t.role = TensorRole::Output;
  }
  root.finish();
  return g;
}

}  // namespace lpusim
