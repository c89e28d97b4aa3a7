#include "model_source.hpp"

#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "frontend/hub_cache.hpp"
#include "frontend/transformer_graph.hpp"

namespace lpusim::cli {

namespace fs = std::filesystem;

std::string resolve_model_path(const std::string& source) {
  if (fs::exists(source)) return source;
  // A bundled model name: workloads/transformers/<name>.
  const char* env = std::getenv("LPUSIM_TRANSFORMERS_DIR");
  const std::string dir = env ? env : LPUSIM_TRANSFORMERS_DIR;
  const std::string bundled = dir + "/" + source;
  if (source.find('/') == std::string::npos && fs::exists(bundled + "/config.json")) return bundled;
  // A Hugging Face model id: its config.json in the local hub cache (offline).
  if (looks_like_hub_model_id(source)) return resolve_hub_model_config(source);
  throw InputError(fmt::format("{}: no such file, folder or bundled model (bundled models are in {})", source, dir));
}

bool is_graph_file(const std::string& path) {
  // A JSON file with "nodes" is a graph; any other file is read as a model config.
  if (!fs::is_regular_file(path) || fs::path(path).filename() == "config.json") return false;
  try {
    const auto j = load_user_json(path);
    return j.is_object() && j.contains("nodes");
  } catch (const InputError&) {
    return path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0 && fs::path(path).filename() != "config.json" &&
           path.find("model") == std::string::npos;
  }
}

Graph load_model_graph(const ModelRequest& request) {
  const std::string path = resolve_model_path(request.source);
  if (is_graph_file(path)) {
    if (request.batch != 1)
      throw InputError(fmt::format("{}: --batch {} applies to model configs; a graph's batch is in its input shapes", path, request.batch));
    return load_graph_json(path);
  }
  const TransformerSpec spec = load_model_spec(path, request.strict);
  if (request.phase == "prefill") return build_transformer_graph(spec, request.prompt_length, 0, request.batch);
  return build_transformer_graph(spec, 1, request.prompt_length, request.batch);
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

TransformerSpec load_model_spec(const std::string& path, bool strict) {
  ConfigReadOptions options;
  options.strict = strict;
  TransformerSpec spec = load_transformer_spec(path, options);
  // Commands load a spec more than once (each compiled phase); say each thing once.
  static std::set<std::string> printed;
  for (const auto& w : spec.warnings)
    if (printed.insert(w).second) std::cerr << "lpusim: warning: " << one_line(w) << "\n";
  return spec;
}

void check_kv_caches_fit(const TransformerSpec& spec, const ChipConfig& chip, std::int64_t batch, std::int64_t positions,
                         const std::string& file) {
  // The lowering's activation quads: MEM slices 0-11 of each hemisphere, 4 slices per quad,
  // one 320-lane fp32 vector per quad word (sim/compiler/lower/lowering.hpp).
  const std::int64_t capacity = 2 * 3 * chip.mem_slice_words;
  const std::int64_t per_sequence = kv_cache_vectors(spec, 1, positions, chip.lanes());
  const std::int64_t needed = batch * per_sequence;
  if (needed <= capacity) return;
  const double vector_mb = static_cast<double>(chip.lanes()) * 4.0 / 1e6;
  const std::int64_t fit = capacity / per_sequence;
  throw InputError(fmt::format(
      "{}: batch {}: the KV caches of {} sequences x {} positions need {:.1f} MB but the activation SRAM of one {} "
      "holds {:.1f} MB; {} (multi-chip partitioning is not implemented yet)",
      file, batch, batch, positions, static_cast<double>(needed) * vector_mb, chip.name,
      static_cast<double>(capacity) * vector_mb,
      fit == 0 ? std::string("not even one sequence fits at this context")
               : fmt::format("at most {} sequences fit at this context", fit)));
}

}  // namespace lpusim::cli
