// `lpusim verify MODEL`: compile a small model, run it functionally on the simulated chip
// (a prefill, then decode steps that carry the KV cache forward), and compare its logits
// with the plain C++/Eigen reference of the same model and weights.
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "models/child_run.hpp"
#include "commands.hpp"
#include "compiler/pipeline.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "compiler/interpreter/interpret.hpp"
#include "frontend/reference_transformer.hpp"
#include "frontend/transformer_graph.hpp"
#include "compiler/ir/weight_init.hpp"
#include "model_source.hpp"

namespace lpusim::cli {

namespace {

struct VerifyArgs {
  std::string model;
  bool strict = false;
  std::string chip = "tsp-v1";
  std::string weights = "auto";
  std::string compute = "native";
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
    return type == WeightType::Fp8E5M2 ? 0.15 : 0.05;
  }
  bool quiet = false;
};

/// Row-major [rows, cols] values -> per-tile assembly tensor values.
void put_rows(const TensorPlacement& p, const std::vector<float>& values, std::int64_t lanes,
              std::map<std::string, std::vector<double>>& out) {
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    std::vector<double> v(static_cast<std::size_t>(p.rows * lanes), 0.0);
    for (std::int64_t m = 0; m < p.rows; ++m)
      for (std::int64_t i = 0; i < lanes && static_cast<std::int64_t>(j) * lanes + i < p.cols; ++i)
        v[static_cast<std::size_t>(m * lanes + i)] =
            values[static_cast<std::size_t>(m * p.cols + static_cast<std::int64_t>(j) * lanes + i)];
    out[p.tiles[j]] = std::move(v);
  }
}

std::vector<float> get_rows(const TensorPlacement& p, const std::map<std::string, std::vector<double>>& dumps,
                            std::int64_t lanes) {
  std::vector<float> v(static_cast<std::size_t>(p.rows * p.cols), 0.0f);
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    const auto& tile = dumps.at(p.tiles[j]);
    for (std::int64_t m = 0; m < p.rows; ++m)
      for (std::int64_t i = 0; i < lanes && static_cast<std::int64_t>(j) * lanes + i < p.cols; ++i)
        v[static_cast<std::size_t>(m * p.cols + static_cast<std::int64_t>(j) * lanes + i)] =
            static_cast<float>(tile[static_cast<std::size_t>(m * lanes + i)]);
  }
  return v;
}

struct StepOutcome {
  std::vector<float> logits;
  std::map<std::string, std::vector<float>> caches;  // state tensor -> rows x cols
  std::int64_t cycles = 0;
  std::map<std::string, double> act_scales;  // int8 matmul node -> calibrated activation scale
};

/// The host's embedding lookup: rows of the model's tables for `ids` (token types all 0),
/// by the name of the graph input they feed ("embed", "type_embed").
std::map<std::string, std::vector<float>> embedding_rows(const Graph& graph, const std::vector<int>& ids) {
  std::map<std::string, std::vector<float>> out;
  auto gather = [&](const std::string& tensor, const std::string& table_name, const std::vector<int>& rows_of) {
    const int table = graph.find(table_name);
    if (table < 0) return;
    const auto values = make_weight_values(graph.tensors[static_cast<std::size_t>(table)]);
    const std::int64_t width = graph.tensors[static_cast<std::size_t>(table)].shape[1];
    std::vector<float> rows;
    for (int id : rows_of) rows.insert(rows.end(), values.begin() + id * width, values.begin() + (id + 1) * width);
    out[tensor] = std::move(rows);
  };
  gather("embed", "embed.weight", ids);
  gather("type_embed", "type_embed.weight", std::vector<int>(ids.size(), 0));
  return out;
}

