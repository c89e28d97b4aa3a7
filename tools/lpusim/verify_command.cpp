// `lpusim verify MODEL`: run a small model functionally on the simulated chip through the
// host runtime (sim/runtime/host_runtime.hpp: a prefill, then decode steps that carry the KV
// cache forward) and compare its logits with the plain C++/Eigen reference of the same model
// and weights. A JSON graph is compared with the fp32 interpreter of its decomposed form.
#include <cmath>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "commands.hpp"
#include "frontend/transformer_cost.hpp"
#include "model_source.hpp"
#include "compiler/interpreter/interpret.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/plan_fit.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/workload.hpp"

namespace lpusim::cli {

namespace {

struct VerifyArgs {
  std::string model;
  std::string chip = "tsp-v1";
  std::string weights = "auto";
  std::string compute = "native";
  bool strict = false;
  std::int64_t prompt_len = 6;
  std::int64_t decode_steps = 2;
  std::int64_t batch = 1;
  /// Unset (negative): by number format (docs/models.md, numerics), about twice the largest
  /// error measured on the tiny models: 0.02 for fp16 weights and for int8 or fp8 weights
  /// computed in fp16 (measured 1.4e-3); 0.05 for int8 and fp8 e4m3 computed natively, where
  /// the chip and the reference share the calibrated scales but an upstream fp16 difference
  /// can move a value across a rounding boundary of the coarse type (measured 3.4e-2 and
  /// 2.9e-2); 0.15 for fp8 e5m2 natively (2 mantissa bits; measured 8.2e-2).
  double tolerance = -1.0;
  double tolerance_for(const WeightChoice& w, MatmulCompute matmul_compute, const TransformerSpec* spec) const {
    if (tolerance >= 0) return tolerance;
    WeightType type = w.type;
    if (w.checkpoint && spec) type = spec->quantization.format == CheckpointFormat::Fp8E5M2 ? WeightType::Fp8E5M2 : WeightType::Fp8E4M3;
    if (type == WeightType::Fp16 || matmul_compute == MatmulCompute::Fp16) return 0.02;
    // Native fp8: a value an upstream fp16 difference moves across a rounding boundary
    // changes by one step of the format, 2^-3 of its binade in e4m3 and 2^-2 in e5m2; the
    // tolerance is 0.6 of that step (docs/models.md, "Tolerances").
    if (type == WeightType::Fp8E5M2) return 0.6 * 0.25;
    if (type == WeightType::Fp8E4M3) return 0.6 * 0.125;
    return 0.05;
  }
  bool quiet = false;
  int tp = 1, pp = 1, ep = 1;  ///< a partition plan: chips per stage, pipeline stages, expert groups per stage
  std::string system;      ///< the system the plan runs on (default: groq-node)
};

double relative_error(const std::vector<float>& got, const Eigen::MatrixXf& want) {
  double worst = 0, scale = 0;
  for (Eigen::Index r = 0; r < want.rows(); ++r)
    for (Eigen::Index c = 0; c < want.cols(); ++c) {
      const double w = want(r, c), g = got[static_cast<std::size_t>(r * want.cols() + c)];
      worst = std::isfinite(g) ? std::max(worst, std::fabs(g - w)) : INFINITY;
      scale = std::max(scale, std::fabs(w));
    }
  return scale > 0 ? worst / scale : worst;
}

/// A JSON graph: random inputs, the simulated outputs against the fp32 interpreter of the
/// decomposed graph.
int verify_graph(const VerifyArgs& args, const ChipConfig& chip, const Workload& workload) {
  CompileOptions options;
  const WeightChoice weights = resolve_weights(args.weights, nullptr, "fp16");
  options.lowering.weights = weights.type;
  options.lowering.compute = parse_matmul_compute(args.compute);
  CompileResult compiled = compile_graph(workload.graph(), chip, options);
  const Graph g = compiled.primitive;
  std::map<std::string, std::vector<float>> inputs;
  std::uint64_t state = 12345;
  for (const auto& t : g.tensors) {
    if (t.role != TensorRole::Input) continue;
    std::vector<float> v(static_cast<std::size_t>(g.elements(g.find(t.name))));
    for (auto& x : v) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      x = static_cast<float>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    inputs[t.name] = std::move(v);
  }
  std::vector<std::string> outputs;
  for (const auto& t : g.tensors)
    if (t.role == TensorRole::Output) outputs.push_back(t.name);
  const StepResult result = run_compiled(chip, std::move(compiled), RunMode::Functional, inputs, outputs, g.name);
  const auto reference = interpret_primitive_graph(g, inputs);
  bool ok = true;
  std::cout << fmt::format("lpusim verify {} ({} weights, reference: fp32 interpreter of the decomposed graph)\n",
                           workload.path, weights.label);
  for (const auto& name : outputs) {
    const HostTensor& got = result.outputs.at(name);
    const auto& want_values = reference.at(name);
    Eigen::MatrixXf want(got.rows, got.cols);
    for (std::int64_t r = 0; r < got.rows; ++r)
      for (std::int64_t c = 0; c < got.cols; ++c) want(r, c) = want_values[static_cast<std::size_t>(r * got.cols + c)];
    const double error = relative_error(got.values, want);
    if (std::getenv("LPUSIM_VERIFY_DEBUG"))
      for (std::int64_t c = 0; c < got.cols; c += 37)
        std::cout << fmt::format("    [0,{}] sim {} ref {}\n", c, got.values[static_cast<std::size_t>(c)], want(0, c));
    const double tolerance = args.tolerance_for(weights, options.lowering.compute, nullptr);
    ok = ok && error <= tolerance;
    std::cout << fmt::format("  {:<24} {} cycles, max |error| / max |reference| = {:.2e} {}\n", name, result.cycles(),
                             error, error <= tolerance ? "ok" : fmt::format("FAIL (tolerance {:.1e})", tolerance));
  }
  return ok ? 0 : 1;
}

int run(const VerifyArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const Workload workload = load_command_workload(args.model, args.strict);
  if (workload.is_graph()) {
    if (args.batch != 1)
      throw InputError(fmt::format("{}: --batch {} applies to model configs; a graph's batch is in its input shapes",
                                   workload.path, args.batch));
    return verify_graph(args, chip, workload);
  }
  const TransformerSpec& spec = workload.spec();
  const WeightChoice weights = resolve_weights(args.weights, &spec, "fp16");
  const MatmulCompute compute = parse_matmul_compute(args.compute);
  const Precision precision = precision_for(weights.type, compute);
  const std::int64_t steps = spec.causal ? args.decode_steps : 0;
  const std::int64_t batch = args.batch;
  // Cost before work: the prefill's compile (with weight values), its functional simulation
  // and the reference's fp32 weights, one copy per sequence.
  const CompileCost cost =
      require_transformer_fits(spec, chip, WeightScenario(weights.type, compute, weights.checkpoint), true, {args.prompt_len, 0, batch});
  limits::require_host_memory(cost.host_bytes + simulation_host_bytes(cost.instructions) +
                                  static_cast<std::uint64_t>(spec.parameters()) * 4 * static_cast<std::uint64_t>(batch + 1),
                              fmt::format("{}: verifying it ({} instructions, {} parameters)", workload.path,
                                          cost.instructions, spec.parameters()));
  SessionOptions options;
  options.mode = RunMode::Functional;
  options.weights = weights.type;
  options.checkpoint_weights = weights.checkpoint;
  options.compute = compute;
  options.batch = batch;
  options.context = args.prompt_len + steps;
  // int8: the prefill calibrates the activation scales on its own deterministic prompt (not
  // the one verified); the decode steps reuse them, like a deployed model's fixed scales.
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < args.prompt_len; ++i)
      options.calibration_ids.push_back(static_cast<int>((11 * i + 5 + 17 * b) % spec.vocab_size));
  if (args.tp * args.pp > 1) {
    options.system = load_system(args.system.empty() ? "groq-node" : args.system);
    options.plan = requested_plan(spec, args.tp, args.pp, args.ep);
    if (args.chip != "tsp-v1")
      throw InputError("--chip and --tp/--pp: the system file (--system) names its chip");
  } else if (args.ep > 1) {
    throw InputError(fmt::format("--ep {}: experts are split among the chips of a stage; give --tp (a multiple of --ep)", args.ep));
  } else if (!args.system.empty()) {
    throw InputError(fmt::format("--system {}: a system needs a plan of several chips (--tp N and/or --pp M)", args.system));
  }
  TransformerSession session(spec, options.system ? options.system->chip : chip, options);  // refuses a model that does not fit
  if (spec.parameters() > 200'000'000)
    throw InputError(fmt::format("{}: {:.0f} M parameters is too large to verify functionally; verify is for small "
                                 "configs (estimate runs large ones in timing mode)",
                                 workload.path, static_cast<double>(spec.parameters()) / 1e6));
  // Different token ids per sequence, so a row mix-up between sequences shows.
  std::vector<std::vector<int>> ids(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < args.prompt_len + steps; ++i)
      ids[static_cast<std::size_t>(b)].push_back(static_cast<int>((7 * i + 3 + 13 * b) % spec.vocab_size));

