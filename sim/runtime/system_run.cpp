#include "runtime/system_run.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "models/child_run.hpp"

namespace lpusim {

Cycle SystemStepResult::scheduled_length() const {
  Cycle longest{0};
  for (Cycle c : scheduled) longest = std::max(longest, c);
  return longest;
}

bool SystemStepResult::simulated_equals_scheduled() const {
  if (simulated.chips.size() < scheduled.size()) return false;
  for (std::size_t c = 0; c < scheduled.size(); ++c)
    if (simulated.chips[c].total_cycles != scheduled[c]) return false;
  return true;
}

std::int64_t own_work_end(const LoweringStats& chip, std::int64_t total_cycles) {
  std::int64_t end = 0;
  for (const NodeAttribution& node : chip.nodes) end = std::max(end, node.end_cycle);
  return std::min(end, total_cycles);
}

StageTime split_stage_span(const LoweringStats& chip, std::int64_t previous, std::int64_t end, std::int64_t gate) {
  StageTime t;
  // Until the gate the stage waits for its hand-offs, whichever chip's came last.
  std::int64_t frontier = std::max(previous, std::min(gate, end));
  t.c2c = frontier - previous;
  for (const NodeAttribution& node : chip.nodes) {
    const std::int64_t landed = std::min(node.end_cycle, end);
    if (landed <= frontier) continue;
    (node.issued.c2c > 0 ? t.c2c : t.compute) += landed - frontier;
    frontier = landed;
  }
  if (end > frontier) t.compute += end - frontier;  // the program's tail after its last result
  t.span = t.compute + t.c2c;
  return t;
}

std::vector<StageTime> stage_times(const SystemStepResult& step, const PartitionPlan& plan) {
  // A chip's own work ends with its graph's last result: forwards of other stages' transfers
  // (attributed to no node) can keep it busy long after.
  auto own_end = [&](std::size_t c) {
    return own_work_end(step.lowering.at(c), step.simulated.chips.at(c).total_cycles.value());
  };
  std::int64_t step_end = 0;
  for (const SimResult& chip : step.simulated.chips) step_end = std::max(step_end, chip.total_cycles.value());
  std::vector<StageTime> stages;
  std::int64_t previous = 0;
  for (int s = 0; s < plan.pp; ++s) {
    // The stage ends with its last chip; that chip's schedule says where the span went.
    std::size_t last = static_cast<std::size_t>(s * plan.tp);
    for (int r = 1; r < plan.tp; ++r) {
      const std::size_t c = static_cast<std::size_t>(s * plan.tp + r);
      if (own_end(c) > own_end(last)) last = c;
    }
    // The last stage's span runs to the step's end (its program's tail, and any forwarding).
    const std::int64_t end = s + 1 == plan.pp ? std::max(step_end, previous) : std::max(own_end(last), previous);
    stages.push_back(split_stage_span(step.lowering.at(last), previous, end, step.lowering.at(last).stage_gate_cycle));
    previous = end;
  }
  return stages;
}

SystemStepResult run_compiled_system(const SystemConfig& system, std::vector<CompileResult> compiled, bool functional,
                                     const std::vector<std::map<std::string, std::vector<float>>>& inputs,
                                     const std::vector<std::vector<std::string>>& outputs, const std::string& name) {
  const ChipConfig& chip = system.chip;
  SystemStepResult r;
  std::vector<BoundProgram> bound;
  std::vector<SimOptions> options(compiled.size());
  bound.reserve(static_cast<std::size_t>(std::max<int>(system.chips, static_cast<int>(compiled.size()))));
  for (std::size_t c = 0; c < compiled.size(); ++c) {
    LoweredProgram& lowered = compiled[c].lowered;
    r.scheduled.push_back(lowered.scheduled_length);
    r.program_instructions += lowered.instructions;
    SimOptions& sim = options[c];
    sim.mode = functional ? SimMode::Functional : SimMode::TimingOnly;
    if (functional) {
      sim.values = std::move(lowered.data);
      if (c < inputs.size())
        for (const auto& [tensor, values] : inputs[c]) {
          const auto it = lowered.placements.find(tensor);
          if (it != lowered.placements.end()) pack_rows(it->second, values, chip.lanes(), sim.values);
        }
      if (c < outputs.size())
        for (const auto& tensor : outputs[c]) {
          const auto it = lowered.placements.find(tensor);
          if (it == lowered.placements.end())
            throw std::logic_error(fmt::format("{}: chip {}'s program has no tensor '{}' to return", name, c, tensor));
          sim.dumps.insert(sim.dumps.end(), it->second.tiles.begin(), it->second.tiles.end());
        }
    }
    lowered.program.file = fmt::format("{}.chip{}.s", name, c);
    if (lowered.instructions == 0) {  // nothing to run (a chip idle in a stage-reuse window): no queues
      bound.emplace_back();
      bound.back().file = "(idle)";
      lowered.program = Program{};
      continue;
    }
    bound.push_back(bind_program(lowered.program, chip));
    lowered.program = Program{};
  }
  // The system's other chips are idle: no queues.
  bound.resize(static_cast<std::size_t>(std::max<int>(system.chips, static_cast<int>(compiled.size()))));
  options.resize(bound.size());
  for (std::size_t c = compiled.size(); c < bound.size(); ++c) {
    bound[c].file = "(idle)";
    options[c].mode = functional ? SimMode::Functional : SimMode::TimingOnly;
  }
  std::vector<ChipRun> runs;
  for (std::size_t c = 0; c < bound.size(); ++c) runs.push_back(ChipRun{chip, bound[c], options[c]});
  r.simulated = simulate_system_in_child(runs, &system);
  for (std::size_t c = 0; c < r.simulated.chips.size(); ++c) {
    const auto& hazards = r.simulated.chips[c].hazards;
    if (!hazards.empty())
      throw std::logic_error(fmt::format("the compiled {} program of chip {} has {} schedule hazards (first: {}): a "
                                         "compiler bug", name, c, hazards.size(), hazards[0].message));
  }
  r.outputs.resize(compiled.size());
  for (std::size_t c = 0; c < compiled.size(); ++c) {
    if (functional && c < outputs.size())
      for (const auto& tensor : outputs[c])
        r.outputs[c][tensor] =
            unpack_rows(compiled[c].lowered.placements.at(tensor), r.simulated.chips[c].dumps, chip.lanes());
    r.simulated.chips[c].dumps.clear();
    r.lowering.push_back(std::move(compiled[c].lowered.stats));
  }
  return r;
}

}  // namespace lpusim
