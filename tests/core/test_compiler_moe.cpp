// The dense MoE decomposition (compiler/passes/decompose.cpp) run by the fp32 interpreter of
// primitive graphs, against a direct top-k computation and the Eigen reference of Mixtral.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/interpreter/interpret.hpp"
#include "frontend/transformer_spec.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "compiler/ir/weight_init.hpp"

using namespace lpusim;

namespace {

constexpr std::int64_t kExperts = 4, kTopK = 2, kHidden = 4, kFfn = 3;

int add(Graph& g, const std::string& name, std::vector<std::int64_t> shape, TensorRole role) {
  TensorInfo t;
  t.name = name;
  t.shape = std::move(shape);
  t.role = role;
  return g.add_tensor(t);
}

/// y = moe(x) with router = identity, so each row of x is its own router logits; expert
/// weights are fixed, distinct small numbers.
Graph moe_graph(std::int64_t rows) {
  Graph g;
  g.name = "moe_test";
  Node n;
  n.kind = OpKind::MoeMlp;
  n.name = "y";
  n.inputs.push_back(add(g, "x", {rows, kHidden}, TensorRole::Input));
  const int router = add(g, "router", {kHidden, kExperts}, TensorRole::Weight);
  n.inputs.push_back(router);
  std::vector<float> identity(static_cast<std::size_t>(kHidden * kExperts), 0.0f);
  for (std::int64_t i = 0; i < kExperts; ++i) identity[static_cast<std::size_t>(i * kExperts + i)] = 1.0f;
  g.values["router"] = identity;
  for (std::int64_t e = 0; e < kExperts; ++e)
    for (const char* which : {"w1", "w3", "w2"}) {
      const std::string name = "e" + std::to_string(e) + "." + which;
      const bool down = std::string(which) == "w2";
      const int w = add(g, name, down ? std::vector<std::int64_t>{kFfn, kHidden} : std::vector<std::int64_t>{kHidden, kFfn},
                        TensorRole::Weight);
      std::vector<float> v(static_cast<std::size_t>(kHidden * kFfn));
      for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = 0.1f * static_cast<float>((static_cast<std::int64_t>(i) * 7 + e * 5 + (down ? 3 : 1)) % 11 - 5);
      g.values[name] = v;
      n.inputs.push_back(w);
    }
  n.outputs.push_back(add(g, "y", {rows, kHidden}, TensorRole::Output));
  n.attrs = {{"experts", kExperts}, {"top_k", kTopK}, {"activation", std::string("silu")}};
  g.nodes.push_back(n);
  return g;
}

using Row = std::vector<double>;

Row matvec(const Row& x, const std::vector<float>& w, std::int64_t in, std::int64_t out) {
  Row y(static_cast<std::size_t>(out), 0.0);
  for (std::int64_t j = 0; j < out; ++j)
    for (std::int64_t i = 0; i < in; ++i) y[static_cast<std::size_t>(j)] += x[static_cast<std::size_t>(i)] * w[static_cast<std::size_t>(i * out + j)];
  return y;
}

/// Hugging Face Mixtral on one row, computed directly: the k largest logits (equal ones by
/// lower expert index), softmax over them, the weighted sum of the chosen experts.
void direct_moe(const Graph& g, const Row& x, Row& gates, Row& y) {
  std::vector<int> order(static_cast<std::size_t>(kExperts));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x[static_cast<std::size_t>(a)] > x[static_cast<std::size_t>(b)]; });
  gates.assign(static_cast<std::size_t>(kExperts), 0.0);
  double total = 0.0;
  for (std::int64_t k = 0; k < kTopK; ++k) total += std::exp(x[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])] - x[static_cast<std::size_t>(order[0])]);
  for (std::int64_t k = 0; k < kTopK; ++k) {
    const int e = order[static_cast<std::size_t>(k)];
    gates[static_cast<std::size_t>(e)] = std::exp(x[static_cast<std::size_t>(e)] - x[static_cast<std::size_t>(order[0])]) / total;
  }
  y.assign(static_cast<std::size_t>(kHidden), 0.0);
  for (std::int64_t e = 0; e < kExperts; ++e) {
    if (gates[static_cast<std::size_t>(e)] == 0.0) continue;
    const std::string p = "e" + std::to_string(e) + ".";
    const Row gate = matvec(x, g.values.at(p + "w1"), kHidden, kFfn), up = matvec(x, g.values.at(p + "w3"), kHidden, kFfn);
    Row h(static_cast<std::size_t>(kFfn));
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
    const Row out = matvec(h, g.values.at(p + "w2"), kFfn, kHidden);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += gates[static_cast<std::size_t>(e)] * out[i];
  }
}

}  // namespace

