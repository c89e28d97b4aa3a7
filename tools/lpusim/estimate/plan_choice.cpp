#include "estimate/plan_choice.hpp"

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "estimate/serving_steps.hpp"
#include "runtime/host_runtime.hpp"

namespace lpusim::cli {

PlanChoice choose_plan_by_simulation(const TransformerSpec& spec, const Scenario& scenario, EstimatePlan& where) {
  PlanChoice choice;
  std::vector<PlanCandidate>& candidates = choice.candidates;
  std::vector<StepResult> steps;
  if (where.alternatives.size() < 2 || !where.system) return choice;
  const bool generates = spec.causal;
  std::string refused;
  for (const PartitionPlan& plan : where.alternatives) {
    // A candidate the compiler refuses (an activation working set no count foresees) drops
    // out; the estimate fails only if every one does.
    try {
      const SessionOptions options = serving_session_options(spec, scenario, plan, where.system);
      TransformerSession session(spec, where.system->chip, options);
      // Timing mode: a decode step can start at any position without the prefill before it.
      if (generates) session.seek(scenario.decode_past());
      StepResult step = generates ? session.decode() : session.prefill(scenario.prompt_length);
      candidates.push_back(PlanCandidate{plan, step.cycles()});
      steps.push_back(std::move(step));
    } catch (const InputError& e) {
      refused = e.what();
    }
  }
  if (candidates.empty()) throw InputError(refused);
  std::size_t best = 0;
  for (std::size_t i = 1; i < candidates.size(); ++i)
    if (candidates[i].cycles < candidates[best].cycles) best = i;
  std::string compared;
  for (const PlanCandidate& c : candidates)
    compared += fmt::format("{}tp {} x pp {}{}: {} cycles", compared.empty() ? "" : ", ", c.plan.tp, c.plan.pp,
                            c.plan.ep > 1 ? fmt::format(" x ep {}", c.plan.ep) : "", c.cycles);
  where.plan = candidates[best].plan;
  where.why += fmt::format("; of the plans of {} chips, the fastest {} ({})", where.plan.chips(),
                           generates ? "decode step" : "encode", compared);
  choice.chosen_step = std::move(steps[best]);
  return choice;
}

}  // namespace lpusim::cli
