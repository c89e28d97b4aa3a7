#pragma once
// What the compile, estimate and verify commands accept as a model: a JSON graph file, a
// Hugging Face config.json or a folder holding one, or a bundled model name.
#include <string>

#include "compiler/graph.hpp"

namespace lpusim::cli {

struct ModelRequest {
  std::string source;
  std::string phase = "decode";     ///< prefill or decode
  std::int64_t prompt_length = 16;  ///< tokens in the prompt (decode: cached positions)
};

Graph load_model_graph(const ModelRequest& request);
/// A path as given, or a bundled model folder (workloads/models/<name>).
std::string resolve_model_path(const std::string& source);
bool is_graph_file(const std::string& path);

}  // namespace lpusim::cli
