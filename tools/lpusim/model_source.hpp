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
  bool strict = false;              ///< unknown config.json keys are errors (--strict)
};

/// The step's graph. A graph file with --batch other than 1 is an InputError (its batch is in
/// its input shapes).
Graph model_step_graph(const Workload& workload, const ModelRequest& request);
/// load_workload + model_step_graph.
Graph load_model_graph(const ModelRequest& request);

/// load_workload for a command: config.json keys lpusim does not know are warnings on stderr
/// (each once per process), or errors with `strict` (--strict).
Workload load_command_workload(const std::string& source, bool strict, const std::string& graph_refusal = "");

/// --weights: int8, fp16, fp8 (e4m3) or fp8-e5m2; --compute: native or fp16.
WeightType parse_weight_type(const std::string& name);
/// --weights resolved for a model: "checkpoint" stores each weight as the checkpoint's
/// quantization_config says (LoweringOptions::checkpoint_weights); "auto" means checkpoint
/// for a quantized checkpoint and `fallback` otherwise (also for graphs: spec null).
struct WeightChoice {
  WeightType type = WeightType::Fp16;
  bool checkpoint = false;
  std::string label;  ///< what reports print: "int8", "checkpoint (fp8 fp8e4m3)", ...
};
WeightChoice resolve_weights(const std::string& option, const TransformerSpec* spec, const std::string& fallback);
MatmulCompute parse_matmul_compute(const std::string& name);
/// The values --weights and --compute accept.
const std::vector<std::string>& weight_type_choices();
const std::vector<std::string>& matmul_compute_choices();

}  // namespace lpusim::cli
