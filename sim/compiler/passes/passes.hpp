#pragma once
// The compiler's passes, one per file, each a single function. The pipeline
// (compiler/pipeline.cpp) runs them in a straight line with verify_graph between them.
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "arch/config/chip_config.hpp"

namespace lpusim {

/// shape_inference.cpp: fills every node output's shape; an impossible shape is an
/// InputError naming the file, the node and the dimensions.
void infer_shapes(Graph& graph);

/// last_row_outputs.cpp: every graph output that a matmul computes from a multi-row input
/// is computed from the last row of each of `sequences` equal-length sequences stacked in
/// its rows (a prefill needs only the last token's logits). Runs after shape_inference.
void keep_last_output_rows(Graph& graph, std::int64_t sequences);

/// partition.cpp: one graph per chip of `plan` (chip c = rank c % tp of stage c / tp): the
/// chip's stage's nodes, weight matmuls cut by their Node::split, attention by heads, MoE
/// experts by groups, partial sums joined by AllReduce, tensors crossing stages by Send and
/// Recv. Runs on a shape-inferred graph; an annotation the plan cannot honour (heads that do
/// not divide) is an InputError.
std::vector<Graph> partition_graph(const Graph& graph, const PartitionPlan& plan);

/// expand_collectives.cpp: chip `chip`'s AllReduce nodes become the transfers and additions
/// that compute them (direct algorithm: a Send of its partial sum to every other member, a
/// Recv of each member's, then Adds in rank order, so that every member holds the same sum).
/// Runs on a primitive graph; the lowering then schedules only Send and Recv on the links.
void expand_collectives(Graph& graph, int chip);
/// verify.cpp: structural checks after a pass (tensor ids valid, every input defined before
/// use, shapes present; after "decompose", only primitive ops). Throws std::logic_error
/// naming the pass: a failure is a compiler bug, not a user error.
void verify_graph(const Graph& graph, const std::string& after_pass);

/// decompose.cpp: rewrites high-level ops (norms, softmax, activations, rope, attention,
/// embedding gather) into primitives the lowering schedules: matmuls (with weights or
/// constant matrices the pass creates), elementwise ops, row reductions, row views and
/// state assignment.
Graph decompose(const Graph& graph);

/// fuse_pointwise.cpp: marks runs of nodes to lower as one VXM chain (Node::fuse_into_next
/// on every node of a run but the last): a matmul or pointwise op followed by pointwise
/// ops that each read the previous result, its only reader. Readers are moved up to follow
/// their producer when that changes no value.
Graph fuse_pointwise(const Graph& graph);

/// Pointwise ops (one VXM instruction per vector) that can be fused into a chain.
bool is_fusable_pointwise(OpKind kind);

/// quantization.cpp: sets every matmul's Node::weight_type (int8 when the scenario asks for
/// int8 and every weight is a model weight, else fp16) and gives int8 matmuls the default
/// Node::act_scale. Runs after decompose, which creates the constant matmuls.
void plan_quantization(Graph& graph, WeightType weights);
/// Whether the quantization pass made this node an int8 matmul.
bool is_int8_matmul(const Node& node);

/// The activation scale of an int8 matmul without calibration: inputs within +-4.
constexpr double kDefaultActScale = 1.0 / 32.0;

/// What calibrate_int8_scales runs the graph on.
struct Calibration {
  /// Values of Input and State tensors by name (row-major). Inputs not given are
  /// deterministic uniform values in [-1, 1]; states not given are zeros (empty caches).
  std::map<std::string, std::vector<float>> values;
  /// Scales decided elsewhere (e.g. a prefill's calibration reused by decode steps), by
  /// matmul node name: used as they are.
  std::map<std::string, double> act_scales;
};

/// calibrate.cpp: runs the fp32 interpreter on the calibration input and sets each int8
/// matmul's Node::act_scale to max |activation| / 127 over its inputs (the pipeline runs it
/// only for int8 compiles with functional data; without, the lowering's default stays).
void calibrate_int8_scales(Graph& graph, const Calibration& calibration);

/// Whether an op is a primitive the lowering handles.
bool is_primitive(OpKind kind);

/// Text form of a graph, for --dump-after.
std::string dump_graph(const Graph& graph);

}  // namespace lpusim
