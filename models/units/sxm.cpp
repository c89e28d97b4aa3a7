#include "models/units/sxm.hpp"

#include <cstring>

#include <fmt/format.h>

namespace lpusim {

namespace {
StreamId offset(StreamId s, int k) {
  s.index = StreamIndex(s.index.value() + k);
  return s;
}
}  // namespace

Sxm::Sxm(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere)
    : sc_module(name), context_(context),
      position_(context.chip.queue_position(QueueId{UnitKind::Sxm, hemisphere, 0})) {}

void Sxm::attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats) {
  queues_.push_back(std::make_unique<QueueRunner>(queue, context_, *this, icu, stats,
                                                  static_cast<int>(&stats - context_.queue_stats.data())));
  icu.add_queue(*queues_.back());
}

void Sxm::execute(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const int lanes = context_.chip.lanes();
  const int width = context_.chip.lanes_per_superlane;
  std::vector<const std::uint8_t*> a(static_cast<std::size_t>(ins.src_a_group)), b(static_cast<std::size_t>(ins.src_b_group));
  for (int k = 0; k < ins.src_a_group; ++k) a[static_cast<std::size_t>(k)] = context_.read_stream(offset(ins.src_a, k), position_, now, ins, queue);
  for (int k = 0; k < ins.src_b_group; ++k) b[static_cast<std::size_t>(k)] = context_.read_stream(offset(ins.src_b, k), position_, now, ins, queue);
  const std::uint8_t* mask = nullptr;
  if (ins.has_mask) mask = context_.read_stream(ins.mask, position_, now, ins, queue);

  std::vector<VectorBytes> planes(static_cast<std::size_t>(ins.dst_group));
  if (context_.functional()) {
    const auto bytes = static_cast<std::size_t>(context_.chip.vector_bytes());
    for (auto& p : planes) p.assign(bytes, 0);
    const int active = issue.vector_lanes;  // lanes beyond vl carry zeros
    for (int k = 0; k < ins.dst_group; ++k) {
      auto& dst = planes[static_cast<std::size_t>(k)];
      switch (ins.opcode) {
        case Opcode::Shift:
          for (int i = 0; i < active; ++i) {
            const auto from = static_cast<std::int64_t>(i) - ins.integer;
            dst[static_cast<std::size_t>(i)] = from >= 0 && from < lanes ? a[static_cast<std::size_t>(k)][static_cast<std::size_t>(from)] : 0;
          }
          break;
        case Opcode::Rotate:
          for (int i = 0; i < active; ++i) {
            const auto from = ((static_cast<std::int64_t>(i) - ins.integer) % lanes + lanes) % lanes;
            dst[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(k)][static_cast<std::size_t>(from)];
          }
          break;
        case Opcode::Permute: case Opcode::Distribute:
          for (int i = 0; i < active; ++i)
            dst[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(k)][static_cast<std::size_t>((*ins.lane_map)[static_cast<std::size_t>(i)])];
          break;
        case Opcode::Transpose:
          // Within each superlane: output stream k, lane l  <-  input stream l, lane k.
          for (int i = 0; i < active; ++i) {
            const int base = i - i % width, l = i % width;
            dst[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(l)][static_cast<std::size_t>(base + k)];
          }
          break;
        case Opcode::SSelect:
          for (int i = 0; i < active; ++i)
            dst[static_cast<std::size_t>(i)] = mask[static_cast<std::size_t>(i)] != 0 ? a[static_cast<std::size_t>(k)][static_cast<std::size_t>(i)]
                                                                                  : b[static_cast<std::size_t>(k)][static_cast<std::size_t>(i)];
          break;
        default:
          break;
      }
    }
  }
  const Cycle done = now - ins.timing.skew + ins.timing.func + ins.extra_latency;
  for (int k = 0; k < ins.dst_group; ++k)
    if (std::uint8_t* out = context_.write_stream(offset(ins.dst, k), position_, done, ins))
      std::memcpy(out, planes[static_cast<std::size_t>(k)].data(), planes[static_cast<std::size_t>(k)].size());
  context_.note_effect(done, issue.vector_lanes);
}

}  // namespace lpusim
