#include "model_source.hpp"

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "frontend/transformer_graph.hpp"

namespace lpusim::cli {

Graph model_step_graph(const Workload& workload, const ModelRequest& request) {
  if (workload.is_graph()) {
    if (request.batch != 1)
      throw InputError(fmt::format("{}: --batch {} applies to model configs; a graph's batch is in its input shapes",
                                   workload.path, request.batch));
    return workload.graph();
  }
  const TransformerSpec& spec = workload.spec();
  if (request.phase == "prefill") return build_transformer_graph(spec, request.prompt_length, 0, request.batch);
  return build_transformer_graph(spec, 1, request.prompt_length, request.batch);
}

Graph load_model_graph(const ModelRequest& request) { return model_step_graph(load_workload(request.source), request); }

}  // namespace lpusim::cli
