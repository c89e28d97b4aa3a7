#include "runtime/host_runtime.hpp"

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/ir/weight_init.hpp"
#include "frontend/transformer_graph.hpp"
#include "models/child_run.hpp"
#include "runtime/model_costs.hpp"
#include "runtime/stage_reuse.hpp"
#include "runtime/system_run.hpp"

namespace lpusim {

StepResult run_compiled(const ChipConfig& chip, CompileResult compiled, RunMode mode,
                        const std::map<std::string, std::vector<float>>& inputs, const std::vector<std::string>& outputs,
                        const std::string& name) {
  LoweredProgram& lowered = compiled.lowered;
  StepResult r;
  r.name = name;
  r.scheduled_length = lowered.scheduled_length;
  r.program_instructions = lowered.instructions;
  r.lowering = std::move(lowered.stats);
  SimOptions sim;
  const bool functional = mode == RunMode::Functional;
  sim.mode = functional ? SimMode::Functional : SimMode::TimingOnly;
  if (functional) {
    sim.values = std::move(lowered.data);
    for (const auto& [tensor, values] : inputs) {
      const auto it = lowered.placements.find(tensor);
      if (it != lowered.placements.end()) pack_rows(it->second, values, chip.lanes(), sim.values);
    }
    for (const auto& tensor : outputs) {
      const auto it = lowered.placements.find(tensor);
      if (it == lowered.placements.end())
        throw std::logic_error(fmt::format("{}: the compiled program has no tensor '{}' to return", name, tensor));
      sim.dumps.insert(sim.dumps.end(), it->second.tiles.begin(), it->second.tiles.end());
    }
  }
  lowered.program.file = name + ".s";
  const BoundProgram bound = bind_program(lowered.program, chip);
  lowered.program = Program{};  // the bound copy is what runs; the compile's copy can go
  r.simulated = simulate_in_child(chip, bound, sim);
  if (!r.simulated.hazards.empty())
    throw std::logic_error(fmt::format("the compiled {} program has {} schedule hazards (first: {}): a compiler bug", name,
                                       r.simulated.hazards.size(), r.simulated.hazards[0].message));
  if (functional)
    for (const auto& tensor : outputs)
      r.outputs[tensor] = unpack_rows(lowered.placements.at(tensor), r.simulated.dumps, chip.lanes());
  r.simulated.dumps.clear();
  return r;
}

TransformerSession::TransformerSession(const TransformerSpec& spec, const ChipConfig& chip, SessionOptions options)
    : spec_(spec), chip_(chip), options_(std::move(options)) {
  if (options_.batch < 1) throw InputError(fmt::format("{}: batch must be at least 1, got {}", spec_.file, options_.batch));
  if (options_.plan.chips() > 1) {
    // Each chip's share is checked when its program is compiled (compile_system's cost check).
    if (!options_.system)
      throw std::logic_error("TransformerSession: a plan of several chips needs SessionOptions::system");
    if (options_.plan.chips() > options_.system->chips)
      throw InputError(fmt::format("{}: the plan {} needs {} chips; system {} has {}", spec_.file,
                                   options_.plan.describe(), options_.plan.chips(), options_.system->name,
                                   options_.system->chips));
    chip_caches_.resize(static_cast<std::size_t>(options_.plan.chips()));
    return;
  }
  // Weights first: a model too large for one chip is told how many chips it needs, whatever
  // its KV caches would take.
  check_model_fits(spec_, chip_, options_.weights, options_.batch, std::max<std::int64_t>(options_.context, 1),
                   options_.checkpoint_weights);
}

void TransformerSession::seek(std::int64_t position) {
  if (options_.mode != RunMode::Timing)
    throw std::logic_error("TransformerSession::seek: only in timing mode (functional steps need the real caches)");
  position_ = position;
}

StepResult TransformerSession::prefill(std::int64_t prompt_length, const std::vector<std::vector<int>>& prompts) {
  if (position_ != 0) throw std::logic_error("TransformerSession::prefill: the session already holds positions");
  std::vector<int> ids;
  if (options_.mode == RunMode::Functional) {
    if (static_cast<std::int64_t>(prompts.size()) != options_.batch)
      throw std::logic_error(fmt::format("prefill: {} prompts for a batch of {}", prompts.size(), options_.batch));
    for (const auto& p : prompts) {
      if (static_cast<std::int64_t>(p.size()) != prompt_length)
        throw std::logic_error(fmt::format("prefill: a prompt of {} tokens, expected {}", p.size(), prompt_length));
      ids.insert(ids.end(), p.begin(), p.end());
    }
  }
  return run_step("prefill", prompt_length, ids, options_.prefill_last_rows_only);
}

StepResult TransformerSession::prefill_chunk(std::int64_t tokens) {
  if (options_.mode != RunMode::Timing)
    throw std::logic_error("TransformerSession::prefill_chunk: only in timing mode");
  return run_step("prefill", tokens, {}, options_.prefill_last_rows_only);
}

StepResult TransformerSession::decode(const std::vector<int>& tokens) {
  if (options_.mode == RunMode::Functional && static_cast<std::int64_t>(tokens.size()) != options_.batch)
    throw std::logic_error(fmt::format("decode: {} tokens for a batch of {}", tokens.size(), options_.batch));
  return run_step("decode", 1, tokens, false);
}

std::map<std::string, std::vector<float>> TransformerSession::embedding_rows(const Graph& graph, const std::vector<int>& ids) {
  std::map<std::string, std::vector<float>> out;
  for (const Node& n : graph.nodes) {
    if (n.kind != OpKind::Gather || n.inputs.size() != 2 || n.outputs.size() != 1) continue;
    const TensorInfo& table = graph.tensors[static_cast<std::size_t>(n.inputs[0])];
    const std::string& ids_name = graph.tensors[static_cast<std::size_t>(n.inputs[1])].name;
    auto it = tables_.find(table.name);
    if (it == tables_.end()) it = tables_.emplace(table.name, make_weight_values(table)).first;
    const std::int64_t width = table.shape.at(1);
    std::vector<float> rows;
    rows.reserve(ids.size() * static_cast<std::size_t>(width));
    for (int id : ids) {
      // Token types are all 0 (one segment); token ids are the ones given.
      const std::int64_t row = ids_name == "token_ids" ? id : 0;
      if (row < 0 || row >= table.shape.at(0))
        throw InputError(fmt::format("{}: token id {} is outside the table '{}' of {} rows", spec_.file, row, table.name,
                                     table.shape.at(0)));
      rows.insert(rows.end(), it->second.begin() + row * width, it->second.begin() + (row + 1) * width);
    }
    out[graph.tensors[static_cast<std::size_t>(n.outputs[0])].name] = std::move(rows);
  }
  return out;
}

StepResult TransformerSession::run_step(const std::string& name, std::int64_t tokens, const std::vector<int>& ids,
                                        bool last_rows_only) {
  const bool functional = options_.mode == RunMode::Functional;
  const std::int64_t past = position_;
  Graph graph = build_transformer_graph(spec_, tokens, past, options_.batch);
  if (options_.plan.chips() > 1) return run_system_step(name, std::move(graph), tokens, ids, last_rows_only);
  CompileOptions compile;
  compile.lowering.weights = options_.weights;
  compile.lowering.compute = options_.compute;
  compile.lowering.checkpoint_weights = options_.checkpoint_weights;
  compile.lowering.functional_data = functional;  // timing: no SRAM contents, the same schedule
  compile.sequences = options_.batch;
  compile.last_row_outputs = last_rows_only;
  std::map<std::string, std::vector<float>> inputs;
  if (functional) {
    inputs = embedding_rows(graph, ids);
    if (options_.calibrated()) {
      if (act_scales_.empty())
        compile.calibration.values =
            options_.calibration_ids.empty() ? inputs : embedding_rows(graph, options_.calibration_ids);
      else
        compile.calibration.act_scales = act_scales_;
    }
    for (const auto& [cache, rows] : caches_) inputs[cache] = rows;
  }
  const std::int64_t macs = weight_macs(graph);
  const auto start = std::chrono::steady_clock::now();
  CompileResult compiled = compile_graph(std::move(graph), chip_, compile);
  const double compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (functional && act_scales_.empty())
    for (const auto& node : compiled.primitive.nodes)
      if (node.kind == OpKind::MatMul && node.act_scale) act_scales_[node.name] = *node.act_scale;
  std::vector<std::string> outputs{output_name()};
  std::vector<std::string> cache_names;
  if (functional)
    for (const auto& t : compiled.primitive.tensors)
      if (t.role == TensorRole::State && compiled.lowered.placements.count(t.name)) cache_names.push_back(t.name);
  outputs.insert(outputs.end(), cache_names.begin(), cache_names.end());
  StepResult r = run_compiled(chip_, std::move(compiled), options_.mode, inputs, outputs, name);
  r.tokens = tokens;
  r.past = past;
  r.compile_seconds = compile_seconds;
  r.weight_macs = macs;
  for (const auto& cache : cache_names) {
    caches_[cache] = std::move(r.outputs.at(cache).values);
    r.outputs.erase(cache);
  }
  position_ = past + tokens;
  return r;
}

StepResult TransformerSession::run_system_step(const std::string& name, Graph graph, std::int64_t tokens,
                                               const std::vector<int>& ids, bool last_rows_only) {
  const bool functional = options_.mode == RunMode::Functional;
  const PartitionPlan& plan = options_.plan;
  const int chips = plan.chips();
  const std::int64_t past = position_;
  infer_shapes(graph);
  const std::int64_t macs = weight_macs(graph);
  const TensorInfo& whole_output = graph.tensors[static_cast<std::size_t>(graph.find(output_name()))];
  const std::int64_t output_cols = whole_output.shape.back();
  std::vector<Graph> chip_graphs = partition_graph(graph, plan);
  CompileOptions compile;
  compile.lowering.weights = options_.weights;
  compile.lowering.compute = options_.compute;
  compile.lowering.checkpoint_weights = options_.checkpoint_weights;
  compile.lowering.functional_data = functional;
  compile.sequences = options_.batch;
  compile.last_row_outputs = last_rows_only;
  compile.pipeline_stages = plan.stage_of_chips();
  std::vector<std::map<std::string, std::vector<float>>> inputs(static_cast<std::size_t>(chips));
  if (functional)
    for (int c = 0; c < chips; ++c) {
      inputs[static_cast<std::size_t>(c)] = embedding_rows(chip_graphs[static_cast<std::size_t>(c)], ids);
      for (const auto& [cache, rows] : chip_caches_[static_cast<std::size_t>(c)]) inputs[static_cast<std::size_t>(c)][cache] = rows;
    }
  const auto start = std::chrono::steady_clock::now();
  // Timing only, three or more stages: each class of identical stages is compiled and
  // simulated once, in a window of its own (runtime/stage_reuse.hpp).
  if (!functional && !options_.simulate_every_chip && plan.pp > 2) {
    const StageClasses classes = classify_stages(chip_graphs, plan, *options_.system);
    {
      ReusedStep reused = run_reused_stages(chip_graphs, plan, *options_.system, classes, compile, name);
      StepResult r;
      r.name = name;
      r.tokens = tokens;
      r.past = past;
      r.chips = chips;
      r.compile_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() - reused.simulate_seconds;
      r.weight_macs = macs;
      r.scheduled_length = Cycle(reused.scheduled_cycles);
      r.program_instructions = reused.program_instructions;
      r.simulated_instructions = reused.simulated_instructions;
      r.lowering = std::move(reused.first_chip_lowering);
      r.stage_times = std::move(reused.stage_times);
      r.simulated = std::move(reused.last_stage_chip);
      r.simulated.host_seconds = reused.simulate_seconds;
      r.c2c_vectors_sent = reused.c2c_vectors_sent;
      r.c2c_link_busy_cycles = reused.c2c_link_busy_cycles;
      r.stage_class = std::move(reused.classes.representative);
      r.chips_simulated = reused.chips_simulated;
      position_ = past + tokens;
      return r;
    }
  }
  std::vector<CompileResult> compiled = compile_system(std::move(chip_graphs), *options_.system, compile);
  const double compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The last stage's chips hold the output, cut by columns in rank order (or whole on each).
  std::vector<std::vector<std::string>> outputs(static_cast<std::size_t>(chips));
  std::vector<std::vector<std::string>> cache_names(static_cast<std::size_t>(chips));
  const int last_stage = (plan.pp - 1) * plan.tp;
  for (int c = 0; c < chips; ++c) {
    const CompileResult& r = compiled[static_cast<std::size_t>(c)];
    if (!functional) continue;
    if (c >= last_stage) outputs[static_cast<std::size_t>(c)].push_back(output_name());
    for (const auto& t : r.primitive.tensors)
      if (t.role == TensorRole::State && r.lowered.placements.count(t.name))
        cache_names[static_cast<std::size_t>(c)].push_back(t.name);
    outputs[static_cast<std::size_t>(c)].insert(outputs[static_cast<std::size_t>(c)].end(),
                                                cache_names[static_cast<std::size_t>(c)].begin(),
                                                cache_names[static_cast<std::size_t>(c)].end());
  }
  SystemStepResult s = run_compiled_system(*options_.system, std::move(compiled), functional, inputs, outputs, name);
  StepResult r;
  r.name = name;
  r.tokens = tokens;
  r.past = past;
  r.chips = chips;
  r.scheduled_length = s.scheduled_length();
  r.program_instructions = s.program_instructions;
  r.simulated_instructions = s.program_instructions;
  r.chips_simulated = static_cast<int>(s.scheduled.size());
  r.compile_seconds = compile_seconds;
  r.weight_macs = macs;
  r.lowering = s.lowering[0];
  r.stage_times = stage_times(s, plan);
  r.simulated = s.simulated.chips[static_cast<std::size_t>(last_stage)];
  r.simulated.total_cycles = s.simulated.total_cycles;
  // Every chip that ran a program: the plan's, and any that only forward transfers.
  for (std::size_t c = 0; c < s.scheduled.size(); ++c) {
    const SimResult& chip = s.simulated.chips[c];
    r.chip_cycles.push_back(chip.total_cycles);
    r.c2c_vectors_sent += static_cast<std::int64_t>(chip.c2c_vectors_sent);
    r.c2c_link_busy_cycles += static_cast<std::int64_t>(chip.c2c_link_busy_cycles);
    if (chip.total_cycles != s.scheduled[c])
      throw std::logic_error(fmt::format("{} on chip {}: simulated {} cycles, scheduled {} (a compiler bug)", name, c,
                                         chip.total_cycles.value(), s.scheduled[c].value()));
  }
  if (functional) {
    HostTensor joined;
    for (int rank = 0; rank < plan.tp; ++rank) {
      const HostTensor& part = s.outputs[static_cast<std::size_t>(last_stage + rank)].at(output_name());
      if (rank == 0) {
        joined = part;
        if (part.cols == output_cols) break;  // whole on every chip of the stage
        continue;
      }
      HostTensor wider{joined.rows, joined.cols + part.cols, {}};
      wider.values.reserve(static_cast<std::size_t>(wider.rows * wider.cols));
      for (std::int64_t row = 0; row < joined.rows; ++row) {
        wider.values.insert(wider.values.end(), joined.values.begin() + row * joined.cols,
                            joined.values.begin() + (row + 1) * joined.cols);
        wider.values.insert(wider.values.end(), part.values.begin() + row * part.cols,
                            part.values.begin() + (row + 1) * part.cols);
      }
      joined = std::move(wider);
    }
    if (joined.cols != output_cols)
      throw std::logic_error(fmt::format("{}: the chips returned {} of the output's {} columns", name, joined.cols,
                                         output_cols));
    r.outputs[output_name()] = std::move(joined);
    for (int c = 0; c < chips; ++c)
      for (const auto& cache : cache_names[static_cast<std::size_t>(c)])
        chip_caches_[static_cast<std::size_t>(c)][cache] = std::move(s.outputs[static_cast<std::size_t>(c)].at(cache).values);
  }
  position_ = past + tokens;
  return r;
}

}  // namespace lpusim
