// `lpusim estimate MODEL`: the serving estimate of a model on one chip (on a system of chips:
// estimate/estimate_system.cpp). The host runtime
// (sim/runtime/host_runtime.hpp) compiles and simulates, cycle by cycle in timing mode, the
// prefill and a decode step in the middle of generation (an encoder: the one program that
// encodes the batch); the serving model (sim/runtime/serving_model.hpp) turns their cycles
// into tokens/s, time to first token and latency with host I/O. This file only prints.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "commands.hpp"
#include "estimate/estimate_json.hpp"
#include "estimate/estimate_plan.hpp"
#include "estimate/estimate_system.hpp"
#include "estimate/estimate_table.hpp"
#include "estimate/serving_steps.hpp"
#include "frontend/transformer_cost.hpp"
#include "frontend/plan_fit.hpp"
#include "model_source.hpp"
#include "engine/report/stats.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/serving_model.hpp"
#include "runtime/workload.hpp"

namespace lpusim::cli {

namespace {

struct EstimateArgs {
  std::string model;
  std::string chip = "tsp-v1";
  std::string weights = "auto";
  std::string compute = "native";
  bool strict = false;
  std::int64_t batch = 1;
  std::int64_t prompt_len = 64;
  std::int64_t gen_len = 64;
  bool json = false;
  bool csv = false;
  bool full = false;
  PlanRequestArgs plan;  ///< --tp/--pp/--ep/--system
};

std::string first_layers(const std::vector<std::int64_t>& cycles) {
  std::string text;
  for (std::size_t i = 0; i < cycles.size() && i < 4; ++i) text += fmt::format("{}{}", i ? ", " : "", cycles[i]);
  if (cycles.size() > 4) text += ", ...";
  return text;
}

int run(const EstimateArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const Workload workload = load_command_workload(
      args.model, args.strict, "estimate takes a model config (config.json or a model folder); for a graph use compile and run");
  const TransformerSpec& spec = workload.spec();
  const bool generates = spec.causal;
  const WeightChoice weights = resolve_weights(args.weights, &spec, "int8");
  Scenario scenario;
  scenario.weights = weights.type;
  scenario.checkpoint_weights = weights.checkpoint;
  scenario.compute = parse_matmul_compute(args.compute);
  scenario.batch = args.batch;
  scenario.prompt_length = args.prompt_len;
  scenario.generation_length = args.gen_len;
  scenario.simulate_every_chip = args.full;
  if (generates && scenario.context(true) > spec.max_positions)
    throw InputError(fmt::format("--prompt-len {} + --gen-len {} exceed the model's {} positions", args.prompt_len,
                                 args.gen_len, spec.max_positions));
  spec.require_positions_modelled(scenario.context(generates));  // before any plan or compile

  // One chip, or a plan on a system: forced, or the fewest chips that hold the model.
  const EstimatePlan where = choose_estimate_plan(spec, chip, scenario, args.plan);
  if (where.plan.chips() > 1)
    return estimate_on_system(SystemEstimateInput{workload.path, args.model, spec, scenario, weights.label, where,
                                                  args.json, args.csv});

  // Cost before work, from the config: weights, caches, instructions and host memory, refused
  // at once with the numbers. The decode step is costed at the end of generation, where every
  // sequence's cache holds the whole context (what serving the batch needs), then the prefill.
  const WeightScenario weight_scenario(scenario.weights, scenario.compute, scenario.checkpoint_weights);
  const CompileCost decode_cost = generates ? require_transformer_fits(spec, chip, weight_scenario, false,
                                                                       {1, scenario.context(true) - 1, scenario.batch})
                                            : CompileCost{};
  const CompileCost prefill_cost = require_transformer_fits(spec, chip, weight_scenario, false,
                                                            {scenario.prompt_length, 0, scenario.batch, generates});
  const std::uint64_t host_bytes = decode_cost.host_bytes + prefill_cost.host_bytes +
                                   simulation_host_bytes(std::max(decode_cost.instructions, prefill_cost.instructions));
  limits::require_host_memory(host_bytes, fmt::format("{}: estimating it (compiling {} + {} instructions and simulating them)",
                                                      workload.path, prefill_cost.instructions, decode_cost.instructions));

  const ServingSteps steps = run_serving_steps(spec, chip, scenario);
  const StepResult& prefill = steps.prefill;
  const std::optional<StepResult>& decode = steps.decode;
  const StepResult& shown = steps.shown();
  const std::string shown_name = generates ? "decode" : "encode";
  const ServingEstimate& e = steps.estimate;
  const bool exact = steps.simulated_equals_scheduled();
  const auto layers = shown.layer_cycles();
  const double compile_seconds = prefill.compile_seconds + (decode ? decode->compile_seconds : 0.0);
  const double simulate_seconds = prefill.simulated.host_seconds + (decode ? decode->simulated.host_seconds : 0.0);
  const std::int64_t simulated_cycles = prefill.cycles() + (decode ? decode->cycles() : 0);
  const std::uint64_t instructions = prefill.simulated.instructions + (decode ? decode->simulated.instructions : 0);
  auto busy = [&](UnitKind unit) { return unit_busy_percent(chip, shown.simulated, unit); };

  nlohmann::json j = serving_json(workload.path, spec, scenario, weights.label, e, prefill, decode,
                                  [](const StepResult& step) { return static_cast<std::int64_t>(step.simulated.instructions); });
  j["chip"] = chip.name;
  j["chips_needed"] = 1;
  j["simulated_equals_scheduled"] = exact;
  j["sram"] = {{"weights_bytes", e.sram.weight_bytes}, {"activations_bytes", e.sram.activation_bytes},
               {"capacity_bytes", e.sram_capacity_bytes}, {"used_percent", e.sram_used_percent}};
  j[shown_name + "_cycles_per_layer"] = layers;
  j[shown_name + "_unit_busy_percent"] = {{"mem", busy(UnitKind::Mem)}, {"vxm", busy(UnitKind::Vxm)},
                                          {"mxm", busy(UnitKind::Mxm)}, {"sxm", busy(UnitKind::Sxm)}};
  j[shown_name + "_mxm_mac_utilisation_percent"] = e.mac_utilisation_percent;
  j["host"] = {{"estimated_host_bytes", host_bytes},
               {"compile_seconds", compile_seconds},
               {"simulate_seconds", simulate_seconds},
               {"simulated_cycles_per_second", static_cast<double>(simulated_cycles) / std::max(1e-9, simulate_seconds)}};
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;  // callers read "simulated_equals_scheduled"
  }
  using L = long long;
  const double mb = 1e6;
  std::vector<EstimateRow> rows = {
      {"model", "model", workload.path, ""},
      {"family", "family", std::string(family_name(spec.family)), ""},
      {"parameters", "parameters", static_cast<L>(spec.parameters()), ""},
      {"chip", "chip", chip.name, ""},
      {"chips", "chips", L{1}, ""},
      {"weights", "weight type", weights.label, ""},
      {"batch", "batch", static_cast<L>(args.batch), "sequences"},
      {"prompt_len", generates ? "prompt" : "tokens per sequence", static_cast<L>(args.prompt_len), "tokens"},
  };
  if (generates) rows.push_back({"gen_len", "generated", static_cast<L>(args.gen_len), "tokens"});
  const std::size_t identity_rows = rows.size();  // named in the table's heading instead
  if (generates) {
    // A decode step gives every sequence of the batch its next token: the step's latency is
    // each user's per-token latency.
    const std::vector<EstimateRow> decoder = {
        {"tokens_per_s_per_user", "tokens/s per user", e.tokens_per_s_per_user, "tokens/s", 0},
        {"tokens_per_s", fmt::format("tokens/s, batch of {}", args.batch), e.tokens_per_s, "tokens/s", 0},
        {"time_to_first_token_us", "time to first token", e.time_to_first_token_us, "us"},
        {"token_latency_us", "per-token latency, with host I/O", e.token_latency_us, "us"},
        {"decode_latency_us", "decode step on chip", e.decode_latency_us, "us"},
        {"decode_cycles", fmt::format("decode step at {} cached positions", decode->past), static_cast<L>(decode->cycles()),
         "cycles"},
        {"prefill_latency_us", "prefill on chip", e.prefill_latency_us, "us"},
        {"prefill_cycles", fmt::format("prefill, {} x {} tokens", args.batch, args.prompt_len), static_cast<L>(prefill.cycles()),
         "cycles"},
    };
    rows.insert(rows.end(), decoder.begin(), decoder.end());
  } else {
    // An encoder has no decode step: one program takes the batch's sequences to their hidden states.
    const std::vector<EstimateRow> encoder = {
        {"sequences_per_s", fmt::format("sequences/s, batch of {}", args.batch), e.sequences_per_s, "sequences/s", 0},
        {"sequence_latency_us", "latency, with host I/O", e.sequence_latency_us, "us"},
        {"encode_latency_us", "encode on chip", e.prefill_latency_us, "us"},
        {"encode_cycles", fmt::format("encode, {} x {} tokens", args.batch, args.prompt_len), static_cast<L>(prefill.cycles()),
         "cycles"},
    };
    rows.insert(rows.end(), encoder.begin(), encoder.end());
  }
  const std::vector<EstimateRow> common = {
      {"sram_weights_mb", "SRAM: weights", static_cast<double>(e.sram.weight_bytes) / mb, "MB", 1},
      {"sram_activations_mb", "SRAM: activations and KV caches", static_cast<double>(e.sram.activation_bytes) / mb, "MB", 1},
      {"sram_used_percent", fmt::format("SRAM used, of {:.1f} MB", static_cast<double>(e.sram_capacity_bytes) / mb),
       e.sram_used_percent, "%", 1},
      {shown_name + "_layer0_cycles", fmt::format("{} cycles, first layer", shown_name),
       static_cast<L>(layers.empty() ? 0 : layers.front()), "cycles"},
      {shown_name + "_mxm_busy_percent", fmt::format("{}: MXM busy", shown_name), busy(UnitKind::Mxm), "%", 1},
      {shown_name + "_mem_busy_percent", fmt::format("{}: MEM busy", shown_name), busy(UnitKind::Mem), "%", 1},
      {shown_name + "_vxm_busy_percent", fmt::format("{}: VXM busy", shown_name), busy(UnitKind::Vxm), "%", 1},
      {shown_name + "_sxm_busy_percent", fmt::format("{}: SXM busy", shown_name), busy(UnitKind::Sxm), "%", 1},
      {shown_name + "_mac_utilisation_percent", fmt::format("{}: MXM MAC utilisation", shown_name),
       e.mac_utilisation_percent, "%", 2},
      {"simulated_equals_scheduled", "simulated cycles = scheduled length", std::string(exact ? "yes" : "NO"), ""},
      {"host_compile_s", "host: compile", compile_seconds, "s"},
      {"host_simulate_s", "host: simulate", simulate_seconds, "s"},
      {"host_instructions", "host: instructions simulated", static_cast<L>(instructions), ""},
      {"host_simulated_mcycles_per_s", "host: simulated cycles per second",
       static_cast<double>(simulated_cycles) / std::max(1e-9, simulate_seconds) / 1e6, "M cycles/s"},
  };
  rows.insert(rows.end(), common.begin(), common.end());
  if (args.csv) {
    std::cout << estimate_csv(rows);
    return exact ? 0 : 1;
  }
  std::cout << fmt::format("lpusim estimate {} ({}, {:.1f} M parameters) on {} x1, {} weights, batch {}, {}\n\n",
                           one_line(args.model), family_name(spec.family), static_cast<double>(spec.parameters()) / 1e6,
                           one_line(chip.name), weights.label, args.batch,
                           generates ? fmt::format("prompt {} tokens, generating {}", args.prompt_len, args.gen_len)
                                     : fmt::format("{} tokens per sequence", args.prompt_len));
  // The model, chip and scenario are in the heading; the table starts with what they give.
  std::cout << estimate_table(std::vector<EstimateRow>(rows.begin() + static_cast<std::ptrdiff_t>(identity_rows), rows.end()));
  std::cout << fmt::format("\n  per layer ({} cycles): {}\n", shown_name, first_layers(layers));
  return exact ? 0 : 1;
}

}  // namespace