StepOutcome run_step(const TransformerSpec& spec, const Graph& graph, const ChipConfig& chip, const CompileOptions& options,
                     const std::vector<int>& ids, const std::map<std::string, std::vector<float>>& caches_in,
                     const std::string& output) {
  const CompileResult compiled = compile_graph(graph, chip, options);
  const auto& lowered = compiled.lowered;
  const std::int64_t lanes = chip.lanes();
  SimOptions sim;
  sim.mode = SimMode::Functional;
  sim.values = lowered.data;
  // The embedding lookup runs on the host: the gathered rows are the program's input.
  for (const auto& [tensor, rows] : embedding_rows(graph, ids)) {
    auto it = lowered.placements.find(tensor);
    if (it != lowered.placements.end()) put_rows(it->second, rows, lanes, sim.values);
  }
  for (const auto& [name, rows] : caches_in) {
    auto it = lowered.placements.find(name);
    if (it == lowered.placements.end()) continue;
    std::vector<float> padded(static_cast<std::size_t>(it->second.rows * it->second.cols), 0.0f);
    std::copy(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), padded.size())), padded.begin());
    put_rows(it->second, padded, lanes, sim.values);
  }
  const TensorPlacement& out = lowered.placements.at(output);
  sim.dumps = out.tiles;
  std::vector<std::string> cache_names;
  for (const auto& [name, placement] : lowered.placements)
    if (name.find("_cache") != std::string::npos) {
      cache_names.push_back(name);
      for (const auto& t : placement.tiles) sim.dumps.push_back(t);
    }
  const BoundProgram bound = bind_program(lowered.program, chip);
  const SimResult result = simulate_in_child(chip, bound, sim);
  if (!result.hazards.empty())
    throw std::logic_error(fmt::format("the compiled program has {} hazards (first: {})", result.hazards.size(),
                                       result.hazards[0].message));
  StepOutcome o;
  o.cycles = result.total_cycles.value();
  for (const auto& node : compiled.primitive.nodes)
    if (node.kind == OpKind::MatMul && node.attrs.count("act_scale")) o.act_scales[node.name] = node.float_attr("act_scale", 0.0);
  o.logits = get_rows(out, result.dumps, lanes);
  for (const auto& name : cache_names) o.caches[name] = get_rows(lowered.placements.at(name), result.dumps, lanes);
  (void)spec;
  return o;
}

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
int verify_graph_file(const VerifyArgs& args, const ChipConfig& chip, const std::string& path) {
  CompileOptions options;
  const WeightChoice weights = resolve_weights(args.weights, nullptr, "fp16");
  options.lowering.weights = weights.type;
  options.lowering.compute = parse_matmul_compute(args.compute);
  const CompileResult compiled = compile_graph(load_graph_json(path), chip, options);
  const auto& g = compiled.primitive;
  std::map<std::string, std::vector<float>> inputs;
  SimOptions sim;
  sim.mode = SimMode::Functional;
  sim.values = compiled.lowered.data;
  std::uint64_t state = 12345;
  for (const auto& t : g.tensors) {
    if (t.role != TensorRole::Input) continue;
    std::vector<float> v(static_cast<std::size_t>(g.elements(g.find(t.name))));
    for (auto& x : v) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      x = static_cast<float>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    put_rows(compiled.lowered.placements.at(t.name), v, chip.lanes(), sim.values);
    inputs[t.name] = std::move(v);
  }
  std::vector<std::string> outputs;
  for (const auto& t : g.tensors)
    if (t.role == TensorRole::Output) {
      outputs.push_back(t.name);
      for (const auto& tile : compiled.lowered.placements.at(t.name).tiles) sim.dumps.push_back(tile);
    }
  const SimResult result = simulate_in_child(chip, bind_program(compiled.lowered.program, chip), sim);
  if (!result.hazards.empty())
    throw std::logic_error(fmt::format("the compiled program has {} hazards (first: {})", result.hazards.size(),
                                       result.hazards[0].message));
  const auto reference = interpret_primitive_graph(g, inputs);
  bool ok = true;
  std::cout << fmt::format("lpusim verify {} ({} weights, reference: fp32 interpreter of the decomposed graph)\n", path, weights.label);
  for (const auto& name : outputs) {
    const auto& p = compiled.lowered.placements.at(name);
    const auto got = get_rows(p, result.dumps, chip.lanes());
    const auto& want_values = reference.at(name);
    Eigen::MatrixXf want(p.rows, p.cols);
    for (std::int64_t r = 0; r < p.rows; ++r)
      for (std::int64_t c = 0; c < p.cols; ++c) want(r, c) = want_values[static_cast<std::size_t>(r * p.cols + c)];
    const double error = relative_error(got, want);
    if (std::getenv("LPUSIM_VERIFY_DEBUG"))
      for (std::int64_t c = 0; c < p.cols; c += 37)
        std::cout << fmt::format("    [0,{}] sim {} ref {}\n", c, got[static_cast<std::size_t>(c)], want(0, c));
    const double tolerance = args.tolerance_for(weights, options.lowering.compute, nullptr);
    ok = ok && error <= tolerance;
    std::cout << fmt::format("  {:<24} {} cycles, max |error| / max |reference| = {:.2e} {}\n", name,
                             result.total_cycles.value(), error,
                             error <= tolerance ? "ok" : fmt::format("FAIL (tolerance {:.1e})", tolerance));
  }
  return ok ? 0 : 1;
}

