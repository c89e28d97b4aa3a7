#include "models/units/vxm.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "numerics/vector_math.hpp"

namespace lpusim {

Vxm::Vxm(const sc_core::sc_module_name& name, ChipState& context)
    : sc_module(name), context_(context), position_(context.chip.vxm_position()) {}

void Vxm::attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats) {
  queues_.push_back(std::make_unique<QueueRunner>(queue, context_, *this, icu, stats,
                                                  static_cast<int>(&stats - context_.queue_stats.data())));
  icu.add_queue(*queues_.back());
}

namespace {
StreamId offset(StreamId s, int k) {
  s.index = StreamIndex(s.index.value() + k);
  return s;
}
}  // namespace

void Vxm::execute(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const Cycle done = now - ins.timing.skew + ins.timing.func;
  // Operands are read in both modes: the reads are what the schedule checker verifies.
  std::array<const std::uint8_t*, 4> a{}, b{};
  const std::uint8_t* mask = nullptr;
  for (int k = 0; k < ins.src_a_group; ++k) a[k] = context_.read_stream(offset(ins.src_a, k), position_, now, ins, queue);
  for (int k = 0; k < ins.src_b_group; ++k) b[k] = context_.read_stream(offset(ins.src_b, k), position_, now, ins, queue);
  if (ins.has_mask) mask = context_.read_stream(ins.mask, position_, now, ins, queue);

  std::array<std::uint8_t*, 4> out{};
  for (int k = 0; k < ins.dst_group; ++k) out[k] = context_.write_stream(offset(ins.dst, k), position_, done, ins);
  if (context_.functional()) {
    const auto bytes = static_cast<std::size_t>(context_.chip.vector_bytes());
    PlaneGroup ga, gm;
    SecondOperand sb;
    MutablePlaneGroup go;
    ga.count = ins.src_a_group;
    for (int k = 0; k < ga.count; ++k) ga.planes[k] = a[k];
    sb.is_immediate = ins.b_is_immediate;
    sb.immediate = ins.immediate;
    sb.group.count = ins.src_b_group;
    for (int k = 0; k < sb.group.count; ++k) sb.group.planes[k] = b[k];
    if (ins.has_mask) { gm.count = 1; gm.planes[0] = mask; }
    go.count = ins.dst_group;
    const auto lanes = static_cast<std::size_t>(std::min<int>(issue.vector_lanes, static_cast<int>(bytes)));
    for (int k = 0; k < go.count; ++k) {
      go.planes[k] = out[k];
      std::memset(out[k] + lanes, 0, bytes - lanes);  // lanes beyond vl stay zero
    }
    vxm_compute(ins.opcode, ins.dtype, ins.dtype_to, issue.vector_lanes, ga, sb, gm, go);
  }
  context_.note_effect(done, issue.vector_lanes);
}

}  // namespace lpusim
