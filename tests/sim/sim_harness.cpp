#include "sim_harness.hpp"

#include <memory>
#include <optional>

#include <catch2/catch.hpp>

#include "arch/config/json_input.hpp"
#include "arch/core/child_process.hpp"
#include "arch/core/error.hpp"
#include "engine/exec/bind.hpp"
#include "engine/exec/sim_result_codec.hpp"
#include "engine/report/trace.hpp"
#include "models/system.hpp"

namespace lpusim::test {

std::size_t RunOutcome::count_hazards(const std::string& kind) const {
  std::size_t n = 0;
  for (const auto& k : hazard_kinds) n += k == kind ? 1 : 0;
  return n;
}

bool RunOutcome::has_hazard(const std::string& kind) const {
  for (const auto& k : hazard_kinds)
    if (k == kind) return true;
  return false;
}

const ChipConfig& tsp_v1() {
  static const ChipConfig c = load_chip_config(LPUSIM_TSP_V1);
  return c;
}

namespace {
/// What one request builds in the child: its chip, its bound program and its options.
struct Built {
  ChipConfig chip;
  BoundProgram program;
  SimOptions options;
};

std::unique_ptr<Built> build(const RunRequest& r) {
  nlohmann::json chip_json = load_user_json(LPUSIM_TSP_V1);
  if (r.edit_chip) r.edit_chip(chip_json);
  auto b = std::make_unique<Built>();
  b->chip = parse_chip_config(chip_json, "tsp-v1.json");
  if (r.empty_program) {
    b->program.file = "(idle)";
  } else {
    const Program program = r.program.empty() ? load_program(r.program_file) : parse_program(r.program, r.program_file);
    b->program = bind_program(program, b->chip);
  }
  b->options.mode = r.mode;
  b->options.check = r.check;
  b->options.dumps = r.dumps;
  b->options.inputs = r.inputs;
  b->options.trace = r.trace;
  b->options.scheduler = r.scheduler;
  return b;
}

/// Simulates the requests as one system in the child: {"result": SystemResult, "trace": ...}
/// or {"error": InputError text}.
nlohmann::json run_in_child(const std::vector<RunRequest>& requests, const std::string& system_file) {
  nlohmann::json out;
  try {
    std::optional<SystemConfig> system;
    if (!system_file.empty())
      system = load_system_config(system_file, [](const std::string& chip, const std::string&) {
        if (chip != "tsp-v1") throw InputError("test systems use the bundled tsp-v1, not " + chip);
        return std::string(LPUSIM_TSP_V1);
      });
    std::vector<std::unique_ptr<Built>> built;
    std::vector<ChipRun> runs;
    bool trace = false;
    for (const auto& r : requests) {
      built.push_back(build(r));
      runs.push_back(ChipRun{built.back()->chip, built.back()->program, built.back()->options});
      trace = trace || r.trace;
    }
    const SystemResult result = simulate_system(runs, system ? &*system : nullptr);
    out["result"] = result;
    if (trace) {
      std::vector<ReportedChip> chips;
      for (const auto& b : built) chips.push_back(ReportedChip{b->chip, b->program});
      out["trace"] = trace_json(chips, result);
    }
  } catch (const InputError& e) {
    out["error"] = e.what();
  }
  return out;
}

nlohmann::json run_forked_json(const std::vector<RunRequest>& requests, const std::string& system_file = "") {
  const ChildOutput child = run_in_forked_child([&]() -> std::string {
    try {
      return run_in_child(requests, system_file).dump();
    } catch (const std::exception& e) {
      return nlohmann::json{{"crash", e.what()}}.dump();
    }
  });
  REQUIRE(exited_cleanly(child.status));
  auto j = nlohmann::json::parse(child.text);
  REQUIRE_FALSE(j.contains("crash"));
  return j;
}

RunOutcome outcome_of(const SimResult& result) {
  RunOutcome o;
  o.total_cycles = result.total_cycles.value();
  o.instructions = result.instructions;
  for (const auto& h : result.hazards) {
    o.hazard_kinds.push_back(hazard_kind_name(h.kind));
    o.hazard_messages.push_back(h.message);
  }
  o.dumps = result.dumps;
  o.queues = nlohmann::json::object();
  for (const auto& q : result.queues)
    o.queues[q.name] = {{"instructions", q.instructions}, {"busy_cycles", q.busy_cycles}, {"end", q.end.value()}};
  o.result = result;
  return o;
}
}  // namespace

RunOutcome run_forked(const RunRequest& request) {
  const nlohmann::json j = run_forked_json({request});
  RunOutcome o;
  if (j.contains("error")) {
    o.error = j["error"];
    return o;
  }
  const auto result = j["result"].get<SystemResult>();
  REQUIRE(result.chips.size() == 1);
  o = outcome_of(result.chips[0]);
  o.trace = j.value("trace", nlohmann::json());
  return o;
}

SystemOutcome run_system_forked(const std::vector<RunRequest>& chips, const std::string& system_file) {
  const nlohmann::json j = run_forked_json(chips, system_file);
  SystemOutcome o;
  if (j.contains("error")) {
    o.error = j["error"];
    return o;
  }
  o.result = j["result"].get<SystemResult>();
  REQUIRE(o.result.chips.size() == chips.size());
  for (const auto& chip : o.result.chips) o.chips.push_back(outcome_of(chip));
  o.trace = j.value("trace", nlohmann::json());
  return o;
}

}  // namespace lpusim::test
