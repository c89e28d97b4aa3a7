#include "models/child_run.hpp"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "arch/core/child_process.hpp"
#include "arch/core/error.hpp"
#include "engine/report/stats.hpp"

namespace lpusim {

namespace {
nlohmann::json to_json(const SimResult& r) {
  nlohmann::json j;
  j["total_cycles"] = r.total_cycles.value();
  j["instructions"] = r.instructions;
  j["host_seconds"] = r.host_seconds;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["sram_host_bytes"] = r.sram_host_bytes;
  j["stream_writes"] = r.stream_writes;
  j["stream_reads"] = r.stream_reads;
  for (const auto& h : r.hazards)
    j["hazards"].push_back({{"kind", static_cast<int>(h.kind)}, {"cycle", h.cycle.value()}, {"queue", h.queue}, {"message", h.message}});
  for (const auto& q : r.queues)
    j["queues"].push_back({{"name", q.name}, {"unit", static_cast<int>(q.unit)}, {"instructions", q.instructions},
                           {"busy_cycles", q.busy_cycles}, {"sram_reads", q.sram_reads}, {"sram_writes", q.sram_writes},
                           {"end", q.end.value()}});
  for (const auto& [name, values] : r.dumps) {
    nlohmann::json list = nlohmann::json::array();
    for (double v : values) list.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(std::to_string(v)));
    j["dumps"][name] = list;
  }
  return j;
}

SimResult from_json(const nlohmann::json& j, SimMode mode) {
  SimResult r;
  r.mode = mode;
  r.total_cycles = Cycle(j.at("total_cycles").get<std::int64_t>());
  r.instructions = j.at("instructions");
  r.host_seconds = j.at("host_seconds");
  r.peak_rss_bytes = j.at("peak_rss_bytes");
  r.sram_host_bytes = j.at("sram_host_bytes");
  r.stream_writes = j.at("stream_writes");
  r.stream_reads = j.at("stream_reads");
  if (j.contains("hazards"))
    for (const auto& h : j["hazards"])
      r.hazards.push_back(Hazard{static_cast<Hazard::Kind>(h["kind"].get<int>()), Cycle(h["cycle"].get<std::int64_t>()),
                                 h["queue"], h["message"]});
  if (j.contains("queues"))
    for (const auto& q : j["queues"]) {
      QueueStats s;
      s.name = q["name"];
      s.unit = static_cast<UnitKind>(q["unit"].get<int>());
      s.instructions = q["instructions"];
      s.busy_cycles = q["busy_cycles"];
      s.sram_reads = q["sram_reads"];
      s.sram_writes = q["sram_writes"];
      s.end = Cycle(q["end"].get<std::int64_t>());
      r.queues.push_back(s);
    }
  if (j.contains("dumps"))
    for (const auto& [name, list] : j["dumps"].items())
      for (const auto& v : list) r.dumps[name].push_back(v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>());
  return r;
}
}  // namespace

SimResult simulate_in_child(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options) {
  const ChildOutput child = run_in_forked_child([&]() -> std::string {
    try {
      return to_json(simulate(chip, program, options)).dump();
    } catch (const InputError& e) {
      return nlohmann::json{{"input_error", e.what()}}.dump();
    } catch (const std::exception& e) {
      return nlohmann::json{{"crash", e.what()}}.dump();
    }
  });
  if (!exited_cleanly(child.status) || child.text.empty()) throw std::runtime_error("the simulation child process died");
  const auto j = nlohmann::json::parse(child.text);
  if (j.contains("input_error")) throw InputError(j["input_error"].get<std::string>());
  if (j.contains("crash")) throw std::runtime_error(j["crash"].get<std::string>());
  return from_json(j, options.mode);
}

}  // namespace lpusim
