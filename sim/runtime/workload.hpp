#pragma once
// What a user names as a model, loaded once into a typed object: a bundled name (a folder of
// workloads/transformers/), a Hugging Face config.json or a folder holding one, or a JSON graph
// file (docs/compiler.md). The file is read and parsed exactly once; whether it is a graph or
// a model config is decided from the parsed JSON, so malformed JSON is reported as such (file,
// line and column) before any guess about what kind of file it was meant to be.
#include <string>
#include <variant>

#include "compiler/ir/graph.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

struct Workload {
  std::string source;  ///< as the user named it
  std::string path;    ///< the file read (a folder's or a bundled model's config.json)
  std::variant<TransformerSpec, Graph> model;

  bool is_graph() const { return std::holds_alternative<Graph>(model); }
  /// The model config (std::logic_error for a graph: callers branch on is_graph() first).
  const TransformerSpec& spec() const;
  const Graph& graph() const;
};

/// The folder of bundled model configs: $LPUSIM_TRANSFORMERS_DIR if set, else the source tree's.
std::string bundled_transformers_dir();

/// The file a source names: the path itself, a folder's config.json, the config.json of a
/// bundled model folder, or that of a Hugging Face model id ("Qwen/Qwen3-32B") in the local
/// hub cache (offline; frontend/hub_cache.hpp). InputError when nothing matches.
std::string resolve_workload_file(const std::string& source);

/// Reads and parses the file once; a JSON object with "nodes" is a graph, anything else a
/// model config (whose parser names what is wrong with it). With `graph_refusal` (for a
/// command that takes model configs only), a graph file is an InputError "<file>: <refusal>"
/// before the graph itself is read. `config` says how model configs are read (--strict); the
/// reader's warnings are in the spec's `warnings`.
Workload load_workload(const std::string& source, const std::string& graph_refusal = "",
                       const ConfigReadOptions& config = {});

}  // namespace lpusim
