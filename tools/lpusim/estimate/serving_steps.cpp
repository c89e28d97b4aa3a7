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

namespace {

/// The prompt in chunks of `chunk` tokens, one after another: the first, the last full and
/// the last chunk simulated (all when there are at most three), the full chunks between them
/// interpolated. Every chunk computes its last row's logits (the graph has its LM head; one
/// row of it per chunk). `prefill` becomes the last chunk's step with the whole prompt's cycles.
PrefillChunks prefill_in_chunks(TransformerSession& session, std::int64_t prompt, std::int64_t chunk,
                                StepResult& prefill) {
  PrefillChunks c;
  c.chunk_tokens = chunk;
  c.chunks = (prompt + chunk - 1) / chunk;
  for (std::int64_t i = 0; i < c.chunks; ++i)
    if (c.chunks <= 3 || i == 0 || i + 2 >= c.chunks) c.simulated.push_back(i);
  double compile_seconds = 0, simulate_seconds = 0;
  std::int64_t macs = 0;
  for (std::int64_t i : c.simulated) {
    session.seek(i * chunk);
    const bool last = i + 1 == c.chunks;
    StepResult step = session.prefill_chunk(last ? prompt - i * chunk : chunk);
    c.cycles.push_back(step.cycles());
    compile_seconds += step.compile_seconds;
    simulate_seconds += step.simulated.host_seconds;
    if (i == 0) macs = step.weight_macs;  // a full chunk's, scaled below
    prefill = std::move(step);
  }
  std::int64_t total = 0;
  if (!c.interpolated()) {
    for (std::int64_t cycles : c.cycles) total += cycles;
  } else {
    // Full chunks 0 .. n-2 at cycles linear in their index between the first and the last
    // full one's, and the last chunk as simulated.
    const std::int64_t n = c.chunks, first = c.cycles[0], last_full = c.cycles[1];
    double full = 0;
    for (std::int64_t i = 0; i + 1 < n; ++i)
      full += static_cast<double>(first) + static_cast<double>(last_full - first) * static_cast<double>(i) /
                                               static_cast<double>(n - 2);
    total = static_cast<std::int64_t>(full + 0.5) + c.cycles[2];
  }
  // The whole prompt's cycles and weight work; the last chunk's program stands for the rest.
  const std::int64_t shift = total - prefill.cycles();
  prefill.simulated.total_cycles = Cycle(total);
  prefill.scheduled_length = prefill.scheduled_length + Cycle(shift);
  prefill.tokens = prompt;
  prefill.past = 0;
  prefill.weight_macs = static_cast<std::int64_t>(static_cast<double>(macs) * static_cast<double>(prompt) /
                                                  static_cast<double>(chunk));
  prefill.compile_seconds = compile_seconds;
  prefill.simulated.host_seconds = simulate_seconds;
  return c;
}

}  // namespace

ServingSteps run_serving_steps(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario,
                               const PartitionPlan& plan, const std::optional<SystemConfig>& system,
                               std::optional<StepResult> shown_step) {
  const bool generates = spec.causal;
  const SessionOptions options = serving_session_options(spec, scenario, plan, system);
  TransformerSession session(spec, chip, options);  // refuses a model that does not fit, weights first
  const bool reuse = shown_step.has_value();
  const std::int64_t prompt = scenario.prompt_length, chunk = scenario.prefill_chunk_tokens;
  ServingSteps s;
  try {
    if (generates && chunk > 0 && chunk < prompt) {
      s.prefill_chunks = prefill_in_chunks(session, prompt, chunk, s.prefill);
      session.seek(0);
    } else {
      s.prefill = !generates && reuse ? std::move(*shown_step) : session.prefill(prompt);
    }
  } catch (const PortBufferOverflow& e) {
    throw PrefillPortBufferOverflow(e.what());
  }
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
