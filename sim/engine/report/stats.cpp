#include "engine/report/stats.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "engine/exec/sim_result_codec.hpp"
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

namespace {
nlohmann::json chip_stats(const ReportedChip& chip, const SimResult& r) {
  using nlohmann::json;
  const double cycles = static_cast<double>(r.total_cycles.value());
  json c = r;  // every field of the result (see stats.hpp) ...
  c.erase("queues");  // ... but the queues, which become the unit tree below,
  c.erase("trace");   // and the trace and dumps, which have files of their own
  c.erase("dumps");
  c["config"] = chip.config.name;
  c["program"] = chip.program.file;
  c["clock_mhz"] = chip.config.clock_mhz;
  c["time_us"] = cycles / chip.config.clock_mhz;
  c["simulated_cycles_per_second"] = per_second(cycles, r.host_seconds);
  json units = json::object();
  for (UnitKind unit : kUnits) {
    json u;
    u["queues_on_chip"] = unit_queue_count(chip.config, unit);
    u["busy_percent"] = unit_busy_percent(chip.config, r, unit);
    json queues = json::object();
    std::uint64_t instructions = 0;
    for (const auto& q : r.queues) {
      if (q.unit != unit) continue;
      json jq = q;
      jq.erase("name");  // the queue's place in the tree says both
      jq.erase("unit");
      jq["busy_percent"] = cycles > 0 ? 100.0 * static_cast<double>(q.busy_cycles) / cycles : 0.0;
      instructions += q.instructions;
      // Key by the part after the unit prefix ("mem.w12", "chip1/mem.w12": "w12").
      queues[q.name.substr(q.name.find('.') + 1)] = std::move(jq);
    }
    u["instructions"] = instructions;
    u["queues"] = std::move(queues);
    units[unit_name(unit)] = std::move(u);
  }
  c["units"] = std::move(units);
  return c;
}
}  // namespace

nlohmann::json stats_json(const std::vector<ReportedChip>& chips, const SystemResult& r) {
  using nlohmann::json;
  if (chips.size() != r.chips.size()) throw std::logic_error("stats_json: one result per chip");
  json system = r;  // every field of the system's result but its chips, which become the tree
  system.erase("chips");
  const double cycles = static_cast<double>(r.total_cycles.value());
  system["chip_count"] = chips.size();
  system["simulated_cycles_per_second"] = per_second(cycles, r.host_seconds);
  system["instructions_per_second"] = per_second(static_cast<double>(r.instructions), r.host_seconds);
  json tree = json::object();
  for (std::size_t i = 0; i < chips.size(); ++i) tree[fmt::format("chip{}", i)] = chip_stats(chips[i], r.chips[i]);
  system["chips"] = std::move(tree);
  return json{{"stats_format", 2}, {"system", std::move(system)}};
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
