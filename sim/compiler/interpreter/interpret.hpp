#pragma once
// A plain fp32 interpreter of primitive graphs (after decompose): the reference for JSON
// graphs, and a check of the lowering independent of the model front ends.
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"

namespace lpusim {

/// Runs `graph` (primitive ops only) on the given input and state values (row-major, by
/// tensor name; missing ones are zeros);
/// returns every tensor's values by name. Weights use their explicit or deterministic values.
std::map<std::string, std::vector<float>> interpret_primitive_graph(
    const Graph& graph, const std::map<std::string, std::vector<float>>& inputs);

/// Runs one primitive graph per chip (the partition pass's output), passing rows from each
/// Send to its Recv and summing each AllReduce group in rank order; inputs and results per
/// chip as above. Throws std::logic_error if a chip waits for a transfer that never comes.
std::vector<std::map<std::string, std::vector<float>>> interpret_system(
    const std::vector<Graph>& chips, const std::vector<std::map<std::string, std::vector<float>>>& inputs);

}  // namespace lpusim
