#include "runtime/model_costs.hpp"

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "frontend/transformer_graph.hpp"

namespace lpusim {

void check_model_fits(const TransformerSpec& spec, const ChipConfig& chip, WeightType weights, std::int64_t batch,
                      std::int64_t positions, bool checkpoint_weights) {
  // One step's graph holds every weight (its values are not made).
  check_weights_fit(build_transformer_graph(spec, 1, 0, 1), chip, weights, checkpoint_weights);
  check_kv_caches_fit(spec, chip, batch, positions);
}

std::int64_t weight_macs(const Graph& g) {
  auto shape = [&](int t) { return g.tensors[static_cast<std::size_t>(t)].shape; };
  auto rows = [&](int t) {
    const auto s = shape(t);
    std::int64_t r = 1;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) r *= s[i];
    return r;
  };
  auto elements = [&](int t) { return g.elements(t); };
  auto is_weight = [&](int t) { return g.tensors[static_cast<std::size_t>(t)].role == TensorRole::Weight; };
  std::int64_t macs = 0;
  for (const Node& n : g.nodes) {
    if (n.kind == OpKind::MatMul) {
      // Inputs come in (x, w) pairs (a multi-term matmul accumulates several).
      for (std::size_t i = 0; i + 1 < n.inputs.size(); i += 2)
        if (is_weight(n.inputs[i + 1])) macs += rows(n.inputs[i]) * elements(n.inputs[i + 1]);
    } else if (n.kind == OpKind::MoeMlp && n.inputs.size() >= 2) {
      // x, router, then (w1, w3, w2) per expert (MoeLayout): each row goes through the router
      // and top_k experts.
      const std::int64_t r = rows(n.inputs[0]);
      const std::int64_t experts = n.int_attr("experts", 0), top_k = n.int_attr("top_k", 0);
      const MoeLayout layout = moe_layout(n);
      const std::int64_t listed = layout.experts_listed(n.inputs.size());
      std::int64_t weights = 0;
      for (std::int64_t e = 0; e < listed; ++e)
        for (std::size_t part = 0; part < 3; ++part) weights += elements(n.inputs[layout.input(e, part)]);
      // A chip of an expert-parallel group lists its share of the experts: its share of the MACs.
      macs += r * elements(n.inputs[1]) + (experts > 0 ? r * top_k * (weights / experts) : 0);
    }
  }
  return macs;
}

void check_kv_caches_fit(const TransformerSpec& spec, const ChipConfig& chip, std::int64_t batch, std::int64_t positions) {
  const std::int64_t capacity = chip_capacity(chip).activation_vectors;
  const std::int64_t per_sequence = kv_cache_vectors(spec, 1, positions, chip.lanes());
  const std::int64_t needed = batch * per_sequence;
  if (needed <= capacity) return;
  const double vector_mb = static_cast<double>(chip.lanes()) * 4.0 / 1e6;
  const std::int64_t fit = capacity / per_sequence;
  throw InputError(fmt::format(
      "{}: batch {}: the KV caches of {} sequences x {} positions need {:.1f} MB but the activation SRAM of one {} "
      "holds {:.1f} MB; {} (or more chips: --tp/--pp)",
      spec.file, batch, batch, positions, static_cast<double>(needed) * vector_mb, chip.name,
      static_cast<double>(capacity) * vector_mb,
      fit == 0 ? std::string("not even one sequence fits at this context")
               : fmt::format("at most {} sequences fit at this context", fit)));
}

}  // namespace lpusim
