#include "compiler/lower/schedule_builder.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

Operand stream_operand(Direction d, int index) {
  Operand o;
  o.form = OperandForm::Stream;
  o.stream = StreamId{StreamIndex(index), d};
  return o;
}

Operand int_operand(std::int64_t v, bool hex) {
  Operand o;
  o.form = OperandForm::Integer;
  o.integer = v;
  o.hex = hex;
  return o;
}

Operand imm_operand(double v) {
  Operand o;
  o.form = OperandForm::Immediate;
  o.immediate = v;
  return o;
}

Operand name_operand(const std::string& name) {
  Operand o;
  o.form = OperandForm::Name;
  o.name = name;
  return o;
}

Instruction make_instruction(Opcode op, DType t, std::vector<Operand> operands, DType t_to) {
  Instruction i;
  i.opcode = op;
  i.dtype = t;
  i.dtype_to = t_to;
  i.operands = std::move(operands);
  return i;
}

ScheduleBuilder::ScheduleBuilder(const ChipConfig& chip)
    : chip_(chip), streams_(static_cast<std::size_t>(2 * chip.streams_per_direction)) {
  auto add = [&](UnitKind u, Hemisphere h, int count) {
    for (int i = 0; i < count; ++i) queue_ids_.push_back(QueueId{u, h, i});
  };
  for (Hemisphere h : {Hemisphere::West, Hemisphere::East}) {
    add(UnitKind::Mem, h, chip.mem_slices_per_hemisphere);
    add(UnitKind::Mxm, h, chip.mxm_queues_per_hemisphere);
    add(UnitKind::Sxm, h, chip.sxm_queues_per_hemisphere);
  }
  add(UnitKind::Vxm, Hemisphere::West, chip.vxm_alus);
  add(UnitKind::C2c, Hemisphere::West, chip.c2c_links);
  busy_.resize(queue_ids_.size());
  placed_.resize(queue_ids_.size());
  const int positions = chip.queue_position(QueueId{UnitKind::Mxm, Hemisphere::East, 0}).value() + 1;
  if (positions > kMaxPositions)
    throw InputError(fmt::format("{}: the compiler schedules chips of up to {} positions along the streams; this one "
                                 "has {} ({} MEM slices per hemisphere)", chip.file, kMaxPositions, positions,
                                 chip.mem_slices_per_hemisphere));
}

std::size_t ScheduleBuilder::queue_index(const QueueId& q) const {
  // Layout of queue_ids_: per hemisphere [mem, mxm, sxm], then vxm, then c2c.
  const std::size_t per_side = static_cast<std::size_t>(chip_.mem_slices_per_hemisphere + chip_.mxm_queues_per_hemisphere +
                                                        chip_.sxm_queues_per_hemisphere);
  const std::size_t side = q.hemisphere == Hemisphere::East ? per_side : 0;
  switch (q.unit) {
    case UnitKind::Mem: return side + static_cast<std::size_t>(q.index);
    case UnitKind::Mxm: return side + static_cast<std::size_t>(chip_.mem_slices_per_hemisphere + q.index);
    case UnitKind::Sxm:
      return side + static_cast<std::size_t>(chip_.mem_slices_per_hemisphere + chip_.mxm_queues_per_hemisphere + q.index);
    case UnitKind::C2c: return 2 * per_side + static_cast<std::size_t>(chip_.vxm_alus + q.index);
    default: return 2 * per_side + static_cast<std::size_t>(q.index);
  }
}

bool ScheduleBuilder::queue_free(const QueueId& queue, Cycle first, std::int64_t repeat, std::int64_t interval) const {
  if (first < Cycle(0) || (floor_applies_ && first < floor_)) return false;
  // A repeat holds its queue from the first issue to the last: nothing can issue in between.
  const auto& busy = busy_[queue_index(queue)];
  const std::int64_t lo = first.value(), hi = lo + repeat * interval;
  auto it = busy.upper_bound(hi);  // the first range starting after hi
  if (it == busy.begin()) return true;
  --it;  // the last range starting at or before hi
  return it->second < lo;
}

