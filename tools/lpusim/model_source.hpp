#pragma once
// What the compile and bench commands turn a model into: the graph of one step (a JSON graph
// file as it is, or one forward step of a model config), from a workload loaded once
// (sim/runtime/workload.hpp).
#include <cstdint>
#include <string>

#include "compiler/ir/graph.hpp"
#include "runtime/workload.hpp"

namespace lpusim::cli {

struct ModelRequest {
  std::string source;
  std::string phase = "decode";     ///< prefill or decode
  std::int64_t prompt_length = 16;  ///< tokens in the prompt (decode: cached positions)
  std::int64_t batch = 1;           ///< sequences per step (models only)
};

/// The step's graph. A graph file with --batch other than 1 is an InputError (its batch is in
/// its input shapes).
Graph model_step_graph(const Workload& workload, const ModelRequest& request);
/// load_workload + model_step_graph.
Graph load_model_graph(const ModelRequest& request);

}  // namespace lpusim::cli
