// The partition pass: a tiny model cut over 2 to 5 chips (tensor, pipeline and expert
// parallel), each chip's graph decomposed and interpreted with its transfers, gives the logits
// of the one-chip graph (fp32 throughout: only the order of the partial sums differs).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "compiler/interpreter/interpret.hpp"
#include "compiler/passes/passes.hpp"
#include "frontend/plan_fit.hpp"
#include "frontend/transformer_graph.hpp"

using namespace lpusim;

namespace {
using Values = std::map<std::string, std::vector<float>>;

TransformerSpec bundled(const std::string& name) {
  return load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/" + name + "/config.json");
}

std::vector<float> uniform(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

PartitionPlan plan_of(const TransformerSpec& s, int tp, int pp, int ep = 1) {
  PartitionPlan p;
  p.tp = tp;
  p.pp = pp;
  p.ep = ep;
  p.stages = balanced_stages(s.layers, pp);
  return p;
}

std::int64_t elements(const TensorInfo& t) {
  std::int64_t n = 1;
  for (auto d : t.shape) n *= d;
  return n;
}

/// The host's inputs of a step (embedding rows, and KV caches with `past` positions filled)
/// for the one-chip graph, and each chip's share of them.
struct StepInputs {
  Values whole;
  std::vector<Values> chips;
};

StepInputs inputs_for(const Graph& whole_primitive, const std::vector<Graph>& chips, const std::vector<Graph>& chip_graphs) {
  StepInputs in;
  unsigned seed = 1;
  for (const auto& t : whole_primitive.tensors)
    if (t.role == TensorRole::Input || t.role == TensorRole::State)
      in.whole[t.name] = uniform(static_cast<std::size_t>(elements(t)), seed++);
  // A chip's copy of an input or state is the whole one, or the columns its cut keeps (a
  // cache cut like k and v: its name and width say which).
  for (std::size_t c = 0; c < chips.size(); ++c) {
    Values v;
    for (const auto& t : chips[c].tensors) {
      if (t.role != TensorRole::Input && t.role != TensorRole::State) continue;
      const auto& all = in.whole.at(t.name);
      const auto& whole_t = whole_primitive.tensors[static_cast<std::size_t>(whole_primitive.find(t.name))];
      if (whole_t.shape == t.shape) {
        v[t.name] = all;
        continue;
      }
      // Find the cut in the partitioned (pre-decompose) graph's weight slices: caches carry no
      // slice_of, so take the chip's k projection's column offset from its graph.
      const Graph& g = chip_graphs[c];
      std::int64_t begin = -1;
      for (const auto& w : g.tensors)
        if (w.slice_of && w.name.find(".attn.k.weight") != std::string::npos &&
            t.name.substr(0, t.name.find('.')) == w.name.substr(0, w.name.find('.')))
          begin = w.slice_of->col_begin;
      REQUIRE(begin >= 0);
      const std::int64_t rows = t.shape[0], cols = t.shape[1], full = whole_t.shape[1];
      std::vector<float> part(static_cast<std::size_t>(rows * cols));
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t k = 0; k < cols; ++k)
          part[static_cast<std::size_t>(r * cols + k)] = all[static_cast<std::size_t>(r * full + begin + k)];
      v[t.name] = part;
    }
    in.chips.push_back(std::move(v));
  }
  return in;
}

/// Runs `spec`'s step (tokens new, past cached) on one chip and on `plan`'s chips; returns
/// max |difference| / max |one-chip logit|.
double partition_error(const TransformerSpec& spec, const PartitionPlan& plan, std::int64_t tokens, std::int64_t past) {
  Graph whole = build_transformer_graph(spec, tokens, past);
  infer_shapes(whole);
  const Graph whole_primitive = decompose(whole);
  const std::vector<Graph> chip_graphs = partition_graph(whole, plan);
  REQUIRE(static_cast<int>(chip_graphs.size()) == plan.chips());
  std::vector<Graph> chips;
  for (const auto& g : chip_graphs) {
    verify_graph(g, "partition");
    chips.push_back(decompose(g));
    verify_graph(chips.back(), "decompose");
  }
  const StepInputs in = inputs_for(whole_primitive, chips, chip_graphs);
  const auto want = interpret_primitive_graph(whole_primitive, in.whole).at("logits");
  const auto got = interpret_system(chips, in.chips);
  // The last stage's chips hold the logits' columns in rank order.
  const std::int64_t vocab = spec.vocab_size;
  std::vector<float> joined(static_cast<std::size_t>(tokens * vocab), NAN);
  std::int64_t col = 0;
  for (int r = 0; r < plan.tp; ++r) {
    const int chip = (plan.pp - 1) * plan.tp + r;
    const auto& part = got[static_cast<std::size_t>(chip)].at("logits");
    const auto width = static_cast<std::int64_t>(part.size()) / tokens;
    for (std::int64_t t = 0; t < tokens; ++t)
      for (std::int64_t k = 0; k < width; ++k)
        joined[static_cast<std::size_t>(t * vocab + col + k)] = part[static_cast<std::size_t>(t * width + k)];
    col += width;
  }
  REQUIRE(col == vocab);
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    worst = std::isfinite(joined[i]) ? std::max(worst, static_cast<double>(std::fabs(joined[i] - want[i]))) : INFINITY;
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
  }
  return worst / scale;
}
}  // namespace

