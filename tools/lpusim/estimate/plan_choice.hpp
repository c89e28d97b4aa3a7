#pragma once
// Which of several plans with the same number of chips `lpusim estimate` reports: each is
// simulated for the step the estimate shows (a decode step in the middle of generation, or an
// encoder's one pass) on the chosen system in timing mode, and the one with the fewest cycles
// (the best tokens/s per user) wins. The choice and every candidate's cycles go into the
// report.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "estimate/estimate_plan.hpp"
#include "frontend/transformer_spec.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/serving_model.hpp"

namespace lpusim::cli {

struct PlanCandidate {
  PartitionPlan plan;
  std::int64_t cycles = 0;  ///< the shown step's simulated cycles
};

struct PlanChoice {
  std::vector<PlanCandidate> candidates;  ///< as simulated; empty when there was nothing to choose
  std::optional<StepResult> chosen_step;  ///< the winner's simulated step, for the estimate to reuse
};

/// Simulates `where.alternatives` (when there are several) and moves the fastest into
/// `where.plan`, saying so in `where.why`.
PlanChoice choose_plan_by_simulation(const TransformerSpec& spec, const Scenario& scenario,
                                                     EstimatePlan& where);

}  // namespace lpusim::cli
