#include "compiler/pipeline.hpp"

#include <chrono>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "compiler/lower/verify_program.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

const std::vector<std::string>& pass_names() {
  static const std::vector<std::string> names{"shape_inference", "last_row_outputs", "decompose",
                                              "expand_collectives", "quantization", "calibration",
                                              "fuse_pointwise", "lowering"};
  return names;
}

namespace {

/// Every pass before the lowering. `system_chip`: the chip this graph runs on in a system
/// (its collectives are expanded for it), or -1 for a one-chip compile.
CompileResult run_passes(Graph graph, const ChipConfig& chip, const CompileOptions& options, int system_chip) {
  if (!options.dump_after.empty() &&
      std::find(pass_names().begin(), pass_names().end(), options.dump_after) == pass_names().end()) {
    std::string names;
    for (const auto& n : pass_names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("--dump-after {}: no such pass (expected one of {})", options.dump_after, names));
  }
  if (options.sequences < 1) throw InputError(fmt::format("{} sequences: a batch needs at least one", options.sequences));
  CompileResult result;
  // Every pass: timed, then the graph verified and dumped if asked. A pass that does not
  // apply to this compile (no last-row outputs, no collectives, no int8 calibration, no
  // fusion) still runs as a no-op, so that every compile reports the same passes.
  auto run_pass = [&](const std::string& pass, Graph& g, auto&& body) {
    const auto start = std::chrono::steady_clock::now();
    body();
    result.pass_seconds[pass] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    verify_graph(g, pass);
    if (options.dump_after == pass) result.dump = dump_graph(g);
  };
  require_compilable_chip(chip);
  run_pass("shape_inference", graph, [&] { infer_shapes(graph); });
  run_pass("last_row_outputs", graph, [&] {
    if (options.last_row_outputs) keep_last_output_rows(graph, options.sequences);
  });
  // Cost before work: weights, resident data and decompose's constants from the shapes, then
  // instructions and host memory from the primitive graph, each refused before the pass that
  // would spend it.
  const std::string source = graph.file.empty() ? graph.name : graph.file;
  const std::string what = system_chip >= 0 ? fmt::format("{} (chip {}: {})", source, system_chip, graph.name) : source;
  const WeightScenario weights = options.lowering.weight_scenario();
  require_compile_fits(estimate_graph_cost(graph, chip, weights), chip, weights, what);
  run_pass("decompose", result.primitive, [&] { result.primitive = decompose(graph); });
  run_pass("expand_collectives", result.primitive, [&] {
    if (system_chip >= 0) expand_collectives(result.primitive, system_chip);
  });
  run_pass("quantization", result.primitive, [&] { plan_quantization(result.primitive, weights); });
  // Calibration needs weight values; a timing-only compile keeps the default scales (the
  // schedule, and so every cycle count, is the same for any scale).
  run_pass("calibration", result.primitive, [&] {
    if ((options.lowering.weights != WeightType::Fp16 || options.lowering.checkpoint_weights) &&
        options.lowering.compute == MatmulCompute::Native && options.lowering.functional_data) {
      if (system_chip >= 0)
        throw InputError(fmt::format("{}: int8 and fp8 activation scales are calibrated on one chip's graph; a "
                                     "partitioned model runs functionally with fp16 weights or --compute fp16 "
                                     "(int8 and fp8 estimates, which need no values, work)", what));
      calibrate_int8_scales(result.primitive, options.calibration);
    }
  });
  run_pass("fuse_pointwise", result.primitive, [&] {
    if (options.fuse_pointwise) result.primitive = fuse_pointwise(std::move(result.primitive));
  });
  result.cost = estimate_primitive_cost(result.primitive, chip, weights, options.lowering.functional_data);
  require_compile_fits(result.cost, chip, weights, what);
  return result;
}

}  // namespace

CompileResult compile_graph(Graph graph, const ChipConfig& chip, const CompileOptions& options) {
  CompileResult result = run_passes(std::move(graph), chip, options, -1);
  const auto start = std::chrono::steady_clock::now();
  result.lowered = lower_graph(result.primitive, chip, options.lowering);
  verify_lowered_program(result.lowered.program, options.max_program_lines);
  result.pass_seconds["lowering"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.dump_after == "lowering") result.dump = print_program(result.lowered.program);
  return result;
}

std::vector<CompileResult> compile_system(std::vector<Graph> graphs, const SystemConfig& system,
                                          const CompileOptions& options) {
  std::vector<CompileResult> results;
  for (std::size_t c = 0; c < graphs.size(); ++c)
    results.push_back(run_passes(std::move(graphs[c]), system.chip, options, static_cast<int>(c)));
  // Cost before work, over the whole system: every chip's compile and its simulation are
  // held in this process at once.
  std::uint64_t host_bytes = 0;
  std::int64_t instructions = 0;
  for (std::size_t c = 0; c < results.size(); ++c) {
    // A chip lowered only up to its stage gate issues its hand-off receives, nothing more;
    // a chip with no graph (idle in a stage window) at most forwards.
    if (c < options.stop_at_gate.size() && options.stop_at_gate[c]) continue;
    if (results[c].primitive.nodes.empty()) continue;
    host_bytes += results[c].cost.host_bytes + simulation_host_bytes(results[c].cost.instructions);
    instructions += results[c].cost.instructions;
  }
  limits::require_host_memory(host_bytes, fmt::format("{}: compiling and simulating {} chips ({} instructions)",
                                                      system.file.empty() ? system.name : system.file, results.size(),
                                                      instructions));
  std::vector<Graph> primitives;
  for (const auto& r : results) primitives.push_back(r.primitive);
  const auto start = std::chrono::steady_clock::now();
  std::vector<LoweredProgram> programs = lower_system(primitives, system, options.lowering, options.pipeline_stages, options.stop_at_gate);
  results.resize(programs.size());  // chips that only forward: no graph of their own
  // The chips are lowered together: each reports the whole system's lowering time.
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::size_t c = 0; c < results.size(); ++c) {
    results[c].lowered = std::move(programs[c]);
    verify_lowered_program(results[c].lowered.program, options.max_program_lines);
    results[c].pass_seconds["lowering"] = seconds;
    if (options.dump_after == "lowering") results[c].dump = print_program(results[c].lowered.program);
  }
  return results;
}

}  // namespace lpusim
