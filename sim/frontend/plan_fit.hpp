#pragma once
// Which partition plans (compiler/ir/partition_plan.hpp) fit a transformer on a chip
// (docs/multichip.md, "Plans"):
//   tensor parallelism  tp chips per pipeline stage split every layer: attention by heads
//                       (KV heads too; replicated when there are fewer KV heads than chips),
//                       the MLP by its width, the LM head by vocabulary;
//   expert parallelism  of a stage's tp chips, ep split the experts of an MoE layer between
//                       them (tp / ep then split each expert's width);
//   pipeline stages     pp consecutive groups of layers, the first with the embedding, the
//                       last with the LM head; each holds its layers' KV cache.
// This file computes what a plan puts on each chip (weights, KV cache) from the config
// alone, and enumerates the plans that fit a chip's SRAM. The compiler's own placement is
// the final word on fit; these footprints mirror its layout (weights in 320 x 320 blocks)
// so that a plan found here also fits there.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/partition_plan.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

/// What one chip of a plan holds, in bytes (the largest over the plan's chips).
struct ChipFootprint {
  std::int64_t weight_bytes = 0;  ///< weight blocks as the compiler lays them out
  std::int64_t kv_bytes = 0;      ///< keys and values of every cached position, fp16
  std::int64_t total() const { return weight_bytes + kv_bytes; }
};

/// The SRAM one chip offers a plan: for weights, and for the KV cache and activations.
struct ChipBudget {
  std::int64_t weight_bytes = 0;
  std::int64_t kv_bytes = 0;
};

/// Chips per stage at most (--tp's range): beyond a node's 8 only when one layer does not fit
/// a node (estimate's plan choice).
constexpr int kMaxTensorParallel = 64;

/// What the user asks the plan to hold.
struct PlanRequest {
  int weight_bytes = 1;             ///< bytes per stored weight (int8: 1, fp16: 2)
  std::int64_t batch = 1;           ///< sequences, each with its own KV cache
  std::int64_t context = 0;         ///< positions cached per sequence
  std::int64_t lanes = 320;         ///< the chip's vector width (weight blocks are lanes x lanes)
  int max_tp = 8;                   ///< chips per stage at most (a GroqNode is fully connected)
};

/// Layers split as evenly as possible: the first `layers % pp` stages get one more.
std::vector<LayerRange> balanced_stages(std::int64_t layers, int pp);

/// Whether `tp` (and `ep`) can split this model: tp divides the heads, the MLP width and
/// (MoE) ep divides the experts and tp; KV heads either divide by tp or tp by them.
bool plan_shape_valid(const TransformerSpec& spec, int tp, int ep, std::string* why = nullptr);

/// The plan a user asks for (tp chips per stage, of which ep split the experts, pp stages of
/// balanced layers), checked against the model: an InputError naming the flag when tp or ep
/// does not split it or pp exceeds its layers.
PartitionPlan requested_plan(const TransformerSpec& spec, int tp, int pp, int ep);

/// The largest per-chip footprint of `plan` (over its stages).
ChipFootprint plan_footprint(const TransformerSpec& spec, const PartitionPlan& plan, const PlanRequest& request);

/// The fewest stages (at most `max_stages`) whose chips each fit `budget`, the first stage
/// also holding the position table and the last the LM head, layers spread as evenly as those
/// allow; nullopt if none fits.
std::optional<std::vector<LayerRange>> fit_stages(const TransformerSpec& spec, int tp, int ep, const PlanRequest& request,
                                                  const ChipBudget& budget, int max_stages);

/// Every valid plan that fits `budget` on at most `max_chips` chips, with the fewest stages for
/// each (tp, ep): the plans worth simulating. Sorted by chips, then tp descending.
std::vector<PartitionPlan> feasible_plans(const TransformerSpec& spec, const PlanRequest& request,
                                          const ChipBudget& budget, int max_chips);

}  // namespace lpusim