Command add_estimate_command(CLI::App& app) {
  auto args = std::make_shared<EstimateArgs>();
  auto* cmd = app.add_subcommand("estimate", "Estimate tokens/s, time to first token and chip use for a model");
  cmd->add_option("model", args->model, "A config.json, a model folder, or a bundled model name (gpt2, bert-base-uncased, ...)")->required();
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_flag("--strict", args->strict, "Refuse config.json keys lpusim does not know (default: a warning each)");
  cmd->add_option("--weights", args->weights, "Weight type: auto (the checkpoint's fp8/mxfp4 if quantized, else int8), checkpoint, int8, fp16, fp8 (e4m3), fp8-e5m2")
      ->check(CLI::IsMember(weight_type_choices()))->capture_default_str();
  cmd->add_option("--compute", args->compute, "Where int8/fp8 weights are multiplied: native (int8 x int8, fp8 x fp8) or fp16 (dequantised into an fp16 MXM)")
      ->check(CLI::IsMember(matmul_compute_choices()))->capture_default_str();
  cmd->add_option("--batch", args->batch, "Sequences per step")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens (an encoder: tokens per sequence)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--gen-len", args->gen_len, "Generated tokens (decoders)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--tp", args->plan.tp, "Chips per pipeline stage (tensor parallel); with --pp/--ep, forces the plan")
      ->check(CLI::Range(1, kMaxTensorParallel));
  cmd->add_option("--pp", args->plan.pp, "Pipeline stages (consecutive layers per stage)")->check(CLI::Range(1, 10440));
  cmd->add_option("--ep", args->plan.ep, "Of a stage's --tp chips, the groups an MoE layer's experts are dealt to")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--system", args->plan.system,
                  "The system of chips (a bundled name such as groq-node, groq-rack, dragonfly-8, or a system JSON "
                  "file); default: one chip if the model fits, else the smallest standard system its plan needs");
  cmd->add_flag("--full", args->full,
                "On a pipeline, simulate every chip (default: each class of identical stages once, docs/multichip.md)");
  auto* json = cmd->add_flag("--json", args->json, "Print JSON (every figure, nested)");
  cmd->add_flag("--csv", args->csv, "Print CSV: a header of metric keys and one line of values")->excludes(json);
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
