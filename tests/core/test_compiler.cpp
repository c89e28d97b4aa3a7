// The compiler's passes without a SystemC kernel: pointwise fusion (which nodes it joins,
// what it refuses, that it changes no value) and what it does to the schedule.
#include <catch2/catch.hpp>

#include <cmath>

#include "compiler/passes/passes.hpp"
#include "compiler/pipeline.hpp"
#include "compiler/interpreter/interpret.hpp"
#include "arch/config/chip_config.hpp"
#include "frontend/reference_transformer.hpp"

using namespace lpusim;

namespace {

/// A small graph builder for the tests.
struct GraphBuilder {
  Graph g;
  int tensor(const std::string& name, std::vector<std::int64_t> shape, TensorRole role = TensorRole::Intermediate) {
    TensorInfo t;
    t.name = name;
    t.shape = std::move(shape);
    t.role = role;
    t.init = "random";
    t.seed = static_cast<std::uint64_t>(g.tensors.size()) + 1;
    t.init_scale = 0.1;
    return g.add_tensor(t);
  }
  void node(OpKind kind, const std::string& name, std::vector<int> inputs, int output,
            std::map<std::string, AttrValue> attrs = {}) {
    Node n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    if (output >= 0) n.outputs = {output};
    n.attrs = std::move(attrs);
    g.nodes.push_back(std::move(n));
  }
};

bool fused(const Graph& g, const std::string& node) {
  for (const auto& n : g.nodes)
    if (n.name == node) return n.fuse_into_next;
  FAIL("no node " << node);
  return false;
}

std::vector<std::string> order(const Graph& g) {
  std::vector<std::string> names;
  for (const auto& n : g.nodes) names.push_back(n.name);
  return names;
}

/// y = relu(x w + r) * 0.5, with an unrelated node (u = r * r) between the matmul and the
/// add, and r also read by u: the add must move up next to the matmul.
Graph mlp_with_residual() {
  GraphBuilder b;
  const int x = b.tensor("x", {3, 400}, TensorRole::Input);
  const int r = b.tensor("r", {3, 500}, TensorRole::Input);
  const int w = b.tensor("w", {400, 500}, TensorRole::Weight);
  const int xw = b.tensor("xw", {3, 500});
  const int u = b.tensor("u", {3, 500}, TensorRole::Output);
  const int s = b.tensor("s", {3, 500});
  const int a = b.tensor("a", {3, 500});
  const int y = b.tensor("y", {3, 500}, TensorRole::Output);
  b.node(OpKind::MatMul, "mm", {x, w}, xw);
  b.node(OpKind::Mul, "square", {r, r}, u);
  b.node(OpKind::Add, "residual", {r, xw}, s);  // the fused operand second: swapped
  b.node(OpKind::Relu, "relu", {s}, a);
  b.node(OpKind::Scale, "half", {a}, y, {{"value", 0.5}});
  b.g.name = "mlp_with_residual";
  return b.g;
}

/// The graph as fuse_pointwise sees it in the pipeline: after the quantization pass.
Graph quantized(Graph g) {
  plan_quantization(g, WeightType::Fp16);
  return g;
}

}  // namespace

TEST_CASE("fuse_pointwise joins a matmul and the pointwise ops that read only its result", "[compiler]") {
  const Graph g = fuse_pointwise(quantized(mlp_with_residual()));
  verify_graph(g, "fuse_pointwise");
  CHECK(order(g) == std::vector<std::string>{"mm", "residual", "relu", "half", "square"});
  CHECK(fused(g, "mm"));
  CHECK(fused(g, "residual"));
  CHECK(fused(g, "relu"));
  CHECK_FALSE(fused(g, "half"));  // the run's last node: its output is the graph's
  CHECK_FALSE(fused(g, "square"));
  // The commutative add now reads the matmul's result as its first operand.
  CHECK(g.tensors[static_cast<std::size_t>(g.nodes[1].inputs[0])].name == "xw");
}

TEST_CASE("fuse_pointwise changes no value", "[compiler]") {
  const Graph plain = mlp_with_residual();
  const Graph fusedg = fuse_pointwise(plain);
  std::map<std::string, std::vector<float>> inputs;
  for (const char* name : {"x", "r"}) {
    std::vector<float> v(static_cast<std::size_t>(plain.elements(plain.find(name))));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    inputs[name] = v;
  }
  const auto a = interpret_primitive_graph(plain, inputs);
  const auto b = interpret_primitive_graph(fusedg, inputs);
  CHECK(a.at("y") == b.at("y"));
  CHECK(a.at("u") == b.at("u"));
}

