#include "frontend/plan_fit.hpp"

#include "arch/core/error.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace lpusim {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// Bytes of a [k, n] weight cut into lanes x lanes MXM blocks (the lowering's weight tiling).
std::int64_t block_bytes(std::int64_t k, std::int64_t n, const PlanRequest& r) {
  if (k <= 0 || n <= 0) return 0;
  return ceil_div(k, r.lanes) * ceil_div(n, r.lanes) * r.lanes * r.lanes * r.weight_bytes;
}

/// Width of the KV heads one of `tp` chips holds: its share, or one whole head when there
/// are fewer KV heads than chips (each chip keeps the head its query heads read).
std::int64_t kv_width_per_chip(const TransformerSpec& s, int tp) {
  return s.head_dim * std::max<std::int64_t>(1, s.kv_heads / tp);
}

std::int64_t layer_weight_bytes(const TransformerSpec& s, int tp, int ep, const PlanRequest& r) {
  const std::int64_t q = s.heads * s.head_dim / tp;
  const std::int64_t kv = kv_width_per_chip(s, tp);
  std::int64_t bytes = block_bytes(s.hidden, q, r) + 2 * block_bytes(s.hidden, kv, r) + block_bytes(q, s.hidden, r);
  const std::int64_t projections = s.gated_mlp ? 3 : 2;
  if (s.experts > 0) {
    const std::int64_t experts_here = s.experts / ep;
    const std::int64_t width = s.intermediate / (tp / ep);
    bytes += block_bytes(s.hidden, s.experts, r);  // the router, on every chip
    bytes += experts_here * projections * block_bytes(s.hidden, width, r);
  } else {
    bytes += projections * block_bytes(s.hidden, s.intermediate / tp, r);
  }
  return bytes;
}

}  // namespace

PartitionPlan requested_plan(const TransformerSpec& spec, int tp, int pp, int ep) {
  PartitionPlan p;
  p.tp = tp;
  p.pp = pp;
  p.ep = ep;
  std::string why;
  if (!plan_shape_valid(spec, tp, ep, &why)) throw InputError(fmt::format("{}: --tp {} --ep {}: {}", spec.file, tp, ep, why));
  if (pp > spec.layers) throw InputError(fmt::format("{}: --pp {}: the model has {} layers", spec.file, pp, spec.layers));
  p.stages = balanced_stages(spec.layers, pp);
  return p;
}

std::vector<LayerRange> balanced_stages(std::int64_t layers, int pp) {
  std::vector<LayerRange> stages;
  std::int64_t first = 0;
  for (int s = 0; s < pp; ++s) {
    const std::int64_t count = layers / pp + (s < layers % pp ? 1 : 0);
    stages.push_back(LayerRange{first, first + count});
    first += count;
  }
  return stages;
}

bool plan_shape_valid(const TransformerSpec& s, int tp, int ep, std::string* why) {
  auto no = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (tp < 1 || ep < 1) return no("tp and ep must be at least 1");
  if (s.heads % tp != 0) return no(fmt::format("tp {} does not divide the {} attention heads", tp, s.heads));
  if (s.kv_heads % tp != 0 && tp % s.kv_heads != 0)
    return no(fmt::format("tp {} and the {} KV heads do not divide one another", tp, s.kv_heads));
  if (s.experts > 0) {
    if (tp % ep != 0) return no(fmt::format("ep {} does not divide tp {}", ep, tp));
    if (s.experts % ep != 0) return no(fmt::format("ep {} does not divide the {} experts", ep, s.experts));
    if (s.intermediate % (tp / ep) != 0)
      return no(fmt::format("tp / ep = {} does not divide the expert width {}", tp / ep, s.intermediate));
  } else {
    if (ep != 1) return no("ep applies to mixture-of-experts models only");
    if (s.intermediate % tp != 0) return no(fmt::format("tp {} does not divide the MLP width {}", tp, s.intermediate));
  }
  if (s.has_lm_head && s.vocab_size < tp) return no(fmt::format("tp {} exceeds the vocabulary", tp));
  return true;
}

ChipFootprint plan_footprint(const TransformerSpec& s, const PartitionPlan& plan, const PlanRequest& r) {
  const std::int64_t per_layer = layer_weight_bytes(s, plan.tp, plan.ep, r);
  // Keys and values, fp16, of every position of every sequence.
  const std::int64_t kv_per_layer = 2 * kv_width_per_chip(s, plan.tp) * r.context * r.batch * 2;
  ChipFootprint worst;
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    ChipFootprint f;
    f.weight_bytes = plan.stages[i].count() * per_layer;
    f.kv_bytes = plan.stages[i].count() * kv_per_layer;
    const bool first = i == 0, last = i + 1 == plan.stages.size();
    // The embedding lookup runs on the host; learned positions are a table on the first stage.
    if (first && s.positions == PositionKind::Learned) f.weight_bytes += s.max_positions * s.hidden * 4;
    if (last && s.has_lm_head) f.weight_bytes += block_bytes(s.hidden, ceil_div(s.vocab_size, plan.tp), r);
    worst.weight_bytes = std::max(worst.weight_bytes, f.weight_bytes);
    worst.kv_bytes = std::max(worst.kv_bytes, f.kv_bytes);
  }
  return worst;
}