TEST_CASE("dense MoE decomposition: top-k, ties to the lower index, exact zero gates", "[compiler]") {
  // Each row is its own router logits (router = identity).
  const std::vector<Row> rows = {
      {3.0, 1.0, 2.0, 0.0},      // a clear choice: experts 0 and 2
      {0.0, 5.0, 5.0, 1.0},      // a tie for first place: both chosen, equal gates
      {1.0, 2.0, 2.0, 2.0},      // three tied for first: the two lower indices (1, 2)
      {-1.0, 0.5, 0.5, 3.0},     // a tie for second place: 3, then 1 (not 2)
      {100.0, 90.0, 95.0, 80.0}, // exp(100) overflows fp32: the top logit must be subtracted
      {-2.0, -3.0, -1.0, -4.0},  // all negative: experts 2 and 0
  };
  const Graph g = moe_graph(static_cast<std::int64_t>(rows.size()));
  const Graph primitive = decompose(g);
  REQUIRE_NOTHROW(verify_graph(primitive, "decompose"));
  std::vector<float> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  const auto values = interpret_primitive_graph(primitive, {{"x", x}});
  const auto& gates = values.at("y.gate");
  const auto& y = values.at("y");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    INFO("row " << r);
    Row want_gates, want_y;
    direct_moe(g, rows[r], want_gates, want_y);
    double scale = 0.0;
    for (double v : want_y) scale = std::max(scale, std::fabs(v));
    for (std::int64_t e = 0; e < kExperts; ++e) {
      const double got = gates[r * kExperts + static_cast<std::size_t>(e)];
      INFO("expert " << e << ": gate " << got << ", want " << want_gates[static_cast<std::size_t>(e)]);
      if (want_gates[static_cast<std::size_t>(e)] == 0.0) CHECK(got == 0.0);  // unselected: exactly 0
      else CHECK(std::fabs(got - want_gates[static_cast<std::size_t>(e)]) < 1e-6);
    }
    for (std::int64_t i = 0; i < kHidden; ++i)
      CHECK(std::fabs(y[r * kHidden + static_cast<std::size_t>(i)] - want_y[static_cast<std::size_t>(i)]) < 1e-5 * scale);
  }
}

TEST_CASE("dense MoE decomposition: the greater primitives give 1.0 and 0.0", "[compiler]") {
  Graph g;
  g.name = "compare";
  const int a = add(g, "a", {1, 4}, TensorRole::Input), b = add(g, "b", {1, 4}, TensorRole::Input);
  for (OpKind kind : {OpKind::Greater, OpKind::GreaterEqual}) {
    Node n;
    n.kind = kind;
    n.name = op_name(kind);
    n.inputs = {a, b};
    n.outputs = {add(g, op_name(kind), {1, 4}, TensorRole::Output)};
    g.nodes.push_back(n);
  }
  const auto v = interpret_primitive_graph(g, {{"a", {1.0f, 2.0f, 3.0f, -0.0f}}, {"b", {2.0f, 2.0f, 1.0f, 0.0f}}});
  CHECK(v.at("greater") == std::vector<float>{0.0f, 0.0f, 1.0f, 0.0f});
  CHECK(v.at("greater_equal") == std::vector<float>{0.0f, 1.0f, 1.0f, 1.0f});
}

namespace {
/// The largest |logit error| / max |logit| of `model` (a bundled tiny config) decomposed and
/// interpreted in fp32 against the Eigen reference, over a prompt of `tokens`.
/// `weight_gain` multiplies the init scale of the weights whose names end in one of `gained`.
double decomposed_vs_reference(const std::string& model, std::int64_t tokens, double weight_gain = 1.0,
                               const std::vector<std::string>& gained = {}) {
  const TransformerSpec s = load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/" + model + "/config.json");
  Graph g = build_transformer_graph(s, tokens, 0);
  for (auto& t : g.tensors)
    for (const auto& suffix : gained)
      if (t.name.size() >= suffix.size() && t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0)
        t.init_scale *= weight_gain;
  const Graph primitive = decompose(g);
  REQUIRE_NOTHROW(verify_graph(primitive, "decompose"));
  std::vector<int> ids;
  for (std::int64_t i = 0; i < tokens; ++i) ids.push_back(static_cast<int>((i * 37 + 5) % s.vocab_size));
  const auto table = make_weight_values(g.tensors[static_cast<std::size_t>(g.find("embed.weight"))]);
  std::vector<float> embedded;
  for (int id : ids) embedded.insert(embedded.end(), table.begin() + id * s.hidden, table.begin() + (id + 1) * s.hidden);
  const auto values = interpret_primitive_graph(primitive, {{"embed", embedded}});
  ReferenceTransformer reference(s, g, Precision::Fp32);
  const Eigen::MatrixXf want = reference.forward(ids, 0);
  const auto& got = values.at("logits");
  double worst = 0.0;
  for (Eigen::Index r = 0; r < want.rows(); ++r)
    for (Eigen::Index c = 0; c < want.cols(); ++c)
      worst = std::max(worst, static_cast<double>(std::fabs(got[static_cast<std::size_t>(r * want.cols() + c)] - want(r, c))));
  return worst / static_cast<double>(want.cwiseAbs().maxCoeff());
}
}  // namespace

TEST_CASE("dense MoE decomposition of tiny-mixtral matches the fp32 Eigen reference", "[compiler]") {
  // The whole model, decomposed and interpreted in fp32, against the reference written from
  // the config (softmax, stable top-k, renormalise): a wrong routing rule would pick other
  // experts for some of these tokens and change their logits by far more than 1e-4.
  const double error = decomposed_vs_reference("tiny-mixtral", 12);
  INFO("max |error| / max |logit| = " << error);
  CHECK(error < 1e-4);
}

TEST_CASE("tiny-gpt-oss decomposed matches the fp32 Eigen reference: sinks, biases, clamped GLU", "[compiler]") {
  // 12 tokens through a sliding layer (window 4) and a full one: a sink left out of a
  // softmax's denominator, a bias dropped or the clamp misplaced changes the logits far
  // beyond 1e-4.
  const double error = decomposed_vs_reference("tiny-gpt-oss", 12);
  INFO("max |error| / max |logit| = " << error);
  CHECK(error < 1e-4);
  // The gate and up projections 40x larger (|gate| and |up| of order 20): the clamps at 7
  // now bite on most lanes, and each side must clamp where the reference does.
  const double clamped = decomposed_vs_reference("tiny-gpt-oss", 12, 40.0, {".w1.weight", ".w3.weight"});
  INFO("clamped: max |error| / max |logit| = " << clamped);
  CHECK(clamped < 1e-4);
}