int run(const VerifyArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const std::string path = resolve_model_path(args.model);
  if (is_graph_file(path)) {
    if (args.batch != 1)
      throw InputError(fmt::format("{}: --batch {} applies to model configs; a graph's batch is in its input shapes", path, args.batch));
    return verify_graph_file(args, chip, path);
  }
  const TransformerSpec spec = load_model_spec(path, args.strict);
  if (spec.parameters() > 200'000'000)
    throw InputError(fmt::format("{}: {:.0f} M parameters is too large to verify functionally; verify is for small "
                                 "configs (estimate runs large ones in timing mode)", path, static_cast<double>(spec.parameters()) / 1e6));
  CompileOptions options;
  const WeightChoice weights = resolve_weights(args.weights, &spec, "fp16");
  options.lowering.weights = weights.type;
  options.lowering.checkpoint_weights = weights.checkpoint;
  options.lowering.compute = parse_matmul_compute(args.compute);
  const Precision precision = precision_for(options.lowering.weights, options.lowering.compute);
  const std::int64_t steps = spec.causal ? args.decode_steps : 0;
  const std::int64_t batch = args.batch;
  check_kv_caches_fit(spec, chip, batch, args.prompt_len + steps, path);
  // Different token ids per sequence, so a row mix-up between sequences shows.
  std::vector<std::vector<int>> ids(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < args.prompt_len + steps; ++i)
      ids[static_cast<std::size_t>(b)].push_back(static_cast<int>((7 * i + 3 + 13 * b) % spec.vocab_size));
  const std::string output = spec.has_lm_head ? "logits" : "hidden";

  const Graph prefill_graph = build_transformer_graph(spec, args.prompt_len, 0, batch);
  // The reference runs each sequence independently, with its own KV cache.
  std::vector<ReferenceTransformer> references(static_cast<std::size_t>(batch), weights.checkpoint ? ReferenceTransformer(spec, prefill_graph, options.lowering.compute, true)
                                                                                    : ReferenceTransformer(spec, prefill_graph, precision));
  // int8: the prefill calibrates the activation scales on its own deterministic prompt (not
  // the one verified); the decode steps reuse them, like a deployed model's fixed scales.
  std::vector<int> calibration_ids;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < args.prompt_len; ++i)
      calibration_ids.push_back(static_cast<int>((11 * i + 5 + 17 * b) % spec.vocab_size));
  options.calibration.values = embedding_rows(prefill_graph, calibration_ids);
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
  auto step_ids = [&](std::int64_t first, std::int64_t count) {
    std::vector<int> flat;
    for (const auto& seq : ids) flat.insert(flat.end(), seq.begin() + first, seq.begin() + first + count);
    return flat;
  };
  bool ok = true;
  // Each sequence is judged against its own largest logit, so a small-valued sequence cannot
  // hide behind another; the worst sequence is reported.
  auto report = [&](const std::string& what, const StepOutcome& o, const Eigen::MatrixXf& want) {
    if (o.logits.size() != static_cast<std::size_t>(want.size()))
      throw std::logic_error(fmt::format("{}: the program output {} values, the reference {}", what, o.logits.size(), want.size()));
    const Eigen::Index rows = want.rows() / static_cast<Eigen::Index>(batch), cols = want.cols();
    double error = 0;
    std::int64_t worst = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
      const auto first = o.logits.begin() + static_cast<std::ptrdiff_t>(b * rows * cols);
      const std::vector<float> got(first, first + static_cast<std::ptrdiff_t>(rows * cols));
      const double e = relative_error(got, want.middleRows(static_cast<Eigen::Index>(b) * rows, rows));
      if (b == 0 || !(e <= error)) {
        error = e;
        worst = b;
      }
    }
    const double tolerance = args.tolerance_for(weights, options.lowering.compute, &spec);
    const bool pass = error <= tolerance;
    ok = ok && pass;
    std::cout << fmt::format("  {:<24} {} cycles, max |error| / max |reference| = {:.2e}{} {}\n", what, o.cycles, error,
                             batch > 1 ? fmt::format(" (worst: sequence {})", worst) : "",
                             pass ? "ok" : fmt::format("FAIL (tolerance {:.1e})", tolerance));
  };
  std::cout << fmt::format("lpusim verify {} ({}, {} weights, reference precision {}{})\n", args.model,
                           family_name(spec.family), weights.label,
                           weights.checkpoint ? std::string("as the checkpoint") : std::string(precision_name(precision)),
                           batch > 1 ? fmt::format(", batch {}", batch) : "");
  StepOutcome previous = run_step(spec, prefill_graph, chip, options, step_ids(0, args.prompt_len), {}, output);
  options.calibration = Calibration{{}, previous.act_scales};
  for (auto& r : references) r.set_activation_scales(previous.act_scales);
  report(fmt::format("prefill of {}{} tokens", batch > 1 ? fmt::format("{} x ", batch) : "", args.prompt_len), previous,
         reference_rows(0, args.prompt_len, 0));
  for (std::int64_t s = 0; s < steps; ++s) {
    const std::int64_t past = args.prompt_len + s;
    const Graph decode_graph = build_transformer_graph(spec, 1, past, batch);
    StepOutcome step = run_step(spec, decode_graph, chip, options, step_ids(past, 1), previous.caches, output);
    report(fmt::format("decode step {} (past {})", s + 1, past), step, reference_rows(past, 1, past));
    previous = std::move(step);
  }
  std::cout << (ok ? "  logits match the reference\n" : "  logits DIFFER from the reference\n");
  return ok ? 0 : 1;
}

}  // namespace