void ScheduleBuilder::place(const QueueId& queue, PlacedInstruction p) {
  const std::size_t qi = queue_index(queue);
  const std::int64_t first = p.cycle.value(), last = first + p.repeat * p.interval;
  busy_[qi].emplace(first, last);
  if (in_transaction_) {
    log_.push_back({LogEntry::Kind::Busy, qi, first, last});
    log_.push_back({LogEntry::Kind::Placed, qi, 0, 0});
  }
  const auto& timing = chip_.timing_of(p.instruction.opcode);
  if (opcode_info(p.instruction.opcode).unit != UnitKind::Icu)
    note_effect(p.cycle + Cycle(p.repeat * p.interval) + timing.func);
  last_queue_end_ = std::max(last_queue_end_, Cycle(last + 1));
  instructions_ += 1 + p.repeat;
  p.attribution = attribution_;
  placed_[qi].push_back(std::move(p));
}

ScheduleBuilder::PositionMask ScheduleBuilder::span_mask(int low, int high) {
  PositionMask m{};
  for (int w = 0; w < 4; ++w) {
    const int lo = std::max(low, 64 * w), hi = std::min(high, 64 * w + 63);
    if (lo > hi) continue;
    const int width = hi - lo + 1;
    const std::uint64_t bits = width == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
    m[static_cast<std::size_t>(w)] = bits << (lo - 64 * w);
  }
  return m;
}

bool ScheduleBuilder::streams_free(Direction dir, int first, int group, Position from, Position to, Cycle cycle) const {
  if (first < 0 || first + group > chip_.streams_per_direction) return false;
  const PositionMask span = span_mask(std::min(from.value(), to.value()), std::max(from.value(), to.value()));
  const std::int64_t key = diagonal(dir, from, cycle);
  for (int s = first; s < first + group; ++s) {
    const auto& map = streams_[static_cast<std::size_t>(2 * s + (dir == Direction::West ? 1 : 0))];
    auto it = map.find(key);
    if (it == map.end()) continue;
    for (std::size_t w = 0; w < span.size(); ++w)
      if (it->second[w] & span[w]) return false;
  }
  return true;
}

void ScheduleBuilder::reserve_streams(Direction dir, int first, int group, Position from, Position to, Cycle cycle) {
  const int low = std::min(from.value(), to.value()), high = std::max(from.value(), to.value());
  const PositionMask span = span_mask(low, high);
  const std::int64_t key = diagonal(dir, from, cycle);
  for (int s = first; s < first + group; ++s) {
    const auto index = static_cast<std::size_t>(2 * s + (dir == Direction::West ? 1 : 0));
    auto& mask = streams_[index][key];
    for (std::size_t w = 0; w < span.size(); ++w) mask[w] |= span[w];
    if (in_transaction_) log_.push_back({LogEntry::Kind::Stream, index, key, std::int64_t{low} << 16 | high});
  }
}

void ScheduleBuilder::begin() {
  in_transaction_ = true;
  log_.clear();
  saved_effect_ = last_effect_;
  saved_queue_end_ = last_queue_end_;
  saved_instructions_ = instructions_;
}

void ScheduleBuilder::rollback() {
  for (auto it = log_.rbegin(); it != log_.rend(); ++it) {
    switch (it->kind) {
      case LogEntry::Kind::Busy: busy_[it->index].erase(it->a); break;
      case LogEntry::Kind::Stream: {
        // Reservations never overlap (each is checked first), so clearing the span undoes it.
        auto& map = streams_[it->index];
        auto found = map.find(it->a);
        const PositionMask span = span_mask(static_cast<int>(it->b >> 16), static_cast<int>(it->b & 0xffff));
        bool empty = true;
        for (std::size_t w = 0; w < span.size(); ++w) {
          found->second[w] &= ~span[w];
          empty = empty && found->second[w] == 0;
        }
        if (empty) map.erase(found);
        break;
      }
      case LogEntry::Kind::Placed: placed_[it->index].pop_back(); break;
    }
  }
  log_.clear();
  last_effect_ = saved_effect_;
  last_queue_end_ = saved_queue_end_;
  instructions_ = saved_instructions_;
  in_transaction_ = false;
}

void ScheduleBuilder::commit() {
  log_.clear();
  in_transaction_ = false;
}

std::optional<int> ScheduleBuilder::find_streams(Direction dir, int group, Position from, Position to, Cycle cycle) const {
  for (int first = 0; first + group <= chip_.streams_per_direction; first += group)
    if (streams_free(dir, first, group, from, to, cycle)) return first;
  return std::nullopt;
}

