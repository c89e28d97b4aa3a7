#include "frontend/transformer_cost.hpp"

#include "compiler/passes/passes.hpp"
#include "frontend/transformer_graph.hpp"

namespace lpusim {

CompileCost require_transformer_fits(const TransformerSpec& spec, const ChipConfig& chip, WeightType weights,
                                     bool functional_data, const TransformerStep& step) {
  require_compilable_chip(chip);
  const std::string what = spec.file;
  // (void) parameters(): an overflowing count is refused by name before anything is built.
  (void)spec.parameters();
  TransformerSpec one_layer = spec;
  one_layer.layers = 1;
  Graph graph = build_transformer_graph(one_layer, step.tokens, step.past, step.batch);
  infer_shapes(graph);
  // Weights, KV caches and decompose's constants first: they decide whether the one-layer
  // graph may be decomposed at all.
  require_compile_fits(estimate_graph_cost(graph, chip, weights, "l0.", spec.layers), chip, weights, what);
  Graph primitive = decompose(graph);
  plan_quantization(primitive, weights);
  primitive = fuse_pointwise(primitive);
  const CompileCost cost = estimate_primitive_cost(primitive, chip, weights, functional_data, "l0.", spec.layers);
  require_compile_fits(cost, chip, weights, what);
  return cost;
}

}  // namespace lpusim
