#pragma once
// The compiler's graph IR: tensors and the ops between them, at the level of whole
// tensors (a matmul, a norm, an attention). Both front ends build it: the Hugging Face
// config front end (sim/frontend/) and the JSON graph format (docs/compiler.md). Shapes are
// row-major; the last axis is the one laid across the chip's lanes. Plain C++.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lpusim {

enum class OpKind {
  // Dense
  MatMul,     ///< y[M,N] = x[M,K] w[K,N]; inputs x, w (a Weight tensor); int attr transpose_w = 1: w is [N,K], y = x w^T
  // Elementwise, two inputs; b broadcasts from [N] or [1] over a's leading dims
  Add, Sub, Mul, Max, Min,
  // Elementwise, one input
  Neg, Exp, Exp2, Rsqrt, Tanh, Sigmoid, Relu, Gelu, GeluTanh, Silu,
  Scale,      ///< y = x * attr "value"
  Cast,       ///< y = x rounded to attr "dtype" and back (fp16, int8 with attr "scale")
  // Along the last axis
  Softmax,
  LayerNorm,  ///< inputs x, gamma[N], beta[N]; attr eps
  RmsNorm,    ///< inputs x, gamma[N]; attrs eps, adds_one (gemma: x * (1 + gamma))
  // Shape
  Concat,     ///< attr axis
  Slice,      ///< attrs axis, begin, end
  Transpose,  ///< 2-D
  Gather,     ///< rows of a [V, N] table by int ids [M] -> [M, N] (embedding); inputs table, ids
  // Transformer
  Rope,       ///< x[T, heads*head_dim]; attrs head_dim, theta, position (first position), scaling_* ; rotate-half form
              ///< (scaling_kind none|linear|llama3, scaling_factor, scaling_low_freq_factor, scaling_high_freq_factor,
              ///< scaling_original_max_position; frequencies: rope_inverse_frequencies in sim/frontend/reference_transformer.hpp)
  Attention,  ///< inputs q[T, H*D], k[T, KV*D], v[T, KV*D], k_cache[C, KV*D], v_cache[C, KV*D] -> o[T, H*D];
              ///< attrs heads, kv_heads, head_dim, past (cached positions before q), causal, window (0: none), scale.
              ///< Appends k, v to the caches at rows past .. past+T-1. A sixth input sinks[H] (gpt_oss): head
              ///< h's softmax adds exp(sinks[h] - m) to its denominator, m the max over its scores and sinks[h].
  MoeMlp,     ///< mixtral sparse MLP: inputs x, router[N,E], then per expert w1 (gate)[N,F], w3 (up)[N,F], w2 (down)[F,N]
              ///< (e0.w1, e0.w3, e0.w2, e1.w1, ...); attrs experts, top_k, activation (op name, e.g. "Silu").
              ///< HF Mixtral: softmax over router logits, top-k, renormalise, weighted sum of act(x w1) * (x w3) w2.
              ///< Attr biases = 1 (gpt_oss): a router bias [E] follows the router and each expert's three
              ///< weights are followed by its biases b1 [F], b3 [F], b2 [N] (MoeLayout). Activation
              ///< "clamped_swiglu" (attrs glu_limit, glu_alpha): g = min(x w1, limit), u = clamp(x w3, +-limit),
              ///< (u + 1) g sigmoid(alpha g).
  // Primitive ops the decompose pass produces for lowering
  SumRows,    ///< [M,N] -> [1,N], sum over rows
  MaxRows,    ///< [M,N] -> [1,N], max over rows
  Cvt,        ///< round through attr "dtype" (fp16) and back: what the MXM sees of an fp32 value
  Greater,       ///< a > b as 1.0 / 0.0; b: a second input (broadcast like Add) or attr "immediate"
  GreaterEqual,  ///< a >= b as 1.0 / 0.0; likewise
  Assign,     ///< inputs dst (a State tensor), src: writes src's rows into dst from row attr "row"; no output
  PermuteLanes,  ///< y[T,F] = x[T,F] with lanes moved within 320-lane tiles (an SXM permute):
                 ///< y[:, 320 j + i] = x[:, 320 s + map[j][i]], s = clamp(j + attr "tile_offset", 0, tiles - 1),
                 ///< map = the constant named by attr "lane_map" in Graph::values, [tiles, 320] source lanes
  // Multi-chip: made by the partition pass (passes/partition.cpp); primitives the lowering
  // turns into C2C transfers.
  AllReduce,  ///< y = the sum of x over the chips of Node::group (each holds a partial sum); every member gets y
  Send,       ///< sends x's rows to chip Node::peer; no output
  Recv,       ///< y = the rows chip Node::peer sends (the output tensor's shape says how many)
};
const char* op_name(OpKind k);