bool ScheduleBuilder::burst_free(Direction dir, int first, int group, Position from, Position to, Cycle cycle,
                                 std::int64_t count, std::int64_t interval) const {
  for (std::int64_t k = 0; k < count; ++k)
    if (!streams_free(dir, first, group, from, to, cycle + Cycle(k * interval))) return false;
  return true;
}

void ScheduleBuilder::reserve_burst(Direction dir, int first, int group, Position from, Position to, Cycle cycle,
                                    std::int64_t count, std::int64_t interval) {
  for (std::int64_t k = 0; k < count; ++k) reserve_streams(dir, first, group, from, to, cycle + Cycle(k * interval));
}

std::optional<int> ScheduleBuilder::find_burst_streams(Direction dir, int group, Position from, Position to, Cycle cycle,
                                                       std::int64_t count, std::int64_t interval) const {
  for (int first = 0; first + group <= chip_.streams_per_direction; first += group)
    if (burst_free(dir, first, group, from, to, cycle, count, interval)) return first;
  return std::nullopt;
}

std::vector<UnitIssueSlots> ScheduleBuilder::issued_by_attribution(int tags) const {
  std::vector<UnitIssueSlots> out(static_cast<std::size_t>(std::max(tags, 0)));
  for (std::size_t qi = 0; qi < placed_.size(); ++qi)
    for (const auto& p : placed_[qi]) {
      if (p.attribution < 0 || p.attribution >= tags) continue;
      UnitIssueSlots& slots = out[static_cast<std::size_t>(p.attribution)];
      const std::int64_t issued = 1 + p.repeat;
      switch (queue_ids_[qi].unit) {
        case UnitKind::Mem: slots.mem += issued; break;
        case UnitKind::Vxm: slots.vxm += issued; break;
        case UnitKind::Mxm: slots.mxm += issued; break;
        case UnitKind::Sxm: slots.sxm += issued; break;
        case UnitKind::C2c: slots.c2c += issued; break;
        default: break;
      }
    }
  return out;
}

Cycle ScheduleBuilder::length() const {
  // As the simulator counts it: one past the last effect on superlane 0, plus the trailing
  // superlanes, or the end of the longest queue if that is later.
  const Cycle effects = instructions_ > 0 ? last_effect_ + Cycle(1) + chip_.skew_tail() : Cycle(0);
  return std::max(effects, last_queue_end_);
}

Program ScheduleBuilder::emit(const std::string& file, const std::vector<TensorDecl>& tensors,
                              const std::vector<std::string>& header, const std::vector<LaneMap>& lane_maps) {
  Program program;
  program.file = file;
  for (const auto& line : header) {
    program.order.push_back({TopItem::Kind::Comment, program.comments.size()});
    program.comments.push_back(line);
  }
  for (const auto& t : tensors) {
    program.order.push_back({TopItem::Kind::Tensor, program.tensors.size()});
    program.tensors.push_back(t);
  }
  for (const auto& m : lane_maps) {
    program.order.push_back({TopItem::Kind::LaneMap, program.lane_maps.size()});
    program.lane_maps.push_back(m);
  }
  for (std::size_t qi = 0; qi < placed_.size(); ++qi) {
    if (placed_[qi].empty()) continue;
    auto& items = placed_[qi];
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.cycle < b.cycle; });
    QueueBlock block;
    block.id = queue_ids_[qi];
    Cycle cursor{0};
    for (auto& p : items) {
      if (p.cycle > cursor) {
        QueueItem nop;
        nop.instruction = make_instruction(Opcode::Nop, DType::None, {int_operand((p.cycle - cursor).value())});
        block.items.push_back(std::move(nop));
      }
      QueueItem item;
      item.instruction = std::move(p.instruction);
      block.items.push_back(std::move(item));
      cursor = p.cycle + Cycle(1);
      if (p.repeat > 0) {
        QueueItem rep;
        std::vector<Operand> ops{int_operand(p.repeat), int_operand(p.interval)};
        if (p.stride != 0) ops.push_back(int_operand(p.stride));
        rep.instruction = make_instruction(Opcode::Repeat, DType::None, ops);
        block.items.push_back(std::move(rep));
        cursor = p.cycle + Cycle(p.repeat * p.interval + 1);
      }
    }
    program.order.push_back({TopItem::Kind::Queue, program.queues.size()});
    program.queues.push_back(std::move(block));
  }
  return program;
}

}  // namespace lpusim
