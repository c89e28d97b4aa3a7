// The expand_collectives pass: a chip's AllReduce becomes the point-to-point transfers and
// additions that compute it, so that the lowering schedules only Send and Recv on the C2C
// links (docs/multichip.md, "Collectives").
//
// Algorithm: direct. Over a fully connected group (a GroqNode's 8 chips, each pair joined by
// a link of its own), every chip sends its partial sum to each of the others at once, one
// link per peer, and adds the partials it receives. Each link carries the tensor once, so
// the collective takes one tensor's serialisation plus one link latency; a ring would send
// 2 (n - 1) / n of the tensor per link but pay 2 (n - 1) latencies, which a decode step's
// few vectors never earn back. The partials are added in rank order on every chip, so every
// chip holds bit for bit the same sum (the interpreter's AllReduce adds in the same order).
#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

void expand_collectives(Graph& graph, int chip) {
  std::vector<Node> nodes;
  nodes.reserve(graph.nodes.size());
  for (Node& node : graph.nodes) {
    if (node.kind != OpKind::AllReduce) {
      nodes.push_back(std::move(node));
      continue;
    }
    const auto self = std::find(node.group.begin(), node.group.end(), chip);
    if (self == node.group.end())
      throw std::logic_error(fmt::format("expand_collectives: chip {} runs all-reduce '{}' of a group it is not in",
                                         chip, node.name));
    const int partial = node.inputs[0];
    auto transfer = [&](OpKind kind, int peer, const std::string& suffix) {
      Node t;
      t.kind = kind;
      t.name = fmt::format("{}.{}{}", node.name, suffix, peer);
      t.layer = node.layer;
      t.peer = peer;
      return t;
    };
    for (int peer : node.group)
      if (peer != chip) {
        Node send = transfer(OpKind::Send, peer, "to");
        send.inputs = {partial};
        nodes.push_back(std::move(send));
      }
    // Every member's part, in rank order: this chip's own partial, the others received.
    std::vector<int> parts;
    for (int peer : node.group) {
      if (peer == chip) {
        parts.push_back(partial);
        continue;
      }
      TensorInfo arriving = graph.tensors[static_cast<std::size_t>(partial)];
      arriving.name = fmt::format("{}.from{}", node.name, peer);
      arriving.role = TensorRole::Intermediate;
      const int id = graph.add_tensor(std::move(arriving));
      Node recv = transfer(OpKind::Recv, peer, "from");
      recv.outputs = {id};
      nodes.push_back(std::move(recv));
      parts.push_back(id);
    }
    int sum = parts[0];
    for (std::size_t k = 1; k < parts.size(); ++k) {
      Node add;
      add.kind = OpKind::Add;
      add.name = fmt::format("{}.sum{}", node.name, k);
      add.layer = node.layer;
      add.inputs = {sum, parts[k]};
      if (k + 1 == parts.size()) {
        add.outputs = {node.outputs[0]};
      } else {
        TensorInfo running = graph.tensors[static_cast<std::size_t>(partial)];
        running.name = add.name;
        running.role = TensorRole::Intermediate;
        add.outputs = {graph.add_tensor(std::move(running))};
      }
      sum = add.outputs[0];
      nodes.push_back(std::move(add));
    }
    if (parts.size() == 1) {  // a group of one: the sum is the partial itself
      Node copy;
      copy.kind = OpKind::Scale;
      copy.name = node.name + ".alone";
      copy.layer = node.layer;
      copy.attrs["value"] = 1.0;
      copy.inputs = {partial};
      copy.outputs = {node.outputs[0]};
      nodes.push_back(std::move(copy));
    }
  }
  graph.nodes = std::move(nodes);
}

}  // namespace lpusim