TEST_CASE("partition: tiny-llama over tensor, pipeline and both gives the one-chip logits") {
  const TransformerSpec s = bundled("tiny-llama");  // 8 heads, 2 KV heads, 2 layers
  CHECK(partition_error(s, plan_of(s, 2, 1), 4, 0) < 1e-5);
  CHECK(partition_error(s, plan_of(s, 1, 2), 4, 0) < 1e-5);
  CHECK(partition_error(s, plan_of(s, 2, 2), 4, 0) < 1e-5);
  // 4 chips over 2 KV heads: each KV head on 2 chips.
  CHECK(partition_error(s, plan_of(s, 4, 1), 4, 0) < 1e-5);
  // A decode step reading a KV cache of 5 positions cut like k and v.
  CHECK(partition_error(s, plan_of(s, 2, 2), 1, 5) < 1e-5);
}

TEST_CASE("partition: tiny-gpt2 over 5 chips (biases, learned positions, tied LM head split by an uneven vocabulary)") {
  const TransformerSpec s = bundled("tiny-gpt2");  // 5 heads, vocab 509 = 4 x 102 + 101
  CHECK(partition_error(s, plan_of(s, 5, 1), 3, 0) < 1e-5);
  CHECK(partition_error(s, plan_of(s, 5, 2), 3, 0) < 1e-5);
}

TEST_CASE("partition: an MoE's experts by expert groups, by width, or both") {
  const TransformerSpec s = bundled("tiny-mixtral-tp");  // 4 heads, 2 KV heads, 4 experts, top 2
  CHECK(partition_error(s, plan_of(s, 2, 1, 2), 3, 0) < 1e-5);  // 2 experts per chip
  CHECK(partition_error(s, plan_of(s, 2, 1, 1), 3, 0) < 1e-5);  // every expert half-width on each chip
  CHECK(partition_error(s, plan_of(s, 4, 2, 2), 3, 0) < 1e-5);  // 2 groups of 2 chips, 8 chips in all
}

TEST_CASE("partition: the chips of a stage send the residual stream to the same rank of the next") {
  const TransformerSpec s = bundled("tiny-llama");
  Graph whole = build_transformer_graph(s, 2, 0);
  infer_shapes(whole);
  const auto chips = partition_graph(whole, plan_of(s, 2, 2));
  auto count = [](const Graph& g, OpKind k) {
    return std::count_if(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.kind == k; });
  };
  for (int c = 0; c < 4; ++c) {
    const Graph& g = chips[static_cast<std::size_t>(c)];
    // One layer per stage: an all-reduce after attention's output projection and after the MLP.
    REQUIRE(count(g, OpKind::AllReduce) == 2);
    REQUIRE(count(g, OpKind::Send) == (c < 2 ? 1 : 0));
    REQUIRE(count(g, OpKind::Recv) == (c < 2 ? 0 : 1));
    for (const auto& n : g.nodes) {
      if (n.kind == OpKind::Send || n.kind == OpKind::Recv) REQUIRE(n.peer == (c + 2) % 4);
      if (n.kind == OpKind::AllReduce) REQUIRE(n.group == std::vector<int>{c / 2 * 2, c / 2 * 2 + 1});
    }
  }
}

TEST_CASE("partition: a split the heads do not allow is an input error") {
  const TransformerSpec s = bundled("tiny-llama");  // 8 heads of 64
  Graph whole = build_transformer_graph(s, 2, 0);
  infer_shapes(whole);
  REQUIRE_THROWS_WITH(partition_graph(whole, plan_of(s, 3, 1)),
                      Catch::Contains("cannot partition over 3 chips per stage") &&
                          Catch::Contains("do not divide between the chips"));
}