/// The MoeMlp activation of gpt-oss's experts (not an op of its own: decompose expands it).
inline constexpr const char* kClampedSwigluName = "clamped_swiglu";

/// The type model weights are stored in on the chip (the quantization pass decides per matmul).
enum class WeightType { Int8, Fp16, Fp8E4M3, Fp8E5M2 };
const char* weight_type_name(WeightType t);  ///< "int8", "fp16", "fp8e4m3", "fp8e5m2" (the ISA's type names)
int weight_type_bytes(WeightType t);
/// Where int8 and fp8 weights are multiplied: in their own type (int8 x int8 -> int32,
/// fp8 x fp8 -> fp32, activations quantised to it), or dequantised on their way into an
/// fp16 MXM (fp16 activations, fp32 sums: weights stored low, computed high).
enum class MatmulCompute { Native, Fp16 };

enum class TensorRole { Input, Weight, State, Intermediate, Output };

/// How the partition pass splits a weight matmul between the chips of a tensor-parallel group
/// (set by the graph builder; Megatron-LM's column and row parallelism).
enum class WeightSplit : std::uint8_t {
  Replicated,  ///< every chip holds all of it
  Columns,     ///< each chip computes a share of the output columns, in whole Node::split_unit groups
  Rows,        ///< each chip multiplies its share of the input columns; the partial sums are all-reduced
};

/// A weight that is a slice of a larger one (a multi-chip shard): its values are rows
/// [row_begin, row_begin + rows) and columns [col_begin, col_begin + cols) of the tensor of the
/// same name, init and seed with shape `full_shape`.
struct WeightSlice {
  std::vector<std::int64_t> full_shape;
  std::int64_t row_begin = 0;
  std::int64_t col_begin = 0;
};

struct TensorInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  TensorRole role = TensorRole::Intermediate;
  /// Weights: how to make values when none are supplied ("random" with seed and scale, "ones", "zeros").
  std::string init = "random";
  std::uint64_t seed = 0;
  double init_scale = 0.02;
  /// Weights of a quantized checkpoint: the format it publishes them in ("" for 16-bit,
  /// "fp8e4m3", "fp8e5m2", "mxfp4"). Used when the lowering stores weights as the
  /// checkpoint does (LoweringOptions::checkpoint_weights).
  std::string checkpoint_format;
  std::optional<WeightSlice> slice_of;  ///< set on multi-chip weight shards
};

/// What a compile asks of the model's matmul weights; the quantization pass decides each
/// matmul's format from it (Node::weight_type, Node::matmul_compute, Node::mxfp4_weights).
/// The field names are LoweringOptions' own.
struct WeightScenario {
  WeightType weights = WeightType::Fp16;           ///< the type model weights are stored in
  MatmulCompute compute = MatmulCompute::Native;  ///< where int8 and fp8 weights are multiplied
  /// Each model weight as its checkpoint stores it (TensorInfo::checkpoint_format) instead
  /// of as `weights`.
  bool checkpoint_weights = false;
  WeightScenario() = default;
  // Implicit: a bare weight type is the scenario of that type, computed natively.
  WeightScenario(WeightType w, MatmulCompute c = MatmulCompute::Native, bool checkpoint = false)  // NOLINT
      : weights(w), compute(c), checkpoint_weights(checkpoint) {}
};

/// The type a weight tensor is stored in on the chip under `scenario`: a compiler constant
/// (init "data") fp16, which holds it exactly; a model weight at the scenario's type or, with
/// checkpoint_weights, as its checkpoint stores it (fp8e5m2; fp8e4m3, also MXFP4's
/// container; fp16 for a 16-bit one).
WeightType stored_weight_type(const TensorInfo& weight, const WeightScenario& scenario);

/// Ministral 3 / Llama 4 query scaling (transformers' get_llama_4_attn_scale): the queries at
/// `position` times 1 + beta ln(1 + floor(position / original_positions)); 1 when beta is 0.
double llama4_query_scale(double beta, std::int64_t original_positions, std::int64_t position);

