#include "engine/report/trace.hpp"

#include <stdexcept>

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

/// Where one chip's tracks go: the process of each of its queues and the first thread id.
struct Placement {
  bool by_unit;   ///< one process per unit group (a single chip), else one per chip
  int chip_pid;   ///< the chip's process (several chips)
  int first_tid;  ///< thread ids of the chip's queues start here
};

void add_slices(nlohmann::json& events, const ReportedChip& chip, const SimResult& result, const Placement& where) {
  const BoundProgram& program = chip.program;
  std::vector<const BoundInstruction*> by_id(static_cast<std::size_t>(program.instruction_count));
  for (const auto& q : program.queues)
    for (const auto& ins : q.instructions) by_id[static_cast<std::size_t>(ins.id)] = &ins;
  // Timestamps are microseconds at the chip clock; the cycle is in each slice's args.
  const double us_per_cycle = 1.0 / chip.config.clock_mhz;
  for (const auto& e : result.trace) {
    const auto& q = program.queues[static_cast<std::size_t>(e.queue)];
    const BoundInstruction* ins = by_id[static_cast<std::size_t>(e.instruction)];
    events.push_back({{"ph", "X"},
                      {"pid", where.by_unit ? group_of(q.id) : where.chip_pid},
                      {"tid", where.first_tid + e.queue},
                      {"ts", static_cast<double>(e.issue.value()) * us_per_cycle},
                      {"dur", static_cast<double>(e.duration.value()) * us_per_cycle},
                      {"name", opcode_info(ins->opcode).mnemonic},
                      {"args", {{"instruction", ins->text}, {"cycle", e.issue.value()},
                                {"duration_cycles", e.duration.value()}, {"line", ins->loc.line}}}});
  }
}

nlohmann::json trace_of(const std::vector<ReportedChip>& chips, const std::vector<const SimResult*>& results) {
  using nlohmann::json;
  if (chips.size() != results.size()) throw std::logic_error("trace_json: one result per chip");
  json events = json::array();
  if (chips.size() == 1) {
    // One chip: a process per unit group, a thread per queue.
    const ReportedChip& chip = chips.front();
    const BoundProgram& program = chip.program;
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
    add_slices(events, chip, *results.front(), Placement{true, 0, 0});
    return json{{"displayTimeUnit", "ns"}, {"traceEvents", events},
                {"otherData", {{"chip", chip.config.name}, {"program", program.file}, {"clock_mhz", chip.config.clock_mhz}}}};
  }
  // Several chips: a process per chip (pid = chip + 1), a thread per queue with its
  // chip-qualified name, thread ids unique across the system, tracks in floorplan order.
  json chip_info = json::array();
  int first_tid = 0;
  for (std::size_t c = 0; c < chips.size(); ++c) {
    const ReportedChip& chip = chips[c];
    const BoundProgram& program = chip.program;
    const int pid = static_cast<int>(c) + 1;
    const std::string name = fmt::format("chip{}", c);
    events.push_back({{"ph", "M"}, {"pid", pid}, {"name", "process_name"},
                      {"args", {{"name", fmt::format("{} ({}: {})", name, chip.config.name, program.file)}}}});
    events.push_back({{"ph", "M"}, {"pid", pid}, {"name", "process_sort_index"}, {"args", {{"sort_index", pid}}}});
    for (std::size_t i = 0; i < program.queues.size(); ++i) {
      const auto& q = program.queues[i];
      const int tid = first_tid + static_cast<int>(i);
      events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", "thread_name"},
                        {"args", {{"name", name + "/" + q.name}}}});
      events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", "thread_sort_index"},
                        {"args", {{"sort_index", group_of(q.id) * 1000 + q.id.index}}}});
    }
    add_slices(events, chip, *results[c], Placement{false, pid, first_tid});
    first_tid += static_cast<int>(program.queues.size());
    chip_info.push_back({{"chip", name}, {"config", chip.config.name}, {"program", program.file},
                         {"clock_mhz", chip.config.clock_mhz}});
  }
  return json{{"displayTimeUnit", "ns"}, {"traceEvents", events}, {"otherData", {{"chips", chip_info}}}};
}
}  // namespace

nlohmann::json trace_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& result) {
  return trace_of({ReportedChip{chip, program}}, {&result});
}

nlohmann::json trace_json(const std::vector<ReportedChip>& chips, const SystemResult& result) {
  std::vector<const SimResult*> results;
  for (const auto& r : result.chips) results.push_back(&r);
  return trace_of(chips, results);
}

}  // namespace lpusim
