#pragma once
// Where `lpusim estimate` runs a model: one chip, or a partition plan on a system of chips.
// The user may force a plan (--tp/--pp/--ep) and a system (--system); otherwise a model whose
// weights and KV caches fit one chip runs on one, and a larger one gets the fewest chips that
// fit (frontend/plan_fit.hpp: tensor parallel within a node first, then pipeline stages) on
// the smallest standard system that has that many chips; of the plans of that many chips the
// estimate simulates each and keeps the fastest (estimate/plan_choice.hpp).
#include <optional>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/config/system_config.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "frontend/transformer_spec.hpp"
#include "runtime/serving_model.hpp"

namespace lpusim::cli {

struct PlanRequestArgs {
  int tp = 0, pp = 0, ep = 0;  ///< 0: not given
  std::string system;          ///< empty: not given
};

struct EstimatePlan {
  PartitionPlan plan;                 ///< one chip when plan.chips() == 1
  std::optional<SystemConfig> system;  ///< set when the plan has several chips
  std::string why;                    ///< how the plan and system were chosen, for the report
  /// A chosen (not forced) plan: every feasible plan with its number of chips, to be
  /// simulated for the fastest (estimate/plan_choice.hpp).
  std::vector<PartitionPlan> alternatives;
};

EstimatePlan choose_estimate_plan(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario,
                                  const PlanRequestArgs& args);

}  // namespace lpusim::cli
