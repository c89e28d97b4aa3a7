#include "estimate/estimate_system.hpp"

#include <algorithm>
#include <iostream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "engine/report/stats.hpp"
#include "estimate/estimate_json.hpp"
#include "estimate/estimate_table.hpp"
#include "estimate/plan_choice.hpp"
#include "estimate/serving_steps.hpp"
#include "frontend/transformer_cost.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/stage_reuse.hpp"

namespace lpusim::cli {

namespace {

std::string list(const std::vector<std::int64_t>& v) {
  std::string text;
  for (std::size_t i = 0; i < v.size() && i < 6; ++i) text += fmt::format("{}{}", i ? ", " : "", v[i]);
  if (v.size() > 6) text += fmt::format(", ... ({} stages)", v.size());
  return text;
}

}  // namespace

int estimate_on_system(const SystemEstimateInput& in) {
  const TransformerSpec& spec = in.spec;
  Scenario scenario = in.scenario;  // a prompt too large to compile at once gets a chunk size
  EstimatePlan where = in.where;
  const PartitionPlan& plan = where.plan;  // the fastest of where.alternatives, once simulated
  const SystemConfig& system = *where.system;
  const ChipConfig& chip = system.chip;
  const bool generates = spec.causal;

  // Cost before work, from the config: a partitioned step issues the whole model's
  // instructions, spread over its chips. Simulated whole (--full, or two stages), every
  // chip's compile and simulation is held in this process at once; on three or more stages
  // a step is compiled and simulated a stage class at a time (runtime/stage_reuse.hpp), each
  // window about one stage's share (stages hold about equal work). Each compile is bounded
  // like a one-chip compile's.
  const WeightScenario weight_scenario(scenario.weights, scenario.compute, scenario.checkpoint_weights);
  std::uint64_t host_bytes = 0;
  std::int64_t instructions = 0;
  const bool windowed = !scenario.simulate_every_chip && plan.pp > 2;
  const int stage_classes = windowed ? classify_stages_by_plan(plan, system).classes() : 1;
  auto per_compile = [&](std::int64_t whole) { return windowed ? (whole + plan.pp - 1) / plan.pp : whole; };
  // Costed for one sequence and scaled: a step's work grows with its batch, and a large
  // batch's graph is itself what this check must not build.
  auto step_cost = [&](TransformerStep step) {
    const std::int64_t batch = step.batch;
    step.batch = 1;
    CompileCost cost = transformer_step_cost(spec, chip, weight_scenario, false, step);
    cost.instructions = per_compile(cost.instructions * batch);
    cost.host_bytes = static_cast<std::uint64_t>(per_compile(static_cast<std::int64_t>(cost.host_bytes) * batch));
    return cost;
  };
  // A stage's hand-off is forwarded over links other hand-offs share (a GroqRack's node-to-
  // node links): it must fit a port's buffer while it waits (the compiler does not stage
  // forwards through SRAM yet), which bounds the rows a step may hand off.
  const std::int64_t handoff_row_vectors = 4 * ((spec.hidden + chip.lanes() - 1) / chip.lanes());  // fp32 planes
  bool forwarded = false;
  for (int c = 0; c + plan.tp < plan.chips() && !forwarded; ++c)
    forwarded = system.route(ChipId(c), ChipId(c + plan.tp)).size() > 1;
  const std::int64_t handoff_rows = forwarded
                                        ? static_cast<std::int64_t>(limits::kC2cPortBufferVectors) / handoff_row_vectors
                                        : std::numeric_limits<std::int64_t>::max();
  if (scenario.batch > handoff_rows)
    throw InputError(fmt::format("{}: a batch of {} hands {} vectors from stage to stage, more than the {} a C2C port's "
                                 "buffer holds while a forward waits (lpusim does not stage forwards through SRAM "
                                 "yet): a batch of at most {} fits",
                                 in.path, scenario.batch, scenario.batch * handoff_row_vectors,
                                 limits::kC2cPortBufferVectors, handoff_rows));
  // A decoder's prompt too large to compile at once, to hand off at once, or whose
  // intermediates (its attention against every position before it) do not fit the plan's
  // activation slices, is prefilled in chunks (each attending to the ones before it): the
  // largest power-of-two chunk whose last one fits all three.
  const std::int64_t max_chunk = forwarded ? handoff_rows / scenario.batch : std::numeric_limits<std::int64_t>::max();
  std::string activations_refused;
  auto activations_fit = [&](std::int64_t tokens) {
    return plan_fits_chips(spec, chip, weight_scenario, plan,
                           {tokens, scenario.prompt_length - tokens, scenario.batch, true}, &activations_refused, true);
  };
  if (generates && (scenario.prompt_length > max_chunk ||
                    step_cost({scenario.prompt_length, 0, scenario.batch, true}).instructions > kMaxCompiledInstructions ||
                    !activations_fit(scenario.prompt_length))) {
    std::int64_t chunk = 1;
    while (chunk * 2 < scenario.prompt_length && chunk * 2 <= max_chunk &&
           step_cost({chunk * 2, scenario.prompt_length - chunk * 2, scenario.batch, true}).instructions <=
               kMaxCompiledInstructions &&
           activations_fit(chunk * 2))
      chunk *= 2;
    if (!activations_fit(chunk)) {
      // A forced plan may not hold the weights at all: said as such, not as a chunk's.
      std::string refused;
      if (!plan_fits_chips(spec, chip, weight_scenario, plan, {chunk, scenario.prompt_length - chunk, scenario.batch, true},
                           &refused))
        throw InputError(fmt::format("{}: the plan {} does not fit: {}", in.path, plan.describe(), refused));
      throw InputError(fmt::format("{}: on {}, even a prompt chunk of {} token{} does not fit: {}", in.path,
                                   plan.describe(), chunk, chunk == 1 ? "" : "s", activations_refused));
    }
    scenario.prefill_chunk_tokens = chunk;
  }
  auto check_step = [&](const char* name, TransformerStep step, std::int64_t times) {
    const std::int64_t batch = step.batch;
    const CompileCost cost = step_cost(step);
    const std::string simulated = windowed ? fmt::format("one of {} stages", plan.pp) : fmt::format("{} chips", plan.chips());
    if (cost.instructions > kMaxCompiledInstructions) {
      // What would fit: a smaller batch, a shorter prompt or context, or (when one token of
      // one sequence is already too much) more pipeline stages or more chips per stage.
      const std::int64_t one_token = per_compile(
          transformer_step_cost(spec, chip, weight_scenario, false, {1, 0, 1, step.last_rows_only}).instructions);
      const std::string advice =
          one_token > kMaxCompiledInstructions
              ? fmt::format("even one token of one sequence issues about {} there: a plan with more stages "
                            "(--pp) compiles less at a time (docs/multichip.md, \"Stage reuse\")",
                            one_token)
          : batch > 1 ? "a smaller batch or a shorter context fits"
          : step.tokens > 1 ? "a shorter prompt fits"
                            : "a shorter context fits";
      throw InputError(fmt::format("{}: the {} on {} would issue about {} instructions, more than the {} "
                                   "(2^24) lpusim compiles at once; {}",
                                   in.path, name, simulated, cost.instructions, kMaxCompiledInstructions, advice));
    }
    host_bytes += cost.host_bytes + simulation_host_bytes(cost.instructions);
    instructions += cost.instructions * (windowed ? stage_classes : 1) * times;
  };
  const std::int64_t chunk = scenario.prefill_chunk_tokens;
  if (chunk > 0) {
    const std::int64_t chunks = (scenario.prompt_length + chunk - 1) / chunk;
    check_step("prefill's last chunk", {chunk, scenario.prompt_length - chunk, scenario.batch, true}, std::min<std::int64_t>(chunks, 3));
  } else {
    check_step("prefill", {scenario.prompt_length, 0, scenario.batch, generates}, 1);
  }
  if (generates) check_step("decode step", {1, scenario.context(true) - 1, scenario.batch}, 1);
  if (instructions > kMaxEstimateInstructions)
    throw InputError(fmt::format("{}: estimating it on {} would compile and simulate about {} instructions in all "
                                 "({} stage window{} a step{}), more than the {} (2^28, about 40 minutes of one core) "
                                 "an estimate takes on; a shorter prompt or context, or a smaller batch, costs less",
                                 in.path, plan.describe(), instructions, windowed ? stage_classes : 1,
                                 windowed && stage_classes == 1 ? "" : "s",
                                 chunk > 0 ? ", 3 prompt chunks" : "", kMaxEstimateInstructions));
  limits::require_host_memory(host_bytes, fmt::format("{}: estimating it on {} chips ({} instructions)", in.path,
                                                      plan.chips(), instructions));

  PlanChoice choice = choose_plan_by_simulation(spec, scenario, where);
  const std::vector<PlanCandidate>& candidates = choice.candidates;
  // A prefill whose forwarded transfers would overflow a port's buffer (no count foresees
  // it: it depends on how the links' traffic interleaves; the lowering's account finds it)
  // is retried in chunks of half the size, down to one token.
  ServingSteps steps;
  for (std::optional<StepResult> shown = std::move(choice.chosen_step);;) {
    try {
      // The decode step simulated by plan choice is reused once; a retry simulates it again.
      std::optional<StepResult> reused = std::move(shown);
      shown.reset();
      steps = run_serving_steps(spec, chip, scenario, plan, system, std::move(reused));
      break;
    } catch (const PrefillPortBufferOverflow& e) {
      const std::int64_t tokens = scenario.prefill_chunk_tokens > 0 ? scenario.prefill_chunk_tokens : scenario.prompt_length;
      if (!generates || tokens <= 1) throw;
      std::int64_t half = 1;
      while (half * 2 < tokens) half *= 2;
      std::cerr << fmt::format("lpusim estimate: a prefill of {} token{} overflows a C2C port buffer ({}); retrying in "
                               "chunks of {}\n",
                               tokens, tokens == 1 ? "" : "s", e.what(), half);
      scenario.prefill_chunk_tokens = half;
    }
  }
  const StepResult& prefill = steps.prefill;
  const std::optional<StepResult>& decode = steps.decode;
  const StepResult& shown = steps.shown();
  const ServingEstimate& e = steps.estimate;
  const bool exact = steps.simulated_equals_scheduled();
  // Per stage (runtime/system_run.hpp): span of the step, split into compute and C2C on
  // the stage's last chip.
  std::vector<std::int64_t> spans;
  std::int64_t compute_cycles = 0, c2c_cycles = 0;
  nlohmann::json stage_json = nlohmann::json::array();
  for (const StageTime& t : shown.stage_times) {
    spans.push_back(t.span);
    compute_cycles += t.compute;
    c2c_cycles += t.c2c;
    stage_json.push_back({{"cycles", t.span}, {"compute_cycles", t.compute}, {"c2c_cycles", t.c2c}});
  }
  const std::int64_t slowest = *std::max_element(spans.begin(), spans.end());
  const double clock_hz = chip.clock_mhz * 1e6;
  // With a batch in every stage (pp batches in flight), a step leaves the pipeline every
  // slowest-stage span, and no user gets tokens faster than one per token latency: the
  // aggregate rate for pp x batch concurrent users.
  const double per_batch_per_s = generates ? e.tokens_per_s : e.sequences_per_s;
  const double pipelined_per_s =
      std::min(plan.pp * per_batch_per_s,
               static_cast<double>(scenario.batch) * clock_hz / static_cast<double>(std::max<std::int64_t>(slowest, 1)));
  // At one batch in flight, each stage works its span of the step and waits the rest: the
  // stages' idle shares, averaged.
  double idle_sum = 0;
  for (std::int64_t span : spans)
    idle_sum += 1.0 - static_cast<double>(span) / static_cast<double>(std::max<std::int64_t>(shown.cycles(), 1));
  const double idle_percent = 100.0 * idle_sum / static_cast<double>(spans.size());
  // With a batch in every stage, a stage works its span of every slowest-stage period: the
  // rest is the pipeline's bubble.
  double bubble_sum = 0;
  for (std::int64_t span : spans)
    bubble_sum += 1.0 - static_cast<double>(span) / static_cast<double>(std::max<std::int64_t>(slowest, 1));
  const double bubble_percent = 100.0 * bubble_sum / static_cast<double>(spans.size());
  const double step_cycles = static_cast<double>(std::max<std::int64_t>(compute_cycles + c2c_cycles, 1));
  const double mac_percent = e.mac_utilisation_percent / plan.chips();
  const double compile_seconds = prefill.compile_seconds + (decode ? decode->compile_seconds : 0.0);
  const double simulate_seconds = prefill.simulated.host_seconds + (decode ? decode->simulated.host_seconds : 0.0);

  nlohmann::json j = serving_json(in.path, spec, scenario, in.weights_label, e, prefill, decode,
                                  [](const StepResult& step) { return step.program_instructions; });
  j["chip"] = chip.name;
  j["system"] = system.name;
  const std::string shown_name = generates ? "decode" : "encode";
  j["plan"] = {{"tp", plan.tp}, {"pp", plan.pp}, {"ep", plan.ep}, {"describe", plan.describe()}, {"why", where.why}};
  nlohmann::json compared = nlohmann::json::array();
  for (const PlanCandidate& c : candidates)
    compared.push_back({{"tp", c.plan.tp}, {"pp", c.plan.pp}, {"ep", c.plan.ep}, {shown_name + "_cycles", c.cycles}});
  j["plan"]["candidates"] = compared;
  j["chips_needed"] = plan.chips();
  if (generates) j["decode"]["tokens_per_s_pipelined"] = pipelined_per_s;
  else j["encode"]["sequences_per_s_pipelined"] = pipelined_per_s;
  j["pipeline"] = {{shown_name + "_stage_cycles", spans},
                   {"idle_percent_one_batch_in_flight", idle_percent},
                   {"idle_percent_batch_in_each_stage", bubble_percent}};
  j["time_split"] = {{"step", shown_name},
                     {"cycles", compute_cycles + c2c_cycles},
                     {"compute_cycles", compute_cycles},
                     {"c2c_cycles", c2c_cycles},
                     {"stages", stage_json}};
  j["c2c"] = {{shown_name + "_vectors_sent", shown.c2c_vectors_sent},
              {shown_name + "_link_busy_cycles", shown.c2c_link_busy_cycles}};
  j["simulated_equals_scheduled"] = exact;
  if (steps.prefill_chunks.chunk_tokens > 0)
    j["prefill"]["chunks"] = {{"tokens_per_chunk", steps.prefill_chunks.chunk_tokens},
                              {"chunks", steps.prefill_chunks.chunks},
                              {"simulated", steps.prefill_chunks.simulated},
                              {"simulated_cycles", steps.prefill_chunks.cycles},
                              {"interpolated", steps.prefill_chunks.interpolated()}};
  // Stage reuse (runtime/stage_reuse.hpp): which stage's window simulated each stage's class.
  nlohmann::json reuse = nlohmann::json::object();
  for (const auto* step : {&prefill, decode ? &*decode : nullptr}) {
    if (!step) continue;
    reuse[step->name] = {{"chips_simulated", step->chips_simulated},
                         {"instructions_simulated", step->simulated_instructions},
                         {"stage_simulated_as", step->stage_class}};
  }
  j["simulation"] = reuse;
  // SRAM and unit use are one chip's, as in the one-chip estimate: SRAM of the plan's chip 0,
  // units of the last stage's first chip over the whole step.
  j["sram"] = {{"chip", 0}, {"weights_bytes", e.sram.weight_bytes}, {"activations_bytes", e.sram.activation_bytes},
               {"capacity_bytes", e.sram_capacity_bytes}, {"used_percent", e.sram_used_percent}};
  auto busy = [&](UnitKind unit) { return unit_busy_percent(chip, shown.simulated, unit); };
  j[shown_name + "_unit_busy_percent"] = {{"chip", (plan.pp - 1) * plan.tp}, {"mem", busy(UnitKind::Mem)},
                                          {"vxm", busy(UnitKind::Vxm)}, {"mxm", busy(UnitKind::Mxm)},
                                          {"sxm", busy(UnitKind::Sxm)}, {"c2c", busy(UnitKind::C2c)}};
  j[shown_name + "_mxm_mac_utilisation_percent"] = mac_percent;
  j["host"] = {{"compile_seconds", compile_seconds}, {"simulate_seconds", simulate_seconds}};
  // One decode token's own host cost (issue 12's target is per decode token).
  if (decode) j["host"]["decode_step_seconds"] = decode->compile_seconds + decode->simulated.host_seconds;
  if (in.json) {
    std::cout << j.dump(2) << "\n";
    return exact ? 0 : 1;
  }

  using L = long long;
  const double mb = 1e6;
  const PrefillChunks& chunks = steps.prefill_chunks;
  const std::string chunked =
      chunks.chunk_tokens == 0 ? "" : fmt::format(" in {} chunks", chunks.chunks);
  std::vector<EstimateRow> rows = {
      {"system", "system", system.name, ""},
      {"plan", "plan", plan.describe(), ""},
      {"chips", "chips", static_cast<L>(plan.chips()), ""},
  };
  if (generates) {
    const std::vector<EstimateRow> decoder = {
        {"tokens_per_s_per_user", "tokens/s per user", e.tokens_per_s_per_user, "tokens/s", 0},
        {"tokens_per_s", fmt::format("tokens/s, batch of {}", scenario.batch), e.tokens_per_s, "tokens/s", 0},
        {"tokens_per_s_pipelined",
         fmt::format("tokens/s, a batch in each of {} stage{} ({} user{})", plan.pp, plan.pp == 1 ? "" : "s",
                     plan.pp * scenario.batch, plan.pp * scenario.batch == 1 ? "" : "s"),
         pipelined_per_s, "tokens/s", 0},
        {"time_to_first_token_us", "time to first token", e.time_to_first_token_us, "us"},
        {"token_latency_us", "per-token latency, with host I/O", e.token_latency_us, "us"},
        {"decode_latency_us", "decode step on the chips", e.decode_latency_us, "us"},
        {"decode_cycles", fmt::format("decode step at {} cached positions", decode->past),
         static_cast<L>(decode->cycles()), "cycles"},
        {"prefill_latency_us", "prefill on the chips", e.prefill_latency_us, "us"},
        {"prefill_cycles", fmt::format("prefill, {} x {} tokens{}", scenario.batch, scenario.prompt_length, chunked),
         static_cast<L>(prefill.cycles()), "cycles"},
    };
    rows.insert(rows.end(), decoder.begin(), decoder.end());
  } else {
    const std::vector<EstimateRow> encoder = {
        {"sequences_per_s", fmt::format("sequences/s, batch of {}", scenario.batch), e.sequences_per_s, "sequences/s", 0},
        {"sequences_per_s_pipelined",
         fmt::format("sequences/s, a batch in each of {} stage{}", plan.pp, plan.pp == 1 ? "" : "s"), pipelined_per_s,
         "sequences/s", 0},
        {"sequence_latency_us", "latency, with host I/O", e.sequence_latency_us, "us"},
        {"encode_cycles", fmt::format("encode, {} x {} tokens", scenario.batch, scenario.prompt_length),
         static_cast<L>(prefill.cycles()), "cycles"},
    };
    rows.insert(rows.end(), encoder.begin(), encoder.end());
  }
  const std::vector<EstimateRow> common = {
      {shown_name + "_slowest_stage_cycles", fmt::format("{}: slowest pipeline stage", shown_name), static_cast<L>(slowest),
       "cycles"},
      {shown_name + "_compute_cycles", fmt::format("{}: compute on the critical path", shown_name),
       static_cast<L>(compute_cycles), fmt::format("cycles ({:.1f}%)", 100.0 * static_cast<double>(compute_cycles) / step_cycles)},
      {shown_name + "_c2c_cycles", fmt::format("{}: C2C transfers on the critical path", shown_name),
       static_cast<L>(c2c_cycles), fmt::format("cycles ({:.1f}%)", 100.0 * static_cast<double>(c2c_cycles) / step_cycles)},
      {"idle_percent_one_batch_in_flight", "pipeline: idle per chip, one batch in flight", idle_percent, "%", 1},
      {"idle_percent_batch_in_each_stage", "pipeline bubbles, a batch in each stage", bubble_percent, "%", 1},
      {shown_name + "_c2c_vectors", fmt::format("{}: C2C vectors sent", shown_name), static_cast<L>(shown.c2c_vectors_sent),
       ""},
      {shown_name + "_c2c_link_busy_cycles", fmt::format("{}: link directions busy", shown_name),
       static_cast<L>(shown.c2c_link_busy_cycles), "cycles"},
      {"sram_chip0_weights_mb", "SRAM of chip 0: weights", static_cast<double>(e.sram.weight_bytes) / mb, "MB", 1},
      {"sram_chip0_activations_mb", "SRAM of chip 0: activations and KV caches",
       static_cast<double>(e.sram.activation_bytes) / mb, "MB", 1},
      {shown_name + "_mac_utilisation_percent", fmt::format("{}: MXM MAC utilisation, all chips", shown_name),
       mac_percent, "%", 2},
      {"simulated_equals_scheduled", "simulated cycles = scheduled length", std::string(exact ? "yes" : "NO"), ""},
      {shown_name + "_chips_simulated", fmt::format("{}: chips simulated", shown_name),
       shown.stage_class.empty()
           ? fmt::format("all {}, together", shown.chips_simulated)
           : fmt::format("{}: {} stages as {} classes, each in its own window", shown.chips_simulated, plan.pp,
                         StageClasses{shown.stage_class}.classes()),
       ""},
      {"host_compile_s", "host: compile", compile_seconds, "s"},
      {"host_simulate_s", "host: simulate", simulate_seconds, "s"},
  };
  rows.insert(rows.end(), common.begin(), common.end());
  if (in.csv) {
    std::cout << estimate_csv(rows);
    return exact ? 0 : 1;
  }
  std::cout << fmt::format("lpusim estimate {} ({}, {:.1f} M parameters) on {} chips of {} ({}), {} weights, batch {}, {}\n",
                           in.model, family_name(spec.family), static_cast<double>(spec.parameters()) / 1e6,
                           plan.chips(), system.name, chip.name, in.weights_label, scenario.batch,
                           generates ? fmt::format("prompt {} tokens, generating {}", scenario.prompt_length,
                                                   scenario.generation_length)
                                     : fmt::format("{} tokens per sequence", scenario.prompt_length));
  std::cout << fmt::format("plan {}: {}\n\n", plan.describe(), where.why);
  std::cout << estimate_table(rows);
  std::cout << fmt::format("\n  per stage ({} cycles, hand-off in): {}\n", shown_name, list(spans));
  std::vector<std::int64_t> stage_c2c;
  for (const StageTime& t : shown.stage_times) stage_c2c.push_back(t.c2c);
  std::cout << fmt::format("  of which C2C transfers:              {}\n", list(stage_c2c));
  if (chunks.chunk_tokens > 0)
    std::cout << fmt::format("  prefill in {} chunks of {} tokens, one after another ({}; docs/multichip.md, "
                             "\"Long prompts\")\n",
                             chunks.chunks, chunks.chunk_tokens,
                             chunks.interpolated() ? "the first, last full and last simulated, the rest interpolated"
                                                   : "each simulated");
  return exact ? 0 : 1;
}

}  // namespace lpusim::cli
