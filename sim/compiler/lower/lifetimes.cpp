#include "compiler/lower/lifetimes.hpp"

#include <algorithm>

namespace lpusim {

std::vector<std::vector<int>> release_after_nodes(const Graph& g) {
  std::vector<int> last_use(g.tensors.size(), -1);
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int t : g.nodes[i].inputs) last_use[static_cast<std::size_t>(t)] = static_cast<int>(i);
  for (std::size_t i = g.nodes.size(); i-- > 0;) {  // views of views come later: walk back
    const Node& n = g.nodes[i];
    if (n.kind != OpKind::Slice && n.kind != OpKind::Concat) continue;
    for (int t : n.inputs)
      last_use[static_cast<std::size_t>(t)] =
          std::max(last_use[static_cast<std::size_t>(t)], last_use[static_cast<std::size_t>(n.outputs[0])]);
  }
  std::vector<std::vector<int>> release_after(g.nodes.size());
  for (std::size_t t = 0; t < g.tensors.size(); ++t)
    if (last_use[t] >= 0 && g.tensors[t].role == TensorRole::Intermediate)
      release_after[static_cast<std::size_t>(last_use[t])].push_back(static_cast<int>(t));
  return release_after;
}

}  // namespace lpusim