using AttrValue = std::variant<std::int64_t, double, std::string>;

struct Node {
  OpKind kind = OpKind::Add;
  std::string name;
  std::vector<int> inputs;   ///< tensor ids
  std::vector<int> outputs;  ///< tensor ids
  /// The op's own parameters, as the front ends and decompose give them (eps, axis, ...).
  std::map<std::string, AttrValue> attrs;
  /// MatMul with a model weight: how a multi-chip partition splits it, and the column groups
  /// (a head's width for attention projections) a Columns split keeps whole.
  WeightSplit split = WeightSplit::Replicated;
  std::int64_t split_unit = 1;
  /// AllReduce: the chips that sum, in rank order. Send / Recv: the other chip.
  std::vector<int> group;
  int peer = -1;

  // What passes decide and hand to the later passes: typed fields, not attrs.
  /// The transformer layer the node computes (set by the front end's graph builder, kept by
  /// every pass for the nodes it makes from this one); -1 outside the layers (embeddings,
  /// final norm, LM head) and in JSON graphs. Per-layer cycle attribution reads it.
  int layer = -1;
  /// MatMul only, set by the quantization pass: the number format of its weights.
  std::optional<WeightType> weight_type;
  /// MatMul with int8 or fp8 weights only, set by the quantization pass: multiplied in their
  /// own type (Native) or dequantised into an fp16 MXM (Fp16). Native for every other node.
  MatmulCompute matmul_compute = MatmulCompute::Native;
  /// MatMul with fp8e4m3 weights only, set by the quantization pass: the weights are the
  /// MXFP4 values of a checkpoint, held as fp8e4m3 codes with power-of-two column scales.
  bool mxfp4_weights = false;
  /// Matmuls with quantised activations only (int8 or fp8 weights, Native compute): the
  /// activation scale (quantization's default, then calibration's).
  std::optional<double> act_scale;
  /// Set by fuse_pointwise: the node is lowered as one VXM chain with the next node.
  bool fuse_into_next = false;
  /// Recv only, set by the partition pass: the tensor arrives from an earlier pipeline
  /// stage (a hand-off, not a collective's partial). A stage's chips start their work once
  /// every hand-off of the stage has arrived (lower_system, "stage gate").
  bool stage_input = false;

  std::int64_t int_attr(const std::string& key, std::int64_t fallback) const;
  double float_attr(const std::string& key, double fallback) const;
  std::string string_attr(const std::string& key, const std::string& fallback) const;
};

/// Where a MoeMlp node's inputs are: x, router, [router bias], then per expert w1, w3, w2
/// [, b1, b3, b2].
struct MoeLayout {
  bool biases = false;
  std::size_t router_bias() const { return 2; }  ///< valid only with biases
  std::size_t first_expert() const { return biases ? 3 : 2; }
  std::size_t per_expert() const { return biases ? 6 : 3; }
  /// Input index of part `part` (0 w1, 1 w3, 2 w2, 3 b1, 4 b3, 5 b2) of the i-th expert listed.
  std::size_t input(std::int64_t i, std::size_t part) const {
    return first_expert() + static_cast<std::size_t>(i) * per_expert() + part;
  }
  /// How many experts a node of `inputs` inputs lists (-1 when the count does not fit the layout).
  std::int64_t experts_listed(std::size_t inputs) const {
    if (inputs < first_expert() || (inputs - first_expert()) % per_expert() != 0) return -1;
    return static_cast<std::int64_t>((inputs - first_expert()) / per_expert());
  }
};

struct Node;
MoeLayout moe_layout(const Node& moe);

struct Graph {
  std::string name;
  std::string file;  ///< where it came from, for messages
  std::vector<TensorInfo> tensors;
  std::vector<Node> nodes;  ///< in a valid execution order
  /// Explicit values of constant tensors the compiler creates (row-major), by tensor name.
  std::map<std::string, std::vector<float>> values;

  int add_tensor(TensorInfo t);
  int find(const std::string& name) const;  ///< -1 if absent
  std::int64_t elements(int tensor) const;
};

/// Loads the documented JSON graph format (docs/compiler.md). Errors are InputError naming
/// file, key and expectation.
Graph load_graph_json(const std::string& path);
/// The same from JSON already parsed (`file` names it in messages).
Graph graph_from_json(const nlohmann::json& json, const std::string& file);

}  // namespace lpusim
