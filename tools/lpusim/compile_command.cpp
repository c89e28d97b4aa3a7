// `lpusim compile MODEL -o prog.s`: compile a graph (JSON format) or a model to assembly.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "commands.hpp"
#include "compiler/pipeline.hpp"
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
};

int run(const CompileArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const Workload workload = load_command_workload(args.model, args.strict);
  const WeightChoice weights = resolve_weights(args.weights, workload.is_graph() ? nullptr : &workload.spec(), "fp16");
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
  options.lowering.compute = parse_matmul_compute(args.compute);
  options.dump_after = args.dump_after;
  options.fuse_pointwise = !args.no_fuse;
  // The assembly declares tensors but carries no SRAM contents, so weight values need not be
  // generated (the schedule does not depend on them).
  options.lowering.functional_data = false;
  if (!args.output.empty()) {
    std::ofstream probe(args.output, std::ios::app);
    if (!probe) throw InputError(fmt::format("-o {}: cannot write this file", args.output));
  }
  const CompileResult result = compile_graph(std::move(graph), chip, options);
  if (!args.dump_after.empty()) std::cout << result.dump;
  if (!args.output.empty()) {
    std::ofstream out(args.output);
    out << print_program(result.lowered.program);
    if (!out) throw InputError(fmt::format("-o {}: write failed", args.output));
  }
  double seconds = 0;
  for (const auto& [pass, s] : result.pass_seconds) seconds += s;
  std::cerr << fmt::format("compiled {} for {}: {} instructions, scheduled length {} cycles ({:.3f} us), "
                           "weights {:.2f} MB, compile {:.3f} s\n",
                           result.primitive.name, chip.name, result.lowered.instructions,
                           result.lowered.scheduled_length.value(),
                           static_cast<double>(result.lowered.scheduled_length.value()) / chip.clock_mhz,
                           static_cast<double>(result.lowered.stats.weight_bytes) / 1e6, seconds);
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
  cmd->add_option("--dump-after", args->dump_after, "Print the IR after this pass (shape_inference, quantization, decompose, calibration, fuse_pointwise, lowering)");
  cmd->add_flag("--no-fuse", args->no_fuse,
                "Lower every pointwise op through MEM instead of fusing it into VXM chains (to measure what fusion buys)");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
