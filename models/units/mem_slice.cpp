#include "models/units/mem_slice.hpp"

#include <cstring>

#include <fmt/format.h>

namespace lpusim {

MemSlice::MemSlice(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere, SliceIndex index)
    : sc_module(name), context_(context), sram_(context.chip.mem_slice_words, context.chip.vector_bytes()),
      position_(context.chip.mem_position(hemisphere, index)) {}

void MemSlice::attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats) {
  stats_ = &stats;
  queue_ = std::make_unique<QueueRunner>(queue, context_, *this, icu, stats, static_cast<int>(&stats - context_.queue_stats.data()));
  icu.add_queue(*queue_);
}

void MemSlice::use_port(bool write, Cycle cycle, const BoundInstruction& ins, const std::string& queue) {
  Cycle& last = write ? write_cycle_ : read_cycle_;
  int& count = write ? writes_in_cycle_ : reads_in_cycle_;
  if (last != cycle) { last = cycle; count = 0; }
  ++count;
  const int limit = write ? context_.chip.mem_writes_per_slice_per_cycle : context_.chip.mem_reads_per_slice_per_cycle;
  if (count > limit) report_port_conflict(write, cycle, ins, queue, count, limit);
  (write ? stats_->sram_writes : stats_->sram_reads) += 1;
}

void MemSlice::report_port_conflict(bool write, Cycle cycle, const BoundInstruction& ins, const std::string& queue,
                                    int count, int limit) {
  context_.add_hazard(Hazard::Kind::MemPortConflict, cycle, queue,
                      fmt::format("'{}' (line {}) is {} {} of slice {} in cycle {}; the slice allows {} per cycle",
                                  ins.text, ins.loc.line, count == 2 ? "the 2nd" : fmt::format("the {}th", count),
                                  write ? "write" : "read", queue, cycle.value(), limit));
}

std::vector<std::int64_t> MemSlice::lane_addresses(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  std::vector<std::int64_t> addresses;
  const std::uint8_t* low = context_.read_stream(ins.src_b, position_, now, ins, queue);
  StreamId high_id = ins.src_b;
  high_id.index = StreamIndex(ins.src_b.index.value() + 1);
  const std::uint8_t* high = context_.read_stream(high_id, position_, now, ins, queue);
  if (!context_.functional()) return addresses;
  addresses.resize(static_cast<std::size_t>(issue.vector_lanes));
  for (std::size_t i = 0; i < addresses.size(); ++i)
    // Map entries beyond the slice wrap around: the address decoder sees only the low bits.
    addresses[i] = (low[i] | (high[i] << 8)) % context_.chip.mem_slice_words;
  return addresses;
}

void MemSlice::execute(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const Cycle issued = now - ins.timing.skew;
  const Cycle done = issued + ins.timing.func;
  const int lanes = issue.vector_lanes;
  const auto bytes = static_cast<std::size_t>(context_.chip.vector_bytes());
  switch (ins.opcode) {
    case Opcode::Read: {
      use_port(false, now, ins, queue);
      if (std::uint8_t* out = context_.write_stream(ins.dst, position_, done, ins)) {
        sram_.read(Address(issue.address), now, out);
        std::memset(out + lanes, 0, bytes - static_cast<std::size_t>(lanes));  // lanes beyond vl carry zeros
      }
      break;
    }
    case Opcode::Write: {
      const std::uint8_t* data = context_.read_stream(ins.src_a, position_, now, ins, queue);
      use_port(true, done, ins, queue);
      if (data) {
        sram_.commit_before(now);  // nothing reads this slice before `now` any more
        sram_.write(Address(issue.address), done, data, lanes);
      }
      break;
    }
    case Opcode::Gather: {
      use_port(false, now, ins, queue);
      const auto addresses = lane_addresses(issue, now, queue);
      if (std::uint8_t* out = context_.write_stream(ins.dst, position_, done, ins)) {
        std::memset(out, 0, bytes);
        VectorBytes word(bytes);
        for (int i = 0; i < lanes; ++i) {
          sram_.read(Address(addresses[static_cast<std::size_t>(i)]), now, word.data());
          out[i] = word[static_cast<std::size_t>(i)];
        }
      }
      break;
    }
    case Opcode::Scatter: {
      const std::uint8_t* data = context_.read_stream(ins.src_a, position_, now, ins, queue);
      const auto addresses = lane_addresses(issue, now, queue);
      use_port(true, done, ins, queue);
      if (data)
        for (int i = 0; i < lanes; ++i)
          sram_.write_lane(Address(addresses[static_cast<std::size_t>(i)]), done, i, data[i]);
      break;
    }
    default:
      break;
  }
  context_.note_effect(done, lanes);
}

}  // namespace lpusim