Command add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand("verify", "Run a small model on the simulated chip and compare with the Eigen reference");
  cmd->add_option("model", args->model, "A config.json, a model folder, or a bundled model name (tiny-llama, ...)")->required();
  cmd->add_flag("--strict", args->strict, "Refuse config.json keys lpusim does not know (default: a warning each)");
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_option("--weights", args->weights, fmt::format("Weight type: auto (the checkpoint's fp8/mxfp4 if quantized, else {}), checkpoint, int8, fp16, fp8 (e4m3), fp8-e5m2", "fp16"))
      ->check(CLI::IsMember(weight_type_choices()))->capture_default_str();
  cmd->add_option("--compute", args->compute, "Where int8/fp8 weights are multiplied: native (int8 x int8, fp8 x fp8) or fp16 (dequantised into an fp16 MXM)")
      ->check(CLI::IsMember(matmul_compute_choices()))->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--batch", args->batch, "Sequences per step, each with its own token ids and KV cache")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--decode-steps", args->decode_steps, "Decode steps after the prompt")->check(CLI::Range(0, 64))->capture_default_str();
  cmd->add_option("--tolerance", args->tolerance,
                  "Largest accepted max |error| / max |reference| (default by format: 0.02 fp16 and --compute fp16, 0.05 int8 and fp8, 0.15 fp8-e5m2)")
      ->check(CLI::Range(0.0, 1.0));  // no captured default: the unset value -1 means "by weight type"
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
