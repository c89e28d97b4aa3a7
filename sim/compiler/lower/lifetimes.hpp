#pragma once
// Lifetimes of intermediate tensors (private to the lowering): after which node each
// intermediate's words can be freed. Plain graph analysis, no cycles involved.
#include <vector>

#include "compiler/ir/graph.hpp"

namespace lpusim {

/// For every node, the intermediate tensors read last by it, directly or through a view (a
/// row slice or concat shares its source's words, so the source lives as long as the view).
std::vector<std::vector<int>> release_after_nodes(const Graph& graph);

}  // namespace lpusim
