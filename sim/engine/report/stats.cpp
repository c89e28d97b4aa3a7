#include "engine/report/stats.hpp"

#include <fmt/format.h>

#include "arch/core/limits.hpp"

namespace lpusim {

int unit_queue_count(const ChipConfig& chip, UnitKind unit) {
  switch (unit) {
    case UnitKind::Mem: return 2 * chip.mem_slices_per_hemisphere;
    case UnitKind::Vxm: return chip.vxm_alus;
    case UnitKind::Mxm: return 2 * chip.mxm_queues_per_hemisphere;
    case UnitKind::Sxm: return 2 * chip.sxm_queues_per_hemisphere;
    case UnitKind::C2c: return chip.c2c_links;
    case UnitKind::Icu: return 0;
  }
  return 0;
}

double unit_busy_percent(const ChipConfig& chip, const SimResult& result, UnitKind unit) {
  std::uint64_t busy = 0;
  for (const auto& q : result.queues)
    if (q.unit == unit) busy += q.busy_cycles;
  const double capacity = static_cast<double>(result.total_cycles.value()) * unit_queue_count(chip, unit);
  return capacity > 0 ? 100.0 * static_cast<double>(busy) / capacity : 0.0;
}

namespace {
double per_second(double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; }

std::string si(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

constexpr UnitKind kUnits[] = {UnitKind::Mem, UnitKind::Vxm, UnitKind::Mxm, UnitKind::Sxm, UnitKind::C2c};
}  // namespace

nlohmann::json stats_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& r) {
  using nlohmann::json;
  const double cycles = static_cast<double>(r.total_cycles.value());
  json root;
  json c;
  c["config"] = chip.name;
  c["program"] = program.file;
  c["mode"] = r.mode == SimMode::Functional ? "functional" : "timing";
  c["clock_mhz"] = chip.clock_mhz;
  c["total_cycles"] = r.total_cycles.value();
  c["time_us"] = cycles / chip.clock_mhz;
  c["instructions"] = r.instructions;
  c["fabric"] = {{"stream_writes", r.stream_writes}, {"stream_reads", r.stream_reads}};
  for (UnitKind unit : kUnits) {
    json u;
    u["queues_on_chip"] = unit_queue_count(chip, unit);
    u["busy_percent"] = unit_busy_percent(chip, r, unit);
    json queues = json::object();
    std::uint64_t instructions = 0;
    for (const auto& q : r.queues) {
      if (q.unit != unit) continue;
      json jq{{"instructions", q.instructions},
              {"busy_cycles", q.busy_cycles},
              {"busy_percent", cycles > 0 ? 100.0 * static_cast<double>(q.busy_cycles) / cycles : 0.0},
              {"end_cycle", q.end.value()}};
      if (unit == UnitKind::Mem) {
        jq["sram_reads"] = q.sram_reads;
        jq["sram_writes"] = q.sram_writes;
      }
      instructions += q.instructions;
      // Key by the part after the unit prefix, so the tree reads chip.mem.w12, chip.vxm.alu3.
      const auto dot = q.name.find('.');
      queues[q.name.substr(dot + 1)] = jq;
    }
    u["instructions"] = instructions;
    u["queues"] = queues;
    c[unit_name(unit)] = u;
  }
  root["chip"] = c;
  json hazards = json::array();
  for (const auto& h : r.hazards)
    hazards.push_back({{"kind", hazard_kind_name(h.kind)}, {"cycle", h.cycle.value()}, {"queue", h.queue}, {"message", h.message}});
  root["hazards"] = hazards;
  root["hazards_not_kept"] = r.hazards_not_kept;
  root["host"] = {{"seconds", r.host_seconds},
                  {"simulated_cycles_per_second", per_second(cycles, r.host_seconds)},
                  {"instructions_per_second", per_second(static_cast<double>(r.instructions), r.host_seconds)},
                  {"sram_host_bytes", r.sram_host_bytes},
                  {"peak_rss_bytes", r.peak_rss_bytes}};
  return root;
}

std::string summary_text(const ChipConfig& chip, const BoundProgram& program, const SimResult& r) {
  const double cycles = static_cast<double>(r.total_cycles.value());
  std::string out;
  out += fmt::format("lpusim run {} on {} ({} mode)\n", one_line(program.file), one_line(chip.name),
                     r.mode == SimMode::Functional ? "functional" : "timing-only");
  out += fmt::format("  total cycles      {}\n", r.total_cycles.value());
  out += fmt::format("  time at {:g} MHz   {:.3f} us\n", chip.clock_mhz, cycles / chip.clock_mhz);
  out += fmt::format("  instructions      {}\n", r.instructions);
  out += "  unit busy         ";
  bool first = true;
  for (UnitKind unit : kUnits) {
    int active = 0;
    for (const auto& q : r.queues) active += q.unit == unit && q.instructions > 0 ? 1 : 0;
    if (active == 0 && unit != UnitKind::Mem && unit != UnitKind::Vxm) continue;
    out += fmt::format("{}{} {:.2f}% ({} of {} queues active)", first ? "" : ", ", unit_name(unit),
                       unit_busy_percent(chip, r, unit), active, unit_queue_count(chip, unit));
    first = false;
  }
  out += "\n";
  out += fmt::format("  host              {:.4f} s, {}cycles/s, {}instructions/s, peak RSS {:.1f} MiB\n",
                     r.host_seconds, si(per_second(cycles, r.host_seconds)),
                     si(per_second(static_cast<double>(r.instructions), r.host_seconds)),
                     static_cast<double>(r.peak_rss_bytes) / (1 << 20));
  return out;
}

std::string hazard_report(const SimResult& r, std::size_t max_lines) {
  const std::uint64_t total = r.hazards.size() + r.hazards_not_kept;
  std::string out = fmt::format("schedule check failed: {} hazard{}\n", total, total == 1 ? "" : "s");
  for (std::size_t i = 0; i < r.hazards.size() && i < max_lines; ++i) {
    const auto& h = r.hazards[i];
    out += fmt::format("  [{}] cycle {}{}: {}\n", hazard_kind_name(h.kind), h.cycle.value(),
                       h.queue.empty() ? "" : ", " + h.queue, h.message);
  }
  if (total > max_lines) out += fmt::format("  ... and {} more\n", total - max_lines);
  return out;
}

}  // namespace lpusim
