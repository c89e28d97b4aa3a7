#include "engine/exec/sim_result_codec.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace lpusim {

// A field added to one of these structs must be added to the codec below and to the round
// trip in tests/core/test_sim_result_codec.cpp; these sizes catch one that is not (update
// them with the codec). libstdc++ on x86-64 only: other layouts skip the check.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(QueueStats) == 112, "QueueStats changed: update sim_result_codec.cpp and its round-trip test");
static_assert(sizeof(Hazard) == 80, "Hazard changed: update sim_result_codec.cpp and its round-trip test");
static_assert(sizeof(TraceEvent) == 32, "TraceEvent changed: update sim_result_codec.cpp and its round-trip test");
static_assert(sizeof(SimResult) == 224, "SimResult changed: update sim_result_codec.cpp and its round-trip test");
static_assert(sizeof(SystemResult) == 96, "SystemResult changed: update sim_result_codec.cpp and its round-trip test");
#endif

using nlohmann::json;

const char* sim_mode_name(SimMode mode) { return mode == SimMode::Functional ? "functional" : "timing"; }
const char* scheduler_name(Scheduler scheduler) {
  return scheduler == Scheduler::EventDriven ? "event-driven" : "clocked";
}

namespace {
SimMode sim_mode_from(const std::string& name) {
  if (name == "functional") return SimMode::Functional;
  if (name == "timing") return SimMode::TimingOnly;
  throw std::runtime_error("sim result: unknown mode '" + name + "'");
}
UnitKind unit_from(const std::string& name) {
  for (UnitKind u : {UnitKind::Icu, UnitKind::Mem, UnitKind::Vxm, UnitKind::Mxm, UnitKind::Sxm, UnitKind::C2c})
    if (name == unit_name(u)) return u;
  throw std::runtime_error("sim result: unknown unit '" + name + "'");
}
Hazard::Kind hazard_kind_from(const std::string& name) {
  for (Hazard::Kind k : {Hazard::Kind::StreamEmpty, Hazard::Kind::StreamCollision, Hazard::Kind::MemPortConflict,
                         Hazard::Kind::WeightsNotInstalled, Hazard::Kind::UnitBusy, Hazard::Kind::Deadlock,
                         Hazard::Kind::LinkBusy, Hazard::Kind::ReceiveEmpty, Hazard::Kind::DataLost,
                         Hazard::Kind::NotForwarded})
    if (name == hazard_kind_name(k)) return k;
  throw std::runtime_error("sim result: unknown hazard kind '" + name + "'");
}
// JSON has no NaN or infinity.
json value_json(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}
double value_from(const json& j) {
  if (!j.is_string()) return j.get<double>();
  const auto s = j.get<std::string>();
  if (s == "nan") return std::nan("");
  if (s == "inf") return HUGE_VAL;
  if (s == "-inf") return -HUGE_VAL;
  throw std::runtime_error("sim result: bad value '" + s + "'");
}
Cycle cycle_from(const json& j) { return Cycle(j.get<std::int64_t>()); }
}  // namespace

void to_json(json& j, const QueueStats& q) {
  j = json{{"name", q.name},
           {"unit", unit_name(q.unit)},
           {"instructions", q.instructions},
           {"busy_cycles", q.busy_cycles},
           {"sram_reads", q.sram_reads},
           {"sram_writes", q.sram_writes},
           {"end_cycle", q.end.value()},
           {"parked", q.parked}};
}
void from_json(const json& j, QueueStats& q) {
  q.name = j.at("name").get<std::string>();
  q.unit = unit_from(j.at("unit").get<std::string>());
  q.instructions = j.at("instructions").get<std::uint64_t>();
  q.busy_cycles = j.at("busy_cycles").get<std::uint64_t>();
  q.sram_reads = j.at("sram_reads").get<std::uint64_t>();
  q.sram_writes = j.at("sram_writes").get<std::uint64_t>();
  q.end = cycle_from(j.at("end_cycle"));
  q.parked = j.at("parked").get<std::string>();
}

void to_json(json& j, const Hazard& h) {
  j = json{{"kind", hazard_kind_name(h.kind)}, {"cycle", h.cycle.value()}, {"queue", h.queue}, {"message", h.message}};
}
void from_json(const json& j, Hazard& h) {
  h.kind = hazard_kind_from(j.at("kind").get<std::string>());
  h.cycle = cycle_from(j.at("cycle"));
  h.queue = j.at("queue").get<std::string>();
  h.message = j.at("message").get<std::string>();
}

