// `lpusim estimate MODEL`: compile the prefill and a decode step of a model, simulate both
// cycle by cycle (timing mode), and report tokens per second, time to first token, SRAM,
// per-layer cycles and unit utilisation. Every number comes from the simulated schedule.
#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/child_run.hpp"
#include "commands.hpp"
#include "compiler/pipeline.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "frontend/transformer_spec.hpp"
#include "model_source.hpp"
#include "engine/report/stats.hpp"

namespace lpusim::cli {

namespace {

struct EstimateArgs {
  std::string model;
  bool strict = false;
  std::string chip = "tsp-v1";
  std::string weights = "auto";
  std::string compute = "native";
  std::int64_t batch = 1;
  std::int64_t prompt_len = 64;
  std::int64_t gen_len = 64;
  bool json = false;
};

struct PhaseResult {
  std::string name;
  std::int64_t tokens = 0, past = 0;
  CompileResult compiled;
  SimResult simulated;
  double compile_seconds = 0;
};

/// Host transfer cost in Groq's own estimator: 10 us + bytes / 24 GB/s each way.
double pcie_us(double bytes) { return 10.0 + bytes / 24e9 * 1e6; }

PhaseResult run_phase(const std::string& name, const Graph& graph, const ChipConfig& chip, const CompileOptions& options,
                      std::int64_t tokens, std::int64_t past) {
  PhaseResult r;
  r.name = name;
  r.tokens = tokens;
  r.past = past;
  const auto start = std::chrono::steady_clock::now();
  r.compiled = compile_graph(graph, chip, options);
  r.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Program program = r.compiled.lowered.program;
  program.file = name + ".s";
  const BoundProgram bound = bind_program(program, chip);
  SimOptions sim;
  sim.mode = SimMode::TimingOnly;
  r.simulated = simulate_in_child(chip, bound, sim);
  if (!r.simulated.hazards.empty())
    throw std::logic_error(fmt::format("the compiled {} program has {} schedule hazards (first: {}): a compiler bug",
                                       name, r.simulated.hazards.size(), r.simulated.hazards[0].message));
  return r;
}

/// Cycles per transformer layer: from the end of layer i-1's last node to layer i's.
std::vector<std::int64_t> layer_cycles(const LoweringStats& stats, std::int64_t layers) {
  std::vector<std::int64_t> ends(static_cast<std::size_t>(layers), 0);
  for (const auto& [node, end] : stats.node_end_cycle) {
    if (node.size() < 2 || node[0] != 'l' || !std::isdigit(static_cast<unsigned char>(node[1]))) continue;
    const auto dot = node.find('.');
    const auto layer = std::stoll(node.substr(1, dot - 1));
    if (layer < layers) ends[static_cast<std::size_t>(layer)] = std::max(ends[static_cast<std::size_t>(layer)], end);
  }
  std::vector<std::int64_t> cycles;
  std::int64_t previous = 0;
  for (auto e : ends) {
    cycles.push_back(e - previous);
    previous = std::max(previous, e);
  }
  return cycles;
}

int run(const EstimateArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const std::string path = resolve_model_path(args.model);
  if (is_graph_file(path))
    throw InputError(fmt::format("{}: estimate takes a model config (config.json or a model folder); for a graph use compile and run", path));
  const TransformerSpec spec = load_model_spec(path, args.strict);
  if (args.prompt_len + args.gen_len > spec.max_positions)
    throw InputError(fmt::format("--prompt-len {} + --gen-len {} exceed the model's {} positions", args.prompt_len,
                                 args.gen_len, spec.max_positions));
  // Serving the batch needs every sequence's cache for the whole context, not just the
  // positions the measured decode step reaches.
  check_kv_caches_fit(spec, chip, args.batch, args.prompt_len + args.gen_len, path);
  CompileOptions options;
  const WeightChoice weights = resolve_weights(args.weights, &spec, "int8");
  options.lowering.weights = weights.type;
  options.lowering.checkpoint_weights = weights.checkpoint;
  options.lowering.compute = parse_matmul_compute(args.compute);
  options.lowering.functional_data = false;  // simulated in timing mode: no SRAM contents needed
  options.sequences = args.batch;

  // Decode is measured at the middle of generation: past = prompt + gen/2 cached positions.
  const std::int64_t decode_past = args.prompt_len + args.gen_len / 2;
  ModelRequest prefill_request{path, "prefill", args.prompt_len, args.batch};
  ModelRequest decode_request{path, "decode", decode_past, args.batch};
  const PhaseResult decode = run_phase("decode", load_model_graph(decode_request), chip, options, 1, decode_past);
  CompileOptions prefill_options = options;
  prefill_options.last_row_outputs = true;  // the first generated token needs the last row's logits
  const PhaseResult prefill = run_phase("prefill", load_model_graph(prefill_request), chip, prefill_options, args.prompt_len, 0);

  const double mhz = chip.clock_mhz;
  const auto decode_cycles = decode.simulated.total_cycles.value();
  const auto prefill_cycles = prefill.simulated.total_cycles.value();
  const double decode_us = static_cast<double>(decode_cycles) / mhz;
  const double prefill_us = static_cast<double>(prefill_cycles) / mhz;
  // Host traffic: the embedded prompt rows in (the embedding lookup runs on the host), the
  // last logits row of each sequence out; per decode step one row in and one logits row
  // out per sequence (fp32). Every sequence of the batch gets one token per decode step.
  const double batch = static_cast<double>(args.batch);
  const double row_in = static_cast<double>(spec.hidden) * 4.0;
  const double logits_out = static_cast<double>(spec.has_lm_head ? spec.vocab_size : spec.hidden) * 4.0;
  const double ttft_us = prefill_us + pcie_us(row_in * static_cast<double>(args.prompt_len) * batch) + pcie_us(logits_out * batch);
  const double token_us = decode_us + pcie_us(row_in * batch) + pcie_us(logits_out * batch);
  const double tokens_per_s_per_user = 1e6 / token_us;
  const double tokens_per_s = tokens_per_s_per_user * batch;
  const bool exact = decode_cycles == decode.compiled.lowered.scheduled_length.value() &&
                     prefill_cycles == prefill.compiled.lowered.scheduled_length.value();
  const double sram = static_cast<double>(chip.sram_bytes());
  const auto& stats = decode.compiled.lowered.stats;
  const double used = static_cast<double>(stats.weight_bytes + stats.activation_bytes);
  const auto layers = layer_cycles(stats, spec.layers);
  // MAC utilisation: one MAC per weight per decode token (batch tokens per step), over the
  // MXM's peak in those cycles.
  const double peak_macs = static_cast<double>(decode_cycles) * chip.mxm_planes * chip.mxm_rows * chip.mxm_cols;
  const double mac_utilisation = 100.0 * static_cast<double>(spec.parameters()) * batch / peak_macs;

  nlohmann::json j;
  j["model"] = path;
  j["family"] = family_name(spec.family);
  j["parameters"] = spec.parameters();
  j["chip"] = chip.name;
  j["chips_needed"] = 1;
  j["weights"] = weights.label;
  j["batch"] = args.batch;
  j["prompt_len"] = args.prompt_len;
  j["gen_len"] = args.gen_len;
  j["decode"] = {{"past", decode_past},
                 {"cycles", decode_cycles},
                 {"latency_us", decode_us},
                 {"latency_with_host_us", token_us},
                 {"tokens_per_s_per_user", tokens_per_s_per_user},
                 {"tokens_per_s", tokens_per_s},
                 {"instructions", decode.simulated.instructions}};
  j["prefill"] = {{"tokens", args.prompt_len}, {"sequences", args.batch}, {"cycles", prefill_cycles}, {"latency_us", prefill_us},
                  {"time_to_first_token_us", ttft_us}, {"instructions", prefill.simulated.instructions}};
  j["simulated_equals_scheduled"] = exact;
  j["sram"] = {{"weights_bytes", stats.weight_bytes}, {"activations_bytes", stats.activation_bytes},
               {"capacity_bytes", chip.sram_bytes()}, {"used_percent", 100.0 * used / sram}};
  j["decode_cycles_per_layer"] = layers;
  j["decode_unit_busy_percent"] = {{"mem", unit_busy_percent(chip, decode.simulated, UnitKind::Mem)},
                                   {"vxm", unit_busy_percent(chip, decode.simulated, UnitKind::Vxm)},
                                   {"mxm", unit_busy_percent(chip, decode.simulated, UnitKind::Mxm)},
                                   {"sxm", unit_busy_percent(chip, decode.simulated, UnitKind::Sxm)}};
  j["decode_mxm_mac_utilisation_percent"] = mac_utilisation;
  j["host"] = {{"compile_seconds", decode.compile_seconds + prefill.compile_seconds},
               {"simulate_seconds", decode.simulated.host_seconds + prefill.simulated.host_seconds},
               {"simulated_cycles_per_second",
                static_cast<double>(decode_cycles + prefill_cycles) /
                    std::max(1e-9, decode.simulated.host_seconds + prefill.simulated.host_seconds)}};
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("lpusim estimate {} ({}, {:.1f} M parameters) on {} x1, {} weights, batch {}\n", args.model,
                           family_name(spec.family), static_cast<double>(spec.parameters()) / 1e6, chip.name,
                           weights.label, args.batch);
  if (spec.causal) {
    // A decode step gives every sequence of the batch its next token: the step's latency is
    // each user's per-token latency.
    std::cout << fmt::format("  decode      {} cycles per token at {} cached positions = {:.2f} us on chip, {:.2f} us with host I/O{}\n",
                             decode_cycles, decode_past, decode_us, token_us,
                             args.batch > 1 ? fmt::format(" (one step, a token for each of {} sequences)", args.batch) : "");
    std::cout << fmt::format("              {:.0f} tokens/s per user, {:.0f} tokens/s for the batch of {}\n",
                             tokens_per_s_per_user, tokens_per_s, args.batch);
  } else {
    std::cout << "  decode      not applicable: an encoder processes whole sequences (see prefill)\n";
  }
  std::cout << fmt::format("  prefill     {} x {} tokens in {} cycles = {:.2f} us; time to first token {:.2f} us\n",
                           args.batch, args.prompt_len, prefill_cycles, prefill_us, ttft_us);
  std::cout << fmt::format("  chips       1 (SRAM: weights {:.1f} MB + activations {:.1f} MB = {:.1f}% of {:.1f} MB)\n",
                           static_cast<double>(stats.weight_bytes) / 1e6, static_cast<double>(stats.activation_bytes) / 1e6,
                           100.0 * used / sram, sram / 1e6);
  std::string per_layer;
  for (std::size_t i = 0; i < layers.size() && i < 4; ++i) per_layer += fmt::format("{}{}", i ? ", " : "", layers[i]);
  if (layers.size() > 4) per_layer += ", ...";
  std::cout << fmt::format("  per layer   decode cycles: {}\n", per_layer);
  std::cout << fmt::format("  units       decode busy: mxm {:.1f}%, mem {:.1f}%, vxm {:.1f}%; MXM MAC utilisation {:.2f}%\n",
                           unit_busy_percent(chip, decode.simulated, UnitKind::Mxm),
                           unit_busy_percent(chip, decode.simulated, UnitKind::Mem),
                           unit_busy_percent(chip, decode.simulated, UnitKind::Vxm), mac_utilisation);
  std::cout << fmt::format("  check       simulated cycles {} the compiler's scheduled length ({} decode, {} prefill)\n",
                           exact ? "equal" : "DIFFER FROM", decode.compiled.lowered.scheduled_length.value(),
                           prefill.compiled.lowered.scheduled_length.value());
  const double simulate_seconds = decode.simulated.host_seconds + prefill.simulated.host_seconds;
  std::cout << fmt::format("  host        compile {:.2f} s, simulate {:.2f} s ({} instructions, {:.2f} M simulated "
                           "cycles per host second)\n",
                           decode.compile_seconds + prefill.compile_seconds, simulate_seconds,
                           decode.simulated.instructions + prefill.simulated.instructions,
                           static_cast<double>(decode_cycles + prefill_cycles) / std::max(1e-9, simulate_seconds) / 1e6);
  return exact ? 0 : 1;
}

}  // namespace

Command add_estimate_command(CLI::App& app) {
  auto args = std::make_shared<EstimateArgs>();
  auto* cmd = app.add_subcommand("estimate", "Estimate tokens/s, time to first token and chip use for a model");
  cmd->add_option("model", args->model, "A config.json, a model folder, or a bundled model name (gpt2, bert-base-uncased, ...)")->required();
  cmd->add_flag("--strict", args->strict, "Refuse config.json keys lpusim does not know (default: a warning each)");
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_option("--weights", args->weights, fmt::format("Weight type: auto (the checkpoint's fp8/mxfp4 if quantized, else {}), checkpoint, int8, fp16, fp8 (e4m3), fp8-e5m2", "int8"))
      ->check(CLI::IsMember(weight_type_choices()))->capture_default_str();
  cmd->add_option("--compute", args->compute, "Where int8/fp8 weights are multiplied: native (int8 x int8, fp8 x fp8) or fp16 (dequantised into an fp16 MXM)")
      ->check(CLI::IsMember(matmul_compute_choices()))->capture_default_str();
  cmd->add_option("--batch", args->batch, "Sequences per step")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--gen-len", args->gen_len, "Generated tokens")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_flag("--json", args->json, "Print JSON");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
