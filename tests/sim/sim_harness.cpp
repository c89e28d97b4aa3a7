#include "sim_harness.hpp"

#include <cmath>

#include <catch2/catch.hpp>

#include "models/chip.hpp"
#include "engine/exec/bind.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/child_process.hpp"
#include "arch/core/error.hpp"
#include "engine/report/stats.hpp"
#include "engine/report/trace.hpp"

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
nlohmann::json run_in_child(const RunRequest& r) {
  nlohmann::json out;
  try {
    nlohmann::json chip_json = load_user_json(LPUSIM_TSP_V1);
    if (r.edit_chip) r.edit_chip(chip_json);
    const ChipConfig chip = parse_chip_config(chip_json, "tsp-v1.json");
    const Program program = r.program.empty() ? load_program(r.program_file) : parse_program(r.program, r.program_file);
    const BoundProgram bound = bind_program(program, chip);
    SimOptions options;
    options.mode = r.mode;
    options.check = r.check;
    options.dumps = r.dumps;
    options.inputs = r.inputs;
    options.trace = r.trace;
    const SimResult result = simulate(chip, bound, options);
    out["total_cycles"] = result.total_cycles.value();
    out["instructions"] = result.instructions;
    // JSON has no NaN or infinity: send those as strings.
    for (const auto& [name, values] : result.dumps) {
      nlohmann::json list = nlohmann::json::array();
      for (double v : values) list.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(std::to_string(v)));
      out["dumps"][name] = list;
    }
    out["hazards"] = nlohmann::json::array();
    for (const auto& h : result.hazards)
      out["hazards"].push_back({{"kind", hazard_kind_name(h.kind)}, {"message", h.message}});
    if (r.trace) out["trace"] = trace_json(chip, bound, result);
    for (const auto& q : result.queues)
      out["queues"][q.name] = {{"instructions", q.instructions}, {"busy_cycles", q.busy_cycles}, {"end", q.end.value()}};
  } catch (const InputError& e) {
    out["error"] = e.what();
  }
  return out;
}
}  // namespace

RunOutcome run_forked(const RunRequest& request) {
  const ChildOutput child = run_in_forked_child([&]() -> std::string {
    try {
      return run_in_child(request).dump();
    } catch (const std::exception& e) {
      return nlohmann::json{{"crash", e.what()}}.dump();
    }
  });
  REQUIRE(exited_cleanly(child.status));
  const auto j = nlohmann::json::parse(child.text);
  REQUIRE_FALSE(j.contains("crash"));
  RunOutcome o;
  if (j.contains("error")) {
    o.error = j["error"];
    return o;
  }
  o.total_cycles = j["total_cycles"];
  o.instructions = j["instructions"];
  if (j.contains("dumps"))
    for (const auto& [name, list] : j["dumps"].items())
      for (const auto& v : list) o.dumps[name].push_back(v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>());
  for (const auto& h : j["hazards"]) {
    o.hazard_kinds.push_back(h["kind"]);
    o.hazard_messages.push_back(h["message"]);
  }
  o.queues = j.value("queues", nlohmann::json::object());
  o.trace = j.value("trace", nlohmann::json());
  return o;
}

}  // namespace lpusim::test
