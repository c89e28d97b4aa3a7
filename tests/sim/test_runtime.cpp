// The host runtime (sim/runtime/host_runtime.hpp) running compiled programs on the simulated
// chip: a prefill and decode steps that carry the KV cache, against the Eigen reference; and
// timing mode, which must give the functional run's cycles. Each program runs in a child
// process (simulate_in_child), so one test case may run several.
#include <catch2/catch.hpp>

#include <cmath>

#include "arch/config/chip_config.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/workload.hpp"

using namespace lpusim;

namespace {
/// max |got - want| / max |want| over all values.
double relative_error(const std::vector<float>& got, const Eigen::MatrixXf& want) {
  REQUIRE(got.size() == static_cast<std::size_t>(want.size()));
  double worst = 0, scale = 0;
  for (Eigen::Index r = 0; r < want.rows(); ++r)
    for (Eigen::Index c = 0; c < want.cols(); ++c) {
      const double g = got[static_cast<std::size_t>(r * want.cols() + c)];
      worst = std::isfinite(g) ? std::max(worst, std::fabs(g - want(r, c))) : INFINITY;
      scale = std::max(scale, static_cast<double>(std::fabs(want(r, c))));
    }
  return worst / scale;
}
}  // namespace

TEST_CASE("a session carries each sequence's KV cache from the prefill through decode steps", "[runtime]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const TransformerSpec spec = load_workload("tiny-llama").spec();
  SessionOptions options;
  options.mode = RunMode::Functional;
  options.weights = WeightType::Fp16;
  options.batch = 2;
  options.context = 6;
  TransformerSession session(spec, chip, options);
  const std::vector<std::vector<int>> ids{{5, 17, 2, 9, 30, 11}, {40, 3, 3, 21, 7, 1}};
  std::vector<ReferenceTransformer> references(2, ReferenceTransformer(spec, build_transformer_graph(spec, 1, 0, 1),
                                                                      Precision::Fp16Matmul));
  auto reference = [&](std::size_t b, std::int64_t first, std::int64_t count) {
    const std::vector<int> tokens(ids[b].begin() + first, ids[b].begin() + first + count);
    return references[b].forward(tokens, static_cast<int>(first));
  };
  // Prefill of 4 tokens: the output rows are sequence 0's four, then sequence 1's.
  const StepResult prefill = session.prefill(4, {{5, 17, 2, 9}, {40, 3, 3, 21}});
  CHECK(prefill.past == 0);
  CHECK(prefill.tokens == 4);
  CHECK(prefill.simulated_equals_scheduled());
  const HostTensor& logits = prefill.outputs.at("logits");
  REQUIRE(logits.rows == 8);
  REQUIRE(logits.cols == spec.vocab_size);
  for (std::size_t b = 0; b < 2; ++b) {
    const auto first = logits.values.begin() + static_cast<std::ptrdiff_t>(b * 4 * logits.cols);
    CHECK(relative_error({first, first + 4 * logits.cols}, reference(b, 0, 4)) < 0.005);
  }
  CHECK(session.position() == 4);
  // Two decode steps: each sees the positions the steps before it cached (a cache that was
  // not carried would leave the attention over zeros, far from the reference).
  for (std::int64_t past = 4; past < 6; ++past) {
    const StepResult step = session.decode({ids[0][static_cast<std::size_t>(past)], ids[1][static_cast<std::size_t>(past)]});
    CHECK(step.past == past);
    const HostTensor& out = step.outputs.at("logits");
    REQUIRE(out.rows == 2);
    for (std::size_t b = 0; b < 2; ++b) {
      const auto first = out.values.begin() + static_cast<std::ptrdiff_t>(b * out.cols);
      CHECK(relative_error({first, first + out.cols}, reference(b, past, 1)) < 0.005);
    }
    CHECK(step.outputs.size() == 1);  // the caches stay in the session
  }
  CHECK(session.position() == 6);
  CHECK_THROWS_AS(session.seek(2), std::logic_error);  // functional steps need the real caches
}

TEST_CASE("timing mode gives the functional run's cycles, and can start a decode step at any position", "[runtime]") {
  const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  const TransformerSpec spec = load_workload("tiny-gpt2").spec();
  SessionOptions functional;
  functional.mode = RunMode::Functional;
  functional.weights = WeightType::Int8;
  functional.context = 4;
  TransformerSession f(spec, chip, functional);
  const StepResult f_prefill = f.prefill(3, {{1, 2, 3}});
  const StepResult f_decode = f.decode({4});
  CHECK_FALSE(f.activation_scales().empty());  // int8: the prefill calibrated its matmuls' scales

  SessionOptions timing = functional;
  timing.mode = RunMode::Timing;
  TransformerSession t(spec, chip, timing);
  const StepResult t_prefill = t.prefill(3);
  CHECK(t_prefill.outputs.empty());  // no values in timing mode
  t.seek(3);
  const StepResult t_decode = t.decode();
  CHECK(t_prefill.cycles() == f_prefill.cycles());
  CHECK(t_decode.cycles() == f_decode.cycles());
  CHECK(t_decode.past == 3);
  CHECK(t_decode.simulated_equals_scheduled());
  CHECK(t_decode.layer_cycles().size() == static_cast<std::size_t>(spec.layers));
  CHECK(t_decode.weight_macs > 0);
  CHECK(t_decode.simulated.host_seconds > 0);
  CHECK(t_decode.compile_seconds > 0);
}