// Traces can hold millions of events: each is a compact [queue, issue, duration, instruction].
void to_json(json& j, const TraceEvent& e) {
  j = json::array({e.queue, e.issue.value(), e.duration.value(), e.instruction});
}
void from_json(const json& j, TraceEvent& e) {
  e.queue = j.at(0).get<int>();
  e.issue = cycle_from(j.at(1));
  e.duration = cycle_from(j.at(2));
  e.instruction = j.at(3).get<int>();
}

void to_json(json& j, const SimResult& r) {
  json dumps = json::object();
  for (const auto& [name, values] : r.dumps) {
    json list = json::array();
    for (double v : values) list.push_back(value_json(v));
    dumps[name] = std::move(list);
  }
  j = json{{"mode", sim_mode_name(r.mode)},
           {"total_cycles", r.total_cycles.value()},
           {"instructions", r.instructions},
           {"queues", r.queues},
           {"hazards", r.hazards},
           {"hazards_not_kept", r.hazards_not_kept},
           {"dumps", std::move(dumps)},
           {"trace", r.trace},
           {"stream_writes", r.stream_writes},
           {"stream_reads", r.stream_reads},
           {"c2c_vectors_sent", r.c2c_vectors_sent},
           {"c2c_vectors_received", r.c2c_vectors_received},
           {"c2c_link_busy_cycles", r.c2c_link_busy_cycles},
           {"scheduler_wakes", r.scheduler_wakes},
           {"host_seconds", r.host_seconds},
           {"sram_host_bytes", r.sram_host_bytes},
           {"peak_rss_bytes", r.peak_rss_bytes}};
}
void from_json(const json& j, SimResult& r) {
  r.mode = sim_mode_from(j.at("mode").get<std::string>());
  r.total_cycles = cycle_from(j.at("total_cycles"));
  r.instructions = j.at("instructions").get<std::uint64_t>();
  r.queues = j.at("queues").get<std::vector<QueueStats>>();
  r.hazards = j.at("hazards").get<std::vector<Hazard>>();
  r.hazards_not_kept = j.at("hazards_not_kept").get<std::uint64_t>();
  r.dumps.clear();
  for (const auto& [name, list] : j.at("dumps").items()) {
    auto& values = r.dumps[name];
    values.reserve(list.size());
    for (const auto& v : list) values.push_back(value_from(v));
  }
  r.trace = j.at("trace").get<std::vector<TraceEvent>>();
  r.stream_writes = j.at("stream_writes").get<std::uint64_t>();
  r.stream_reads = j.at("stream_reads").get<std::uint64_t>();
  r.c2c_vectors_sent = j.at("c2c_vectors_sent").get<std::uint64_t>();
  r.c2c_vectors_received = j.at("c2c_vectors_received").get<std::uint64_t>();
  r.c2c_link_busy_cycles = j.at("c2c_link_busy_cycles").get<std::uint64_t>();
  r.scheduler_wakes = j.at("scheduler_wakes").get<std::uint64_t>();
  r.host_seconds = j.at("host_seconds").get<double>();
  r.sram_host_bytes = j.at("sram_host_bytes").get<std::int64_t>();
  r.peak_rss_bytes = j.at("peak_rss_bytes").get<std::int64_t>();
}

void to_json(json& j, const SystemResult& r) {
  j = json{{"chips", r.chips},
           {"total_cycles", r.total_cycles.value()},
           {"instructions", r.instructions},
           {"lookahead_cycles", r.lookahead ? json(r.lookahead->value()) : json()},
           {"windows", r.windows},
           {"scheduler_wakes", r.scheduler_wakes},
           {"host_seconds", r.host_seconds},
           {"sram_host_bytes", r.sram_host_bytes},
           {"peak_rss_bytes", r.peak_rss_bytes}};
}
void from_json(const json& j, SystemResult& r) {
  r.chips = j.at("chips").get<std::vector<SimResult>>();
  r.total_cycles = cycle_from(j.at("total_cycles"));
  r.instructions = j.at("instructions").get<std::uint64_t>();
  const json& lookahead = j.at("lookahead_cycles");
  r.lookahead = lookahead.is_null() ? std::nullopt : std::optional<Cycle>(cycle_from(lookahead));
  r.windows = j.at("windows").get<std::uint64_t>();
  r.scheduler_wakes = j.at("scheduler_wakes").get<std::uint64_t>();
  r.host_seconds = j.at("host_seconds").get<double>();
  r.sram_host_bytes = j.at("sram_host_bytes").get<std::int64_t>();
  r.peak_rss_bytes = j.at("peak_rss_bytes").get<std::int64_t>();
}

}  // namespace lpusim