  // The reference runs each sequence independently, with its own KV cache, on the same weights.
  const Graph weights_graph = build_transformer_graph(spec, 1, 0, 1);
  std::vector<ReferenceTransformer> references(
      static_cast<std::size_t>(batch), weights.checkpoint ? ReferenceTransformer(spec, weights_graph, compute, true)
                                                          : ReferenceTransformer(spec, weights_graph, precision));
  // The sequences' reference rows one after another, like the graph's rows.
  auto reference_rows = [&](std::int64_t first, std::int64_t count, std::int64_t past) {
    std::vector<Eigen::MatrixXf> parts;
    Eigen::Index rows = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
      const auto& seq = ids[static_cast<std::size_t>(b)];
      const std::vector<int> tokens(seq.begin() + first, seq.begin() + first + count);
      parts.push_back(references[static_cast<std::size_t>(b)].forward(tokens, static_cast<int>(past)));
      rows += parts.back().rows();
    }
    Eigen::MatrixXf all(rows, parts[0].cols());
    Eigen::Index r = 0;
    for (const auto& p : parts) {
      all.middleRows(r, p.rows()) = p;
      r += p.rows();
    }
    return all;
  };
  auto tokens_of = [&](std::int64_t first, std::int64_t count) {
    std::vector<std::vector<int>> out;
    for (const auto& seq : ids) out.emplace_back(seq.begin() + first, seq.begin() + first + count);
    return out;
  };
  bool ok = true;
  // Each sequence is judged against its own largest logit, so a small-valued sequence cannot
  // hide behind another; the worst sequence is reported.
  auto report = [&](const std::string& what, const StepResult& step, const Eigen::MatrixXf& want) {
    const std::vector<float>& logits = step.outputs.at(session.output_name()).values;
    if (logits.size() != static_cast<std::size_t>(want.size()))
      throw std::logic_error(fmt::format("{}: the program output {} values, the reference {}", what, logits.size(), want.size()));
    const Eigen::Index rows = want.rows() / static_cast<Eigen::Index>(batch), cols = want.cols();
    double error = 0;
    std::int64_t worst = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
      const auto first = logits.begin() + static_cast<std::ptrdiff_t>(b * rows * cols);
      const std::vector<float> got(first, first + static_cast<std::ptrdiff_t>(rows * cols));
      const double e = relative_error(got, want.middleRows(static_cast<Eigen::Index>(b) * rows, rows));
      if (b == 0 || !(e <= error)) {
        error = e;
        worst = b;
      }
    }
    const double tolerance = args.tolerance_for(weights, compute, &spec);
    const bool pass = error <= tolerance;
    ok = ok && pass;
    std::cout << fmt::format("  {:<24} {} cycles{}, max |error| / max |reference| = {:.2e}{} {}\n", what, step.cycles(),
                             step.chips > 1 ? fmt::format(" ({} C2C vectors)", step.c2c_vectors_sent) : "",
                             error, batch > 1 ? fmt::format(" (worst: sequence {})", worst) : "",
                             pass ? "ok" : fmt::format("FAIL (tolerance {:.1e})", tolerance));
  };
  std::cout << fmt::format("lpusim verify {} ({}, {} weights, reference precision {}{}{})\n", args.model,
                           family_name(spec.family), weights.label,
                           weights.checkpoint ? std::string("as the checkpoint") : std::string(precision_name(precision)),
                           batch > 1 ? fmt::format(", batch {}", batch) : "",
                           options.system ? fmt::format(", {} on system {}", options.plan.describe(), options.system->name) : "");
  const StepResult prefill = session.prefill(args.prompt_len, tokens_of(0, args.prompt_len));
  for (auto& r : references) r.set_activation_scales(session.activation_scales());
  report(fmt::format("prefill of {}{} tokens", batch > 1 ? fmt::format("{} x ", batch) : "", args.prompt_len), prefill,
         reference_rows(0, args.prompt_len, 0));
  for (std::int64_t s = 0; s < steps; ++s) {
    const std::int64_t past = session.position();
    std::vector<int> next;
    for (const auto& seq : ids) next.push_back(seq[static_cast<std::size_t>(past)]);
    const StepResult step = session.decode(next);
    report(fmt::format("decode step {} (past {})", s + 1, past), step, reference_rows(past, 1, past));
  }
  std::cout << (ok ? "  logits match the reference\n" : "  logits DIFFER from the reference\n");
  return ok ? 0 : 1;
}

}  // namespace

