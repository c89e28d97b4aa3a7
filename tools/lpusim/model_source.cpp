#include "model_source.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "config/json_input.hpp"
#include "core/error.hpp"
#include "model/transformer_graph.hpp"

namespace lpusim::cli {

namespace fs = std::filesystem;

std::string resolve_model_path(const std::string& source) {
  if (fs::exists(source)) return source;
  // A bundled model name: workloads/models/<name>.
  const char* env = std::getenv("LPUSIM_MODELS_DIR");
  const std::string dir = env ? env : LPUSIM_MODELS_DIR;
  const std::string bundled = dir + "/" + source;
  if (source.find('/') == std::string::npos && fs::exists(bundled + "/config.json")) return bundled;
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
  if (is_graph_file(path)) return load_graph_json(path);
  const ModelSpec spec = load_model_config(path);
  if (request.phase == "prefill") return build_transformer_graph(spec, request.prompt_length, 0);
  return build_transformer_graph(spec, 1, request.prompt_length);
}

}  // namespace lpusim::cli
