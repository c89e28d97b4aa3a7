#include "model_source.hpp"

#include <iostream>
#include <set>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
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

Graph load_model_graph(const ModelRequest& request) {
  return model_step_graph(load_command_workload(request.source, request.strict), request);
}

Workload load_command_workload(const std::string& source, bool strict, const std::string& graph_refusal) {
  ConfigReadOptions options;
  options.strict = strict;
  Workload w = load_workload(source, graph_refusal, options);
  if (!w.is_graph()) {
    // A command may load a model more than once; say each thing once.
    static std::set<std::string> printed;
    for (const auto& warning : w.spec().warnings)
      if (printed.insert(warning).second) std::cerr << "lpusim: warning: " << one_line(warning) << "\n";
  }
  return w;
}

WeightType parse_weight_type(const std::string& name) {
  if (name == "int8") return WeightType::Int8;
  if (name == "fp8" || name == "fp8-e4m3") return WeightType::Fp8E4M3;
  if (name == "fp8-e5m2") return WeightType::Fp8E5M2;
  if (name == "fp16") return WeightType::Fp16;
  throw InputError(fmt::format("--weights {}: expected int8, fp16, fp8 (e4m3) or fp8-e5m2", name));
}

WeightChoice resolve_weights(const std::string& option, const TransformerSpec* spec, const std::string& fallback) {
  const bool quantized = spec != nullptr && spec->quantization.format != CheckpointFormat::None;
  WeightChoice c;
  if (option == "checkpoint" || (option == "auto" && quantized)) {
    if (!quantized)
      throw InputError(fmt::format("--weights checkpoint: {} has no quantization_config lpusim models (fp8, "
                                   "fbgemm_fp8, mxfp4)", spec ? spec->file : std::string("a graph")));
    c.checkpoint = true;
    c.label = fmt::format("checkpoint ({} {})", spec->quantization.method,
                          checkpoint_format_name(spec->quantization.format));
    return c;
  }
  c.label = option == "auto" ? fallback : option;
  c.type = parse_weight_type(c.label);
  return c;
}

MatmulCompute parse_matmul_compute(const std::string& name) {
  if (name == "native") return MatmulCompute::Native;
  if (name == "fp16") return MatmulCompute::Fp16;
  throw InputError(fmt::format("--compute {}: expected native or fp16", name));
}

const std::vector<std::string>& weight_type_choices() {
  static const std::vector<std::string> v = {"auto", "checkpoint", "int8", "fp16", "fp8", "fp8-e4m3", "fp8-e5m2"};
  return v;
}

const std::vector<std::string>& matmul_compute_choices() {
  static const std::vector<std::string> v = {"native", "fp16"};
  return v;
}

}  // namespace lpusim::cli
