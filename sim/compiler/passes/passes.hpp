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
Graph fuse_pointwise(Graph graph);  // by value: a caller done with its graph moves it in

/// Pointwise ops (one VXM instruction per vector) that can be fused into a chain.
bool is_fusable_pointwise(OpKind kind);

/// quantization.cpp: decides every matmul's number format from the scenario, in typed
/// fields: Node::weight_type (the scenario's type, or with checkpoint_weights each weight's
/// checkpoint format, when every weight is a model weight; else fp16), Node::matmul_compute
/// (Fp16 when int8 or fp8 weights are dequantised into an fp16 MXM), Node::mxfp4_weights
/// (MXFP4 checkpoint weights, held as fp8e4m3 codes), and for matmuls with quantised
/// activations (int8 or fp8, native) the default Node::act_scale. Runs after decompose,
/// which creates the constant matmuls.
void plan_quantization(Graph& graph, const WeightScenario& scenario);

/// The number formats of one matmul, as the quantization pass decided them (a view of its
/// typed fields; fp16 for a node it has not decided).
struct MatmulFormat {
  DType weights = DType::Fp16;      ///< the lw type: how the weights are stored
  DType activations = DType::Fp16;  ///< the abc type: what the MXM multiplies them with
  /// Weights stored as codes with a scale per output column (int8, fp8).
  bool scaled_weights() const { return weights != DType::Fp16; }
  /// Activations quantised with the node's act_scale on their way in (int8, fp8).
  bool scaled_activations() const { return activations != DType::Fp16; }
  DType accumulator() const { return activations == DType::Int8 ? DType::Int32 : DType::Fp32; }
  /// The weights are MXFP4 values (OCP MX: E2M1 x a power of two per 32 along K) held as fp8
  /// codes with power-of-two column scales, which keeps them exact.
  bool mxfp4 = false;
};
MatmulFormat matmul_format(const Node& node);
/// The ISA type of a weight type ("int8", "fp16", "fp8e4m3", "fp8e5m2").
DType weight_dtype(WeightType type);
/// The largest code of a quantised type: 127 (int8), 448 (fp8e4m3), 57344 (fp8e5m2).
double largest_code(DType type);
/// Whether the quantization pass made this node an int8 x int8 matmul.
bool is_int8_matmul(const Node& node);

/// The activation scale of an int8 matmul without calibration: inputs within +-4.
constexpr double kDefaultActScale = 1.0 / 32.0;
/// The same for any quantised activation type: int8 kDefaultActScale, fp8 inputs within +-4
/// map to its largest code.
double default_act_scale(DType activations);

/// What calibrate_int8_scales runs the graph on.
struct Calibration {
  /// Values of Input and State tensors by name (row-major). Inputs not given are
  /// deterministic uniform values in [-1, 1]; states not given are zeros (empty caches).
  std::map<std::string, std::vector<float>> values;
  /// Scales decided elsewhere (e.g. a prefill's calibration reused by decode steps), by
  /// matmul node name: used as they are.
  std::map<std::string, double> act_scales;
};

/// calibrate.cpp: runs the fp32 interpreter on the calibration input and sets the
/// Node::act_scale of each matmul with quantised activations to max |activation| / the
/// type's largest code (127 for int8) over its inputs (the pipeline runs it only for int8 or
/// fp8 native compiles with functional data; without, the lowering's default stays).
void calibrate_int8_scales(Graph& graph, const Calibration& calibration);

/// Whether an op is a primitive the lowering handles.
bool is_primitive(OpKind kind);

/// Text form of a graph, for --dump-after.
std::string dump_graph(const Graph& graph);

}  // namespace lpusim
