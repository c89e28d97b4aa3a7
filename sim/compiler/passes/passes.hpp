#pragma once
// The compiler's passes, one per file, each a single function. The pipeline
// (compiler/pipeline.cpp) runs them in a straight line with verify_graph between them.
#include <string>

#include "compiler/graph.hpp"
#include "config/chip_config.hpp"

namespace lpusim {

/// shape_inference.cpp: fills every node output's shape; an impossible shape is an
/// InputError naming the file, the node and the dimensions.
void infer_shapes(Graph& graph);

/// verify.cpp: structural checks after a pass (tensor ids valid, every input defined before
/// use, shapes present; after "decompose", only primitive ops). Throws std::logic_error
/// naming the pass: a failure is a compiler bug, not a user error.
void verify_graph(const Graph& graph, const std::string& after_pass);

/// decompose.cpp: rewrites high-level ops (norms, softmax, activations, rope, attention,
/// embedding gather) into primitives the lowering schedules: matmuls (with weights or
/// constant matrices the pass creates), elementwise ops, row reductions, row views and
/// state assignment.
Graph decompose(const Graph& graph);

/// fuse_pointwise.cpp: marks runs of nodes to lower as one VXM chain (attr "fuse_into_next"
/// = 1 on every node of a run but the last): a matmul or pointwise op followed by pointwise
/// ops that each read the previous result, its only reader. Readers are moved up to follow
/// their producer when that changes no value.
Graph fuse_pointwise(const Graph& graph);

/// Pointwise ops (one VXM instruction per vector) that can be fused into a chain.
bool is_fusable_pointwise(OpKind kind);

/// Whether an op is a primitive the lowering handles.
bool is_primitive(OpKind kind);

/// Text form of a graph, for --dump-after.
std::string dump_graph(const Graph& graph);

}  // namespace lpusim
