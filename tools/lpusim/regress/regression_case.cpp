#include "regress/regression_case.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/child_process.hpp"
#include "arch/core/error.hpp"
#include "commands.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/plan_fit.hpp"
#include "models/system.hpp"
#include "content_hash.hpp"
#include "model_source.hpp"
#include "models/chip.hpp"
#include "runtime/model_costs.hpp"
#include "runtime/workload.hpp"

namespace lpusim::cli::regress {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr UnitKind kUnits[] = {UnitKind::Mem, UnitKind::Vxm, UnitKind::Mxm, UnitKind::Sxm, UnitKind::C2c};

std::string relative_to(const std::string& file, const std::string& path) {
  const fs::path p(path);
  return (p.is_absolute() ? p : fs::absolute(fs::path(file).parent_path() / p)).lexically_normal().string();
}

/// Deterministic inputs in [-1, 1) for a functional run of a graph or model: the same
/// values on every machine (a 64-bit LCG seeded with the tensor's name).
void fill_inputs(const Graph& graph, const LoweredProgram& lowered, std::int64_t lanes, SimOptions& sim) {
  for (const auto& t : graph.tensors) {
    if (t.role != TensorRole::Input && t.role != TensorRole::State) continue;
    auto it = lowered.placements.find(t.name);
    if (it == lowered.placements.end()) continue;
    const TensorPlacement& p = it->second;
    std::uint64_t state = ContentHash().add(t.name).value();
    for (std::size_t j = 0; j < p.tiles.size(); ++j) {
      std::vector<double> v(static_cast<std::size_t>(p.rows * lanes), 0.0);
      for (std::int64_t m = 0; m < p.rows; ++m)
        for (std::int64_t i = 0; i < lanes && static_cast<std::int64_t>(j) * lanes + i < p.cols; ++i) {
          state = state * 6364136223846793005ULL + 1442695040888963407ULL;
          v[static_cast<std::size_t>(m * lanes + i)] = static_cast<double>(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
        }
      sim.values[p.tiles[j]] = std::move(v);
    }
  }
}

/// The checksum of dumped tensors: names and the exact bits of every value, in name order
/// (NaNs made canonical, so the payload bits of a NaN do not count).
std::string checksum(const std::map<std::string, std::vector<double>>& dumps) {
  ContentHash hash;
  for (const auto& [name, values] : dumps) {
    hash.field(name);
    hash.field(std::to_string(values.size()));
    for (double v : values) {
      std::uint64_t bits = 0;
      if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
      std::memcpy(&bits, &v, sizeof bits);
      hash.add(fmt::format("{:016x}", bits));
    }
  }
  return hash.hex();
}

/// A model case on a system: the graph cut by the case's plan, compiled for every chip and
/// simulated on the system.
json measure_system_in_child(const RegressionCase& c, Graph graph) {
  const SystemConfig system = load_system(c.system_path);
  const TransformerSpec spec = load_transformer_spec(c.source);
  const PartitionPlan plan = requested_plan(spec, c.tp, c.pp, 1);
  infer_shapes(graph);
  CompileOptions options;
  options.lowering.weights = c.weights == "int8" ? WeightType::Int8 : WeightType::Fp16;
  options.lowering.functional_data = c.functional;
  options.pipeline_stages = plan.stage_of_chips();
  std::vector<CompileResult> compiled = compile_system(partition_graph(graph, plan), system, options);
  std::vector<BoundProgram> bound;
  std::vector<SimOptions> sims(static_cast<std::size_t>(system.chips));
  for (std::size_t k = 0; k < compiled.size(); ++k) {
    SimOptions& sim = sims[k];
    sim.mode = c.functional ? SimMode::Functional : SimMode::TimingOnly;
    if (c.functional) {
      sim.values = compiled[k].lowered.data;
      fill_inputs(compiled[k].primitive, compiled[k].lowered, system.chip.lanes(), sim);
      for (const auto& t : compiled[k].primitive.tensors) {
        if (t.role != TensorRole::Output && t.role != TensorRole::State) continue;
        auto it = compiled[k].lowered.placements.find(t.name);
        if (it == compiled[k].lowered.placements.end()) continue;
        for (const auto& tile : it->second.tiles) sim.dumps.push_back(tile);
      }
    }
    bound.push_back(bind_program(compiled[k].lowered.program, system.chip));
  }
  for (std::size_t k = compiled.size(); k < sims.size(); ++k) {
    bound.emplace_back();
    bound.back().file = "(idle)";
    sims[k].mode = c.functional ? SimMode::Functional : SimMode::TimingOnly;
  }
  std::vector<ChipRun> runs;
  for (std::size_t k = 0; k < bound.size(); ++k) runs.push_back(ChipRun{system.chip, bound[k], sims[k]});
  const SystemResult result = simulate_system(runs, &system);
  Measurement m;
  m.total_cycles = result.total_cycles.value();
  m.instructions = static_cast<std::int64_t>(result.instructions);
  for (UnitKind unit : kUnits) m.unit_instructions[unit_name(unit)] = 0;
  std::map<std::string, std::vector<double>> dumps;
  for (std::size_t k = 0; k < result.chips.size(); ++k) {
    const SimResult& chip = result.chips[k];
    if (!chip.hazards.empty())
      throw ScheduleError(fmt::format("chip {}: {} schedule hazards (first: cycle {}, {})", k, chip.hazards.size(),
                                      chip.hazards[0].cycle.value(), chip.hazards[0].message));
    for (const auto& q : chip.queues) m.unit_instructions[unit_name(q.unit)] += static_cast<std::int64_t>(q.instructions);
    for (const auto& [name, values] : chip.dumps) dumps[fmt::format("chip{}/{}", k, name)] = values;
  }
  if (c.functional) m.output_checksum = checksum(dumps);
  return measurement_json(m);
}

json measure_in_child(const RegressionCase& c) {
  const ChipConfig chip = load_chip_config(c.chip_path);
  SimOptions sim;
  sim.mode = c.functional ? SimMode::Functional : SimMode::TimingOnly;
  Program program;
  if (c.kind == RegressionCase::Kind::Program) {
    program = load_program(c.source);
    if (c.functional)
      for (const auto& t : program.tensors) sim.dumps.push_back(t.name);
  } else {
    Graph graph;
    if (c.kind == RegressionCase::Kind::Graph) {
      graph = load_graph_json(c.source);
    } else {
      graph = load_model_graph(ModelRequest{c.source, c.phase, c.prompt_len, c.batch});
      if (c.tp * c.pp > 1) return measure_system_in_child(c, std::move(graph));
      const std::int64_t positions = c.phase == "prefill" ? c.prompt_len : c.prompt_len + 1;
      check_kv_caches_fit(load_transformer_spec(c.source), chip, c.batch, positions);
    }
    CompileOptions options;
    options.lowering.weights = c.weights == "int8" ? WeightType::Int8 : WeightType::Fp16;
    options.lowering.functional_data = c.functional;
    const CompileResult compiled = compile_graph(std::move(graph), chip, options);
    program = compiled.lowered.program;
    if (c.functional) {
      sim.values = compiled.lowered.data;
      fill_inputs(compiled.primitive, compiled.lowered, chip.lanes(), sim);
      for (const auto& t : compiled.primitive.tensors) {
        if (t.role != TensorRole::Output && t.role != TensorRole::State) continue;
        auto it = compiled.lowered.placements.find(t.name);
        if (it == compiled.lowered.placements.end()) continue;
        for (const auto& tile : it->second.tiles) sim.dumps.push_back(tile);
      }
    }
  }
  const BoundProgram bound = bind_program(program, chip);
  const SimResult result = simulate(chip, bound, sim);
  if (!result.hazards.empty())
  {
    const auto count = result.hazards.size() + result.hazards_not_kept;
    throw ScheduleError(fmt::format("{} schedule hazard{} (first: cycle {}, {})", count, count == 1 ? "" : "s",
                                    result.hazards[0].cycle.value(), result.hazards[0].message));
  }
  Measurement m;
  m.total_cycles = static_cast<std::int64_t>(result.total_cycles.value());
  m.instructions = static_cast<std::int64_t>(result.instructions);
  for (UnitKind unit : kUnits) m.unit_instructions[unit_name(unit)] = 0;
  for (const auto& q : result.queues) m.unit_instructions[unit_name(q.unit)] += static_cast<std::int64_t>(q.instructions);
  if (c.functional) m.output_checksum = checksum(result.dumps);
  return measurement_json(m);
}

}  // namespace

RegressionCase load_case(const std::string& path) {
  RegressionCase c;
  c.file = path;
  const std::string filename = fs::path(path).filename().string();
  c.name = filename.substr(0, filename.size() - std::string(".case.json").size());
  c.golden_file = (fs::path(path).parent_path() / (c.name + ".golden.json")).string();
  const json doc = load_user_json(path);
  JsonObject root(doc, path, "");
  c.description = root.string("description");
  int sources = 0;
  for (const char* key : {"program", "graph", "model"}) {
    if (!root.has(key)) continue;
    ++sources;
    const std::string value = root.string(key);
    if (value.empty()) root.fail(key, "expected a non-empty path or name");
    if (std::string(key) == "program") {
      c.kind = RegressionCase::Kind::Program;
      c.source = relative_to(path, value);
    } else if (std::string(key) == "graph") {
      c.kind = RegressionCase::Kind::Graph;
      c.source = relative_to(path, value);
    } else {
      c.kind = RegressionCase::Kind::Model;
      try {
        c.source = value.find('/') != std::string::npos ? relative_to(path, value) : resolve_workload_file(value);
      } catch (const InputError& e) {
        root.fail(key, e.what());
      }
    }
    if (c.kind != RegressionCase::Kind::Model && !fs::is_regular_file(c.source))
      root.fail(key, fmt::format("{}: file not found", c.source));
  }
  if (sources != 1) root.fail("program", "expected exactly one of 'program', 'graph' and 'model'");
  if (root.has("chip")) {
    const std::string chip = root.string("chip");
    const bool path_like = chip.find('/') != std::string::npos || (chip.size() > 5 && chip.compare(chip.size() - 5, 5, ".json") == 0);
    try {
      c.chip_path = path_like ? relative_to(path, chip) : resolve_chip_path(chip);
    } catch (const InputError& e) {
      root.fail("chip", e.what());
    }
  } else {
    c.chip_path = resolve_chip_path("tsp-v1");
  }
  if (root.has("mode")) {
    const std::string mode = root.string("mode");
    if (mode != "functional" && mode != "timing") root.fail("mode", fmt::format("expected \"functional\" or \"timing\", got \"{}\"", mode));
    c.functional = mode == "functional";
  }
  const bool compiled = c.kind != RegressionCase::Kind::Program;
  if (root.has("weights")) {
    if (!compiled) root.fail("weights", "applies to graphs and models, not to programs");
    c.weights = root.string("weights");
    if (c.weights != "int8" && c.weights != "fp16") root.fail("weights", fmt::format("expected \"int8\" or \"fp16\", got \"{}\"", c.weights));
  }
  const bool model = c.kind == RegressionCase::Kind::Model;
  for (const char* key : {"phase", "prompt_len", "batch"})
    if (root.has(key) && !model) root.fail(key, "applies to models only");
  if (root.has("phase")) {
    c.phase = root.string("phase");
    if (c.phase != "prefill" && c.phase != "decode") root.fail("phase", fmt::format("expected \"prefill\" or \"decode\", got \"{}\"", c.phase));
  }
  if (root.has("prompt_len")) c.prompt_len = root.integer("prompt_len", 1, 1 << 20);
  if (root.has("batch")) c.batch = root.integer("batch", 1, 4096);
  for (const char* key : {"tp", "pp", "system"})
    if (root.has(key) && !model) root.fail(key, "applies to models only");
  if (root.has("tp")) c.tp = static_cast<int>(root.integer("tp", 1, 64));
  if (root.has("pp")) c.pp = static_cast<int>(root.integer("pp", 1, 1024));
  if (root.has("system")) {
    const std::string system = root.string("system");
    const bool path_like = system.find('/') != std::string::npos ||
                           (system.size() > 5 && system.compare(system.size() - 5, 5, ".json") == 0);
    c.system_path = path_like ? relative_to(path, system) : system;
    if (c.tp * c.pp == 1) root.fail("system", "applies to a plan of several chips (tp or pp above 1)");
    if (root.has("chip")) root.fail("chip", "a case on a system runs on the system's chip (its file names it)");
  } else if (c.tp * c.pp > 1) {
    c.system_path = "groq-node";
  }
  root.finish();
  return c;
}

Measurement run_case(const RegressionCase& c) {
  const ChildOutput out = run_in_forked_child([&]() -> std::string {
    try {
      return measure_in_child(c).dump();
    } catch (const InputError& e) {
      return json{{"error", fmt::format("input error: {}", e.what())}}.dump();
    } catch (const ScheduleError& e) {
      return json{{"error", fmt::format("schedule error: {}", e.what())}}.dump();
    } catch (const std::bad_alloc&) {
      return json{{"error", "out of host memory"}}.dump();
    } catch (const std::exception& e) {
      return json{{"error", fmt::format("internal error: {}", e.what())}}.dump();
    }
  });
  json j;
  try {
    j = json::parse(out.text);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("the case's child process ended without a result (wait status {})", out.status));
  }
  if (j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  Measurement m;
  m.total_cycles = j.at("total_cycles").get<std::int64_t>();
  m.instructions = j.at("instructions").get<std::int64_t>();
  m.unit_instructions = j.at("unit_instructions").get<std::map<std::string, std::int64_t>>();
  if (!j.at("output_checksum").is_null()) m.output_checksum = j["output_checksum"].get<std::string>();
  return m;
}

json measurement_json(const Measurement& m) {
  return json{{"total_cycles", m.total_cycles},
              {"instructions", m.instructions},
              {"unit_instructions", m.unit_instructions},
              {"output_checksum", m.output_checksum ? json(*m.output_checksum) : json(nullptr)}};
}

Measurement load_golden(const std::string& path) {
  const json doc = load_user_json(path);
  JsonObject root(doc, path, "");
  Measurement m;
  m.total_cycles = root.integer("total_cycles", 0, std::numeric_limits<std::int64_t>::max());
  m.instructions = root.integer("instructions", 0, std::numeric_limits<std::int64_t>::max());
  auto units = root.object("unit_instructions");
  for (const auto& key : units.keys()) m.unit_instructions[key] = units.integer(key, 0, std::numeric_limits<std::int64_t>::max());
  units.finish();
  const json& checksum = root.raw("output_checksum");
  if (!checksum.is_null() && !checksum.is_string()) root.fail("output_checksum", "expected a string or null");
  if (checksum.is_string()) m.output_checksum = checksum.get<std::string>();
  root.finish();
  return m;
}

}  // namespace lpusim::cli::regress
