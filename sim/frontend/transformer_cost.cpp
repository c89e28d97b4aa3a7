#include "frontend/transformer_cost.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/passes/passes.hpp"
#include "frontend/transformer_graph.hpp"

namespace lpusim {

namespace {

/// What both entry points build: the one-of-each-kind graph and how often each kind repeats.
/// Without `check`, only the numbers (no refusal).
CompileCost step_cost(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                      bool functional_data, const TransformerStep& step, bool check, bool shapes_only = false) {
  require_compilable_chip(chip);
  const std::string what = spec.file;
  // (void) parameters(): an overflowing count is refused by name before anything is built.
  (void)spec.parameters();
  // One layer of each kind the model has (a MoE or a dense MLP: qwen3_moe's mlp_only_layers
  // and decoder_sparse_step; full or sliding-window attention), layer l<k> repeated for the
  // layers of kind k.
  struct LayerKind {
    bool moe;
    std::int64_t window;
  };
  std::vector<LayerKind> kinds;
  std::vector<LayerRepeat> repeats;
  for (std::int64_t i = 0; i < spec.layers; ++i) {
    const LayerKind kind{spec.is_moe_layer(i), spec.window_of(i)};
    std::size_t k = 0;
    while (k < kinds.size() && (kinds[k].moe != kind.moe || kinds[k].window != kind.window)) ++k;
    if (k == kinds.size()) {
      kinds.push_back(kind);
      repeats.push_back(LayerRepeat{fmt::format("l{}.", k), 0});
    }
    ++repeats[k].times;
  }
  TransformerSpec one_of_each = spec;
  one_of_each.layers = static_cast<std::int64_t>(kinds.size());
  if (spec.experts > 0) {
    one_of_each.moe_layers.clear();
    for (const LayerKind& k : kinds) one_of_each.moe_layers.push_back(k.moe);
  }
  if (spec.sliding_window) {
    one_of_each.sliding_layers.clear();
    for (const LayerKind& k : kinds) one_of_each.sliding_layers.push_back(k.window != 0);
  }
  auto step_graph = [&](std::int64_t batch) {
    Graph g = build_transformer_graph(one_of_each, step.tokens, step.past, batch);
    infer_shapes(g);
    if (step.last_rows_only) keep_last_output_rows(g, batch);  // as the pipeline does
    return g;
  };
  Graph graph = step_graph(step.batch);
  // Weights, KV caches and decompose's constants first: they decide whether the one-layer
  // graph may be decomposed at all.
  const CompileCost before = estimate_graph_cost(graph, chip, weights, repeats);
  if (shapes_only) return before;
  if (check && before.weights_fit() && before.resident_words > before.resident_word_capacity) {
    // The caches grow with the batch: say how many sequences would fit.
    auto resident = [&](std::int64_t batch) {
      return estimate_graph_cost(step_graph(batch), chip, weights, repeats).resident_words;
    };
    const std::int64_t one = step.batch == 1 ? before.resident_words : resident(1);
    const std::int64_t per_sequence = std::max<std::int64_t>(1, resident(2) - one);
    const std::int64_t fixed = one - per_sequence;
    const std::int64_t fit = std::max<std::int64_t>(0, (before.resident_word_capacity - fixed) / per_sequence);
    const double vector_bytes = 4.0 * chip.lanes();
    throw InputError(fmt::format(
        "{}: batch {}: {} sequence{} x {} positions need {} of activation SRAM for their KV caches, inputs and "
        "outputs ({} of it per sequence) but the 24 MEM slices next to the VXM of one {} hold {}; {} (or spread "
        "the model over chips: --tp/--pp)",
        what, step.batch, step.batch, step.batch == 1 ? "" : "s", step.past + step.tokens, format_bytes(static_cast<double>(before.resident_words) * vector_bytes),
        format_bytes(static_cast<double>(per_sequence) * vector_bytes), chip.name,
        format_bytes(static_cast<double>(before.resident_word_capacity) * vector_bytes),
        fit == 0 ? std::string("not even one sequence fits at this context")
                 : fmt::format("at most {} sequence{} at this context", fit, fit == 1 ? " fits" : "s fit")));
  }
  if (check) require_compile_fits(before, chip, weights, what);
  Graph primitive = decompose(graph);
  plan_quantization(primitive, weights);
  primitive = fuse_pointwise(std::move(primitive));
  const CompileCost cost = estimate_primitive_cost(primitive, chip, weights, functional_data, repeats);
  if (check) require_compile_fits(cost, chip, weights, what);
  return cost;
}

}  // namespace

CompileCost require_transformer_fits(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                                     bool functional_data, const TransformerStep& step) {
  return step_cost(spec, chip, weights, functional_data, step, true);
}

bool transformer_fits_one_chip(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                                const TransformerStep& step) {
  // The front end's count (shapes), then the primitive graph's, the one the compile itself
  // checks: "fits" here means the one-chip compile will not refuse for SRAM.
  const CompileCost shapes = step_cost(spec, chip, weights, false, step, false, true);
  if (!shapes.weights_fit() || shapes.resident_words > shapes.resident_word_capacity) return false;
  const CompileCost primitive = step_cost(spec, chip, weights, false, step, false);
  return primitive.weights_fit() && primitive.resident_words <= primitive.resident_word_capacity;
}

bool plan_fits_chips(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                     const PartitionPlan& plan, const TransformerStep& step, std::string* why,
                     bool with_activations) {
  Graph whole = build_transformer_graph(spec, step.tokens, step.past, step.batch);
  infer_shapes(whole);
  std::vector<Graph> chips = partition_graph(whole, plan);
  std::vector<int> stages{0, std::min(1, plan.pp - 1), plan.pp - 1};
  stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
  auto fits = [&](const CompileCost& c) {
    return c.weights_fit() && c.resident_words <= c.resident_word_capacity && (!with_activations || c.activations_fit());
  };
  for (int s : stages)
    for (int r = 0; r < plan.tp; ++r) {
      const int c = s * plan.tp + r;
      Graph& g = chips[static_cast<std::size_t>(c)];
      infer_shapes(g);
      if (step.last_rows_only) keep_last_output_rows(g, step.batch);
      CompileCost cost = estimate_graph_cost(g, chip, weights);
      if (fits(cost)) {
        Graph primitive = decompose(g);
        expand_collectives(primitive, c);
        plan_quantization(primitive, weights);
        primitive = fuse_pointwise(std::move(primitive));
        cost = estimate_primitive_cost(primitive, chip, weights, false);
      }
      if (fits(cost)) continue;
      if (why) {
        const std::string where = fmt::format("chip {} (stage {}, rank {})", c, s, r);
        try {
          require_compile_fits(cost, chip, weights, where);
          const double vector_bytes = 4.0 * chip.lanes();
          *why = cost.largest_intermediate_rows > cost.words_per_slice
                     ? fmt::format("{}: an intermediate of {} rows is longer than a MEM slice's {} words", where,
                                   cost.largest_intermediate_rows, cost.words_per_slice)
                     : fmt::format("{}: the step's intermediates need up to {} of activation SRAM beside {} of inputs, "
                                   "outputs and KV caches, more than the 24 MEM slices next to the VXM hold ({})",
                                   where, format_bytes(static_cast<double>(cost.peak_intermediate_words) * vector_bytes),
                                   format_bytes(static_cast<double>(cost.resident_words) * vector_bytes),
                                   format_bytes(static_cast<double>(cost.resident_word_capacity) * vector_bytes));
        } catch (const InputError& e) {
          *why = e.what();
        }
      }
      return false;
    }
  return true;
}

CompileCost transformer_step_cost(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                                  bool functional_data, const TransformerStep& step) {
  return step_cost(spec, chip, weights, functional_data, step, false);
}

}  // namespace lpusim
