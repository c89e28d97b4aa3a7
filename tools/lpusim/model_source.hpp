#pragma once
// What the compile, estimate and verify commands accept as a model: a JSON graph file, a
// Hugging Face config.json or a folder holding one, or a bundled model name.
#include <string>

#include "compiler/ir/graph.hpp"
#include "arch/config/chip_config.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim::cli {

struct ModelRequest {
  std::string source;
  std::string phase = "decode";     ///< prefill or decode
  std::int64_t prompt_length = 16;  ///< tokens in the prompt (decode: cached positions)
  std::int64_t batch = 1;           ///< sequences per step (models only)
  bool strict = false;              ///< unknown config.json keys are errors (--strict)
};

Graph load_model_graph(const ModelRequest& request);
/// A path as given, a bundled model folder (workloads/transformers/<name>), or the
/// config.json of a Hugging Face model id ("Qwen/Qwen3-32B") in the local hub cache.
std::string resolve_model_path(const std::string& source);
/// --weights: int8, fp16, fp8 (e4m3) or fp8-e5m2; --compute: native or fp16.
WeightType parse_weight_type(const std::string& name);
/// --weights resolved for a model: "checkpoint" stores each weight as the checkpoint's
/// quantization_config says (LoweringOptions::checkpoint_weights); "auto" means checkpoint
/// for a quantized checkpoint and `fallback` otherwise (also for graphs: spec null).
struct WeightChoice {
  WeightType type = WeightType::Fp16;
  bool checkpoint = false;
  std::string label;  ///< what reports print: "int8", "checkpoint (fp8e4m3)", ...
};
WeightChoice resolve_weights(const std::string& option, const TransformerSpec* spec, const std::string& fallback);
MatmulCompute parse_matmul_compute(const std::string& name);
/// The values --weights and --compute accept.
const std::vector<std::string>& weight_type_choices();
const std::vector<std::string>& matmul_compute_choices();
/// load_transformer_spec, printing its warnings to stderr (each once per process).
TransformerSpec load_model_spec(const std::string& path, bool strict);
bool is_graph_file(const std::string& path);

/// The KV caches of `batch` sequences of `positions` positions each must fit in the
/// activation SRAM the lowering places them in (the 24 MEM slices next to the VXM, one
/// vector per row tile); otherwise an InputError naming what they need, what one chip holds
/// and how many sequences would fit. A necessary condition: the activations need room too,
/// and the lowering reports when those do not fit.
void check_kv_caches_fit(const TransformerSpec& spec, const ChipConfig& chip, std::int64_t batch, std::int64_t positions,
                         const std::string& file);

}  // namespace lpusim::cli
