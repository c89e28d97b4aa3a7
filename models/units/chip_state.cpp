#include "models/units/chip_state.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace lpusim {

namespace {
Cycle max_lookahead(const ChipConfig& chip) {
  Cycle m{1};
  for (const auto& t : chip.timing) m = std::max(m, t.func);
  return m;
}
}  // namespace

ChipState::ChipState(const ChipConfig& c, const BoundProgram& p, SimMode m, bool chk, ChipId i, bool qualify)
    : chip(c), program(p), mode(m), check(chk), index(i),
      queue_prefix(qualify ? fmt::format("chip{}/", i.value()) : std::string()),
      fabric(c.positions(), c.streams_per_direction, c.stream_hop, max_lookahead(c)),
      zeros_(static_cast<std::size_t>(c.vector_bytes()), 0),
      by_id_(static_cast<std::size_t>(p.instruction_count)) {}

void ChipState::register_instruction(const BoundInstruction& ins, const std::string& queue) {
  by_id_[static_cast<std::size_t>(ins.id)] = {&ins, queue};
}

std::string ChipState::describe(int id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= by_id_.size() || !by_id_[static_cast<std::size_t>(id)].first)
    return "?";
  const auto& [ins, queue] = by_id_[static_cast<std::size_t>(id)];
  return fmt::format("'{}' ({} line {})", ins->text, queue, ins->loc.line);
}

const std::uint8_t* ChipState::read_nothing(StreamId stream, Position position, Cycle cycle,
                                             const BoundInstruction& ins, const std::string& queue) {
  add_hazard(Hazard::Kind::StreamEmpty, cycle, queue,
             fmt::format("'{}' (line {}) reads stream s{}{} at position {} in cycle {}, where no value has arrived",
                         ins.text, ins.loc.line, stream.index.value(), to_string(stream.direction), position.value(),
                         cycle.value()));
  return functional() ? zeros_.data() : nullptr;
}

void ChipState::report_collision(StreamId stream, Position position, Cycle cycle) {
  const auto& c = fabric.collisions().back();
  add_hazard(Hazard::Kind::StreamCollision, cycle, "",
             fmt::format("{} and {} both write stream s{}{} at position {} in cycle {}", describe(c.first_writer),
                         describe(c.second_writer), stream.index.value(), to_string(stream.direction),
                         position.value(), cycle.value()));
}

void ChipState::add_hazard(Hazard::Kind kind, Cycle cycle, const std::string& queue, std::string message) {
  // A schedule that is wrong everywhere finds a hazard per instruction: keep the first
  // kMaxHazardsKept (they are what a report shows) and count the rest, so that memory and
  // the stats file stay bounded.
  if (hazards_.size() >= kMaxHazardsKept) { ++hazards_not_kept_; return; }
  hazards_.push_back(Hazard{kind, cycle, queue, std::move(message)});
}

}  // namespace lpusim
