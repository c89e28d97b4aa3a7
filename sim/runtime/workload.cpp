#include "runtime/workload.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "frontend/hub_cache.hpp"

namespace lpusim {

namespace fs = std::filesystem;

const TransformerSpec& Workload::spec() const {
  if (const auto* s = std::get_if<TransformerSpec>(&model)) return *s;
  throw std::logic_error(path + ": a graph, not a model config");
}

const Graph& Workload::graph() const {
  if (const auto* g = std::get_if<Graph>(&model)) return *g;
  throw std::logic_error(path + ": a model config, not a graph");
}

std::string bundled_transformers_dir() {
  const char* env = std::getenv("LPUSIM_TRANSFORMERS_DIR");
  return env && *env ? env : LPUSIM_TRANSFORMERS_DIR;
}

std::string resolve_workload_file(const std::string& source) {
  std::error_code ec;  // the non-throwing forms
  if (fs::is_directory(source, ec)) return (fs::path(source) / "config.json").string();
  if (fs::exists(source, ec)) return source;
  // A symlink loop or an unreadable folder is bad input with its reason, not "no such file".
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw InputError(fmt::format("{}: cannot open ({})", one_line(source), ec.message()));
  const std::string dir = bundled_transformers_dir();
  if (!source.empty() && source.find('/') == std::string::npos && source != "." && source != "..") {
    const std::string bundled = (fs::path(dir) / source / "config.json").string();
    if (fs::exists(bundled, ec)) return bundled;
  }
  // A Hugging Face model id: its config.json in the local hub cache (offline).
  if (looks_like_hub_model_id(source)) return resolve_hub_model_config(source);
  throw InputError(fmt::format("{}: no such file, folder or bundled model (bundled models are in {})", source, dir));
}

Workload load_workload(const std::string& source, const std::string& graph_refusal, const ConfigReadOptions& config) {
  Workload w;
  w.source = source;
  w.path = resolve_workload_file(source);
  const nlohmann::json json = load_user_json(w.path);  // a parse error names file:line:column here
  if (json.is_object() && json.contains("nodes")) {
    if (!graph_refusal.empty()) throw InputError(fmt::format("{}: {}", w.path, graph_refusal));
    w.model = graph_from_json(json, w.path);
  } else {
    w.model = transformer_spec_from_json(json, w.path, config);
  }
  return w;
}

}  // namespace lpusim