std::optional<std::vector<LayerRange>> fit_stages(const TransformerSpec& s, int tp, int ep, const PlanRequest& r,
                                                  const ChipBudget& budget, int max_stages) {
  const std::int64_t per_layer_weights = layer_weight_bytes(s, tp, ep, r);
  const std::int64_t per_layer_kv = 2 * kv_width_per_chip(s, tp) * r.context * r.batch * 2;
  // The learned-position table sits on the first stage, the LM head on the last.
  const std::int64_t first_extra = s.positions == PositionKind::Learned ? s.max_positions * s.hidden * 4 : 0;
  const std::int64_t last_extra = s.has_lm_head ? block_bytes(s.hidden, ceil_div(s.vocab_size, tp), r) : 0;
  auto capacity = [&](std::int64_t extra) -> std::int64_t {
    if (extra > budget.weight_bytes) return 0;
    std::int64_t layers = per_layer_weights > 0 ? (budget.weight_bytes - extra) / per_layer_weights : s.layers;
    if (per_layer_kv > 0) layers = std::min(layers, budget.kv_bytes / per_layer_kv);
    return std::min(layers, s.layers);
  };
  if (capacity(first_extra + last_extra) >= s.layers) return std::vector<LayerRange>{{0, s.layers}};
  const std::int64_t cap_first = capacity(first_extra), cap_last = capacity(last_extra), cap_mid = capacity(0);
  // The last stage may hold the LM head alone (no layers) when it leaves no room for one.
  if (cap_first < 1 || last_extra > budget.weight_bytes) return std::nullopt;
  std::int64_t stages = 2;
  while (cap_first + cap_last + (stages - 2) * cap_mid < s.layers) {
    if (cap_mid < 1 || stages >= max_stages || stages > s.layers) return std::nullopt;
    ++stages;
  }
  if (stages > max_stages) return std::nullopt;
  // As even as the capacities allow: the first and last stages take at most the average,
  // the middle ones share the rest evenly.
  const std::int64_t average = ceil_div(s.layers, stages);
  std::int64_t first = std::min(cap_first, average), last = std::min(cap_last, average);
  std::int64_t middle_layers = s.layers - first - last;
  const std::int64_t middles = stages - 2;
  if (middles == 0) {
    // Two stages: give the remainder to whichever stage has room.
    if (middle_layers > 0) {
      const std::int64_t more_first = std::min(middle_layers, cap_first - first);
      first += more_first;
      last += middle_layers - more_first;
    }
  } else if (ceil_div(middle_layers, middles) > cap_mid) {
    // The middle stages are full: the first and last stages take what they can hold.
    std::int64_t excess = middle_layers - middles * cap_mid;
    const std::int64_t more_first = std::min(excess, cap_first - first);
    first += more_first;
    excess -= more_first;
    last += excess;
    middle_layers = middles * cap_mid;
  }
  std::vector<LayerRange> out;
  std::int64_t at = 0;
  out.push_back({at, at + first});
  at += first;
  for (std::int64_t m = 0; m < middles; ++m) {
    const std::int64_t count = middle_layers / middles + (m < middle_layers % middles ? 1 : 0);
    out.push_back({at, at + count});
    at += count;
  }
  out.push_back({at, at + last});
  return out;
}

std::vector<PartitionPlan> feasible_plans(const TransformerSpec& s, const PlanRequest& r, const ChipBudget& budget,
                                          int max_chips) {
  std::vector<PartitionPlan> plans;
  for (int tp = 1; tp <= r.max_tp; ++tp) {
    for (int ep = 1; ep <= tp; ++ep) {
      if (!plan_shape_valid(s, tp, ep)) continue;
      auto stages = fit_stages(s, tp, ep, r, budget, max_chips / tp);
      if (!stages) continue;
      PartitionPlan p;
      p.tp = tp;
      p.ep = ep;
      p.pp = static_cast<int>(stages->size());
      p.stages = std::move(*stages);
      plans.push_back(std::move(p));
    }
  }
  std::sort(plans.begin(), plans.end(), [](const PartitionPlan& a, const PartitionPlan& b) {
    return a.chips() != b.chips() ? a.chips() < b.chips() : a.tp > b.tp;
  });
  return plans;
}

}  // namespace lpusim
