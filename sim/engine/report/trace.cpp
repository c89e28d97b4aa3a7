#include "engine/report/trace.hpp"

#include <fmt/format.h>

namespace lpusim {

namespace {
/// Process id of a queue's group: one per unit and hemisphere, in floorplan order.
int group_of(const QueueId& q) {
  const bool west = q.hemisphere == Hemisphere::West;
  switch (q.unit) {
    case UnitKind::Mxm: return west ? 1 : 8;
    case UnitKind::Sxm: return west ? 2 : 7;
    case UnitKind::Mem: return west ? 3 : 6;
    case UnitKind::Vxm: return 4;
    case UnitKind::C2c: return 9;
    case UnitKind::Icu: return 5;
  }
  return 0;
}

std::string group_name(const QueueId& q) {
  const char* side = q.hemisphere == Hemisphere::West ? "west" : "east";
  switch (q.unit) {
    case UnitKind::Vxm: return "VXM";
    case UnitKind::C2c: return "C2C";
    case UnitKind::Mem: return fmt::format("MEM {}", side);
    case UnitKind::Mxm: return fmt::format("MXM {}", side);
    case UnitKind::Sxm: return fmt::format("SXM {}", side);
    case UnitKind::Icu: return "ICU";
  }
  return "?";
}
}  // namespace

nlohmann::json trace_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& result) {
  using nlohmann::json;
  std::vector<const BoundInstruction*> by_id(static_cast<std::size_t>(program.instruction_count));
  for (const auto& q : program.queues)
    for (const auto& ins : q.instructions) by_id[static_cast<std::size_t>(ins.id)] = &ins;

  json events = json::array();
  std::map<int, std::string> groups;
  for (std::size_t i = 0; i < program.queues.size(); ++i) {
    const auto& q = program.queues[i];
    const int pid = group_of(q.id);
    groups[pid] = group_name(q.id);
    events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", static_cast<int>(i)}, {"name", "thread_name"},
                      {"args", {{"name", q.name}}}});
    events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", static_cast<int>(i)}, {"name", "thread_sort_index"},
                      {"args", {{"sort_index", q.id.index}}}});
  }
  for (const auto& [pid, name] : groups) {
    events.push_back({{"ph", "M"}, {"pid", pid}, {"name", "process_name"}, {"args", {{"name", name}}}});
    events.push_back({{"ph", "M"}, {"pid", pid}, {"name", "process_sort_index"}, {"args", {{"sort_index", pid}}}});
  }
  // Timestamps are microseconds at the chip clock; the cycle is in each slice's args.
  const double us_per_cycle = 1.0 / chip.clock_mhz;
  for (const auto& e : result.trace) {
    const auto& q = program.queues[static_cast<std::size_t>(e.queue)];
    const BoundInstruction* ins = by_id[static_cast<std::size_t>(e.instruction)];
    events.push_back({{"ph", "X"},
                      {"pid", group_of(q.id)},
                      {"tid", e.queue},
                      {"ts", static_cast<double>(e.issue.value()) * us_per_cycle},
                      {"dur", static_cast<double>(e.duration.value()) * us_per_cycle},
                      {"name", opcode_info(ins->opcode).mnemonic},
                      {"args", {{"instruction", ins->text}, {"cycle", e.issue.value()},
                                {"duration_cycles", e.duration.value()}, {"line", ins->loc.line}}}});
  }
  return json{{"displayTimeUnit", "ns"}, {"traceEvents", events},
              {"otherData", {{"chip", chip.name}, {"program", program.file}, {"clock_mhz", chip.clock_mhz}}}};
}

}  // namespace lpusim
