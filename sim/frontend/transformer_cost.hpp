#pragma once
// The cost of compiling one step of a transformer, from its config alone: the step's graph is
// built for one layer, costed (sim/compiler/cost/compile_cost.hpp) with that layer repeated
// for every layer, and refused (InputError, exit code 2, the numbers in the message) when it
// cannot fit the chip or exceeds a limit. A config of thousands of layers or experts is so
// judged in milliseconds, before its graph is built.
#include <cstdint>
#include <string>

#include "arch/config/chip_config.hpp"
#include "compiler/cost/compile_cost.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

struct TransformerStep {
  std::int64_t tokens = 1;  ///< new tokens per sequence (prefill: the prompt)
  std::int64_t past = 0;    ///< cached positions per sequence
  std::int64_t batch = 1;   ///< sequences
  /// Only each sequence's last output row is computed (CompileOptions::last_row_outputs: a
  /// prefill that starts generation needs only the last token's logits).
  bool last_rows_only = false;
};

/// The step's compile cost; throws InputError when it does not fit or exceeds a limit.
CompileCost require_transformer_fits(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                                     bool functional_data, const TransformerStep& step);
/// Whether the step's weights and resident data (KV caches, inputs, outputs) fit one chip, by
/// the same counts as require_transformer_fits (the shapes', then the one-layer primitive
/// graph's), without refusing for instructions or host memory.
bool transformer_fits_one_chip(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                               const TransformerStep& step);
/// Whether every chip of `plan` fits by the compiler's own counts (its graph's, then its
/// primitive graph's, as compile_system checks them) for `step`: plan_fit's footprints choose
/// plans, this says whether the compile will take them. The stages that can differ are
/// checked, every rank of each: the first (embedding), the second (the most layers) and the
/// last (the LM head). Otherwise `why` says which chip does not fit and how.
/// `with_activations`: the step's intermediates' peak counts too (CompileCost::activations_fit:
/// a prompt chunk's attention against every position before it).
bool plan_fits_chips(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                     const PartitionPlan& plan, const TransformerStep& step, std::string* why = nullptr,
                     bool with_activations = false);
/// The same numbers for the whole model, with no refusal: what a step costs to compile and
/// simulate however it is spread over chips (the instructions and host memory of a
/// partitioned step are those of the whole model, divided among its chips).
CompileCost transformer_step_cost(const TransformerSpec& spec, const ChipConfig& chip, const WeightScenario& weights,
                                  bool functional_data, const TransformerStep& step);

}  // namespace lpusim
