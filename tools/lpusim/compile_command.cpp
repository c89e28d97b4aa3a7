// `lpusim compile MODEL -o prog.s`: compile a graph (JSON format) or a model to assembly.
#include <iostream>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "commands.hpp"
#include "compiler/pipeline.hpp"
#include "arch/core/limits.hpp"
#include "arch/core/output_file.hpp"
#include "frontend/transformer_cost.hpp"
#include "model_source.hpp"
#include "runtime/model_costs.hpp"
#include "runtime/workload.hpp"

namespace lpusim::cli {

namespace {
struct CompileArgs {
  std::string model;
  std::string chip = "tsp-v1";
  std::string output;
  std::string weights = "auto";
  std::string compute = "native";
  bool strict = false;
  std::string phase = "decode";
  std::int64_t prompt_len = 16;
  std::int64_t batch = 1;
  std::string dump_after;
  bool no_fuse = false;
  std::int64_t burst_rows = LoweringOptions{}.max_burst_rows;
};

int run(const CompileArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  if (!args.output.empty()) require_writable_path(args.output, "-o");
  const Workload workload = load_command_workload(args.model, args.strict);
  const WeightChoice weights = resolve_weights(args.weights, workload.is_graph() ? nullptr : &workload.spec(), "fp16");
  const MatmulCompute compute = parse_matmul_compute(args.compute);
  if (!workload.is_graph()) {
    // Cost before work, from the config alone: the weights, caches, instructions and host
    // memory of the step, before its graph is built.
    const TransformerStep step = args.phase == "prefill" ? TransformerStep{args.prompt_len, 0, args.batch}
                                                         : TransformerStep{1, args.prompt_len, args.batch};
    (void)require_transformer_fits(workload.spec(), chip, WeightScenario(weights.type, compute, weights.checkpoint), false,
                                   step);
  }
  Graph graph = model_step_graph(workload, ModelRequest{args.model, args.phase, args.prompt_len, args.batch});
  if (!workload.is_graph()) {
    // Weights first (a model too large for one chip is told how many it needs), then the
    // step's caches: the prompt (prefill) or the cached positions plus the new token.
    const std::int64_t positions = args.phase == "prefill" ? args.prompt_len : args.prompt_len + 1;
    check_model_fits(workload.spec(), chip, weights.type, args.batch, positions, weights.checkpoint);
  }
  CompileOptions options;
  options.lowering.weights = weights.type;
  options.lowering.checkpoint_weights = weights.checkpoint;
  options.lowering.compute = compute;
  options.dump_after = args.dump_after;
  options.fuse_pointwise = !args.no_fuse;
  options.lowering.max_burst_rows = args.burst_rows;
  // The assembly declares tensors but carries no SRAM contents, so weight values need not be
  // generated (the schedule does not depend on them).
  options.lowering.functional_data = false;
  const CompileResult result = compile_graph(std::move(graph), chip, options);
  if (!args.dump_after.empty()) std::cout << result.dump;
  if (!args.output.empty()) write_file_atomically(args.output, print_program(result.lowered.program), "-o");
  double seconds = 0;
  for (const auto& [pass, s] : result.pass_seconds) seconds += s;
  std::cerr << fmt::format("compiled {} for {}: {} instructions (estimated {}), scheduled length {} cycles ({:.3f} us), "
                           "weights {:.2f} MB, compile {:.3f} s, host memory estimated {:.0f} MiB\n",
                           one_line(result.primitive.name), one_line(chip.name), result.lowered.instructions, result.cost.instructions,
                           result.lowered.scheduled_length.value(),
                           static_cast<double>(result.lowered.scheduled_length.value()) / chip.clock_mhz,
                           static_cast<double>(result.lowered.stats.weight_bytes) / 1e6, seconds,
                           static_cast<double>(result.cost.host_bytes) / (1 << 20));
  return 0;
}
}  // namespace

Command add_compile_command(CLI::App& app) {
  auto args = std::make_shared<CompileArgs>();
  auto* cmd = app.add_subcommand("compile", "Compile a graph (JSON) or a model config to assembly");
  cmd->add_option("model", args->model, "A graph JSON file, a config.json, a model folder, or a bundled model name")->required();
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Write the assembly here");
  cmd->add_flag("--strict", args->strict, "Refuse config.json keys lpusim does not know (default: a warning each)");
  cmd->add_option("--weights", args->weights, "Weight type: auto (the checkpoint's fp8/mxfp4 if quantized, else fp16), checkpoint, int8, fp16, fp8 (e4m3), fp8-e5m2")
      ->check(CLI::IsMember(weight_type_choices()))->capture_default_str();
  cmd->add_option("--compute", args->compute, "Where int8/fp8 weights are multiplied: native (int8 x int8, fp8 x fp8) or fp16 (dequantised into an fp16 MXM)")
      ->check(CLI::IsMember(matmul_compute_choices()))->capture_default_str();
  cmd->add_option("--phase", args->phase, "For models: prefill (the prompt) or decode (one token after it)")
      ->check(CLI::IsMember({"prefill", "decode"}))->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "For models: prompt tokens")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--batch", args->batch, "For models: sequences per step")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--dump-after", args->dump_after, "Print the IR after this pass (shape_inference, last_row_outputs, decompose, expand_collectives, quantization, calibration, fuse_pointwise, lowering)");
  cmd->add_flag("--no-fuse", args->no_fuse,
                "Lower every pointwise op through MEM instead of fusing it into VXM chains (to measure what fusion buys)");
  cmd->add_option("--burst-rows", args->burst_rows,
                  "Rows one instruction sequence handles with repeat (1: every row scheduled on its own)")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