Command add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand("verify", "Run a small model on the simulated chip and compare with the Eigen reference");
  cmd->add_option("model", args->model, "A config.json, a model folder, or a bundled model name (tiny-llama, ...)")->required();
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_flag("--strict", args->strict, "Refuse config.json keys lpusim does not know (default: a warning each)");
  cmd->add_option("--weights", args->weights, "Weight type: auto (the checkpoint's fp8/mxfp4 if quantized, else fp16), checkpoint, int8, fp16, fp8 (e4m3), fp8-e5m2")
      ->check(CLI::IsMember(weight_type_choices()))->capture_default_str();
  cmd->add_option("--compute", args->compute, "Where int8/fp8 weights are multiplied: native (int8 x int8, fp8 x fp8) or fp16 (dequantised into an fp16 MXM)")
      ->check(CLI::IsMember(matmul_compute_choices()))->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens")->check(CLI::Range(1, 2048))->capture_default_str();
  cmd->add_option("--batch", args->batch, "Sequences per step, each with its own token ids and KV cache")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--tp", args->tp, "Chips per pipeline stage (tensor parallel): the model runs partitioned on a system")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--pp", args->pp, "Pipeline stages (consecutive layers per stage)")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--ep", args->ep, "Of a stage's --tp chips, the groups an MoE layer's experts are dealt to")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--system", args->system,
                  "With --tp/--pp: the system the chips belong to (a bundled name or a system JSON file; default groq-node)");
  cmd->add_option("--decode-steps", args->decode_steps, "Decode steps after the prompt")->check(CLI::Range(0, 64))->capture_default_str();
  cmd->add_option("--tolerance", args->tolerance,
                  "Largest accepted max |error| / max |reference| (default by format: 0.02 fp16 and --compute fp16, 0.05 int8 and fp8, 0.15 fp8-e5m2)")
      // CLI::Range lets NaN through (every comparison with it is false): finite in [0, 1] only.
      // No captured default: the unset value -1 means "by weight type".
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !std::isfinite(v) || v < 0.0 || v > 1.0)
              return "expected a finite number in [0, 1], got " + text;
            return "";
          },
          "FLOAT in [0, 1]"));
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
