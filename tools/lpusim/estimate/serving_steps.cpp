#include "estimate/serving_steps.hpp"

namespace lpusim::cli {

SessionOptions serving_session_options(const TransformerSpec& spec, const Scenario& scenario, const PartitionPlan& plan,
                                       const std::optional<SystemConfig>& system) {
  const bool generates = spec.causal;
  SessionOptions options;
  options.mode = RunMode::Timing;
  options.weights = scenario.weights;
  options.checkpoint_weights = scenario.checkpoint_weights;
  options.compute = scenario.compute;
  options.batch = scenario.batch;
  // Serving the batch needs every sequence's cache for the whole context, not just the
  // positions the measured decode step reaches.
  options.context = scenario.context(generates);
  options.prefill_last_rows_only = generates;  // the first generated token needs only the last row's logits
  options.plan = plan;
  options.system = system;
  options.simulate_every_chip = scenario.simulate_every_chip;
  return options;
}

ServingSteps run_serving_steps(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario,
                               const PartitionPlan& plan, const std::optional<SystemConfig>& system,
                               std::optional<StepResult> shown_step) {
  const bool generates = spec.causal;
  const SessionOptions options = serving_session_options(spec, scenario, plan, system);
  TransformerSession session(spec, chip, options);  // refuses a model that does not fit, weights first
  const bool reuse = shown_step.has_value();
  ServingSteps s{!generates && reuse ? std::move(*shown_step) : session.prefill(scenario.prompt_length), std::nullopt, {}};
  if (generates) {
    session.seek(scenario.decode_past());
    s.decode = reuse ? std::move(*shown_step) : session.decode();
  }
  const StepResult& shown = s.shown();
  const SramUse sram{shown.lowering.weight_bytes, shown.lowering.activation_bytes};
  s.estimate = estimate_serving(
      chip, spec, scenario, PhaseMeasurement{s.prefill.cycles(), s.prefill.weight_macs},
      s.decode ? std::optional<PhaseMeasurement>(PhaseMeasurement{s.decode->cycles(), s.decode->weight_macs})
               : std::nullopt,
      sram);
  return s;
}

}  // namespace lpusim::cli