TEST_CASE("fuse_pointwise refuses what would change values or needs the result twice", "[compiler]") {
  GraphBuilder b;
  const int x = b.tensor("x", {1, 320}, TensorRole::Input);
  const int cache = b.tensor("cache", {4, 320}, TensorRole::State);
  const int e = b.tensor("e", {1, 320});
  const int n = b.tensor("n", {1, 320});
  const int m = b.tensor("m", {1, 320});
  const int y = b.tensor("y", {1, 320}, TensorRole::Output);
  const int z = b.tensor("z", {1, 320}, TensorRole::Output);
  b.node(OpKind::Exp, "exp", {x}, e);
  b.node(OpKind::Neg, "neg", {e}, n);          // e has two readers: neg and mul
  b.node(OpKind::Mul, "mul", {n, e}, m);
  b.node(OpKind::Assign, "store", {cache, x}, -1, {{"row", std::int64_t{0}}});
  b.node(OpKind::Relu, "relu", {m}, y);        // m's reader is past a state write
  b.node(OpKind::Sub, "sub", {x, y}, z);       // y is an output: never fused away
  const Graph g = fuse_pointwise(b.g);
  verify_graph(g, "fuse_pointwise");
  CHECK_FALSE(fused(g, "exp"));
  CHECK(fused(g, "neg"));  // n's only reader is mul, reading it first
  CHECK_FALSE(fused(g, "mul"));
  CHECK_FALSE(fused(g, "relu"));
  CHECK(order(g) == std::vector<std::string>{"exp", "neg", "mul", "store", "relu", "sub"});
}

TEST_CASE("the verifier rejects a fusion mark on a node whose result is read elsewhere", "[compiler]") {
  Graph g = mlp_with_residual();
  g.nodes[0].fuse_into_next = true;  // mm's next node is 'square', not its reader
  CHECK_THROWS_AS(verify_graph(g, "fuse_pointwise"), std::logic_error);
}

TEST_CASE("fused chains skip the MEM round trips: fewer cycles, fewer instructions", "[compiler]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  CompileOptions with;
  with.lowering.functional_data = false;
  CompileOptions without = with;
  without.fuse_pointwise = false;
  const auto a = compile_graph(mlp_with_residual(), chip, with);
  const auto b = compile_graph(mlp_with_residual(), chip, without);
  // Unfused, each of the 3 pointwise ops reads its operand from MEM and writes its result
  // back (a read, the VXM op and a write per vector); fused, the matmul's results pass the
  // three ALUs on their way to MEM, so the three round trips and their reads/writes go.
  CHECK(a.lowered.scheduled_length < b.lowered.scheduled_length);
  CHECK(a.lowered.instructions < b.lowered.instructions);
}

TEST_CASE("fuse_pointwise: a result squared (x * x) is fused, reading the stream twice", "[compiler]") {
  GraphBuilder b;
  const int x = b.tensor("x", {2, 320}, TensorRole::Input);
  const int r = b.tensor("r", {2, 320});
  const int y = b.tensor("y", {2, 320}, TensorRole::Output);
  b.node(OpKind::Rsqrt, "rsqrt", {x}, r);
  b.node(OpKind::Mul, "square", {r, r}, y);
  const Graph g = fuse_pointwise(b.g);
  verify_graph(g, "fuse_pointwise");
  CHECK(fused(g, "rsqrt"));
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  CompileOptions with;
  CompileOptions without = with;
  without.fuse_pointwise = false;
  const auto a = compile_graph(b.g, chip, with);
  const auto c = compile_graph(b.g, chip, without);
  // Unfused: rsqrt writes r, the mul reads it twice (4 planes each); fused: neither.
  CHECK(a.lowered.instructions < c.lowered.instructions);
  CHECK(a.lowered.scheduled_length < c.lowered.scheduled_length);
}

TEST_CASE("rope's rotate-half runs as SXM lane permutes, also for heads that straddle two tiles", "[compiler]") {
  // 5 heads of 128 lanes = 640 lanes = 2 tiles: head 2 (lanes 256..383) straddles them, so
  // tile 0 takes lanes from tile 1 and tile 1 from tile 0: three permutes (offsets 0, -1, +1).
  GraphBuilder b;
  const int x = b.tensor("x", {3, 640}, TensorRole::Input);
  const int y = b.tensor("y", {3, 640}, TensorRole::Output);
  b.node(OpKind::Rope, "rope", {x}, y, {{"head_dim", std::int64_t{128}}, {"theta", 10000.0}, {"position", std::int64_t{7}}});
  infer_shapes(b.g);
  const Graph g = decompose(b.g);
  verify_graph(g, "decompose");
  int permutes = 0, matmuls = 0;
  for (const auto& n : g.nodes) {
    permutes += n.kind == OpKind::PermuteLanes;
    matmuls += n.kind == OpKind::MatMul;
  }
  CHECK(permutes == 3);
  CHECK(matmuls == 0);
  std::vector<float> xv(3 * 640);
  for (std::size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>(std::cos(0.11 * static_cast<double>(i)));
  const auto out = interpret_primitive_graph(g, {{"x", xv}});
  Eigen::MatrixXf xm(3, 640);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 640; ++c) xm(r, c) = xv[static_cast<std::size_t>(r * 640 + c)];
  const Eigen::MatrixXf expected = apply_rope(xm, 128, 7, rope_inverse_frequencies(128, 10000.0, RopeScaling{}));
  double worst = 0;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 640; ++c)
      worst = std::max(worst, static_cast<double>(std::fabs(out.at("y")[static_cast<std::size_t>(r * 640 + c)] - expected(r, c))));
  CHECK(worst < 1e-5);
}
