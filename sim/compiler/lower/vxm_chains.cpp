#include "compiler/lower/vxm_chains.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lpusim {

Direction VxmChains::read_direction(const VecHome& v) const {
  return ScheduleBuilder::toward(geo_.pos(memory_.quad(v.quad)[0]), geo_.vxm());
}

bool VxmChains::read_to(const VecHome& v, Position vxm, Cycle arrive, int& group_out, const Burst& burst,
                        std::int64_t stride) {
  const auto& quad = memory_.quad(v.quad);
  const Direction dir = ScheduleBuilder::toward(geo_.pos(quad[0]), vxm);
  const Cycle read_func = geo_.func(Opcode::Read);
  // The slices' read queues do not depend on the streams: checked once, not per stream group.
  for (int b = 0; b < 4; ++b) {
    const SliceRef& s = quad[static_cast<std::size_t>(b)];
    const Cycle issue = arrive - read_func - geo_.hops(geo_.pos(s), vxm);
    if (issue < v.ready || !sb_.queue_free(ChipGeometry::mem_queue(s), issue, burst.repeats(), burst.interval)) return false;
  }
  for (int first = 0; first + 4 <= geo_.chip().streams_per_direction; first += 4) {
    bool ok = true;
    for (int b = 0; b < 4 && ok; ++b) {
      const SliceRef& s = quad[static_cast<std::size_t>(b)];
      const Cycle issue = arrive - read_func - geo_.hops(geo_.pos(s), vxm);
      ok = sb_.burst_free(dir, first + b, 1, geo_.pos(s), vxm, issue + read_func, burst.count, burst.interval);
    }
    if (!ok) continue;
    for (int b = 0; b < 4; ++b) {
      const SliceRef& s = quad[static_cast<std::size_t>(b)];
      const Cycle issue = arrive - read_func - geo_.hops(geo_.pos(s), vxm);
      sb_.reserve_burst(dir, first + b, 1, geo_.pos(s), vxm, issue + read_func, burst.count, burst.interval);
      sb_.place(ChipGeometry::mem_queue(s),
                PlacedInstruction{issue, make_instruction(Opcode::Read, DType::None,
                                                          {int_operand(v.address), stream_operand(dir, first + b)}),
                                  burst.repeats(), burst.interval, burst.count > 1 ? stride : 0});
      for (std::int64_t k = 0; k < burst.count; ++k)
        memory_.note_read(v.quad, v.address + k * stride, issue + Cycle(k * burst.interval));
    }
    group_out = first;
    return true;
  }
  return false;
}

bool VxmChains::write_from(Position from, Cycle at, int group, Direction dir, const VecHome& dest, const Burst& burst) {
  const auto& quad = memory_.quad(dest.quad);
  for (int b = 0; b < 4; ++b) {
    const SliceRef& s = quad[static_cast<std::size_t>(b)];
    if (ScheduleBuilder::toward(from, geo_.pos(s)) != dir && geo_.pos(s) != from) return false;
    const Cycle issue = at + geo_.hops(from, geo_.pos(s));
    if (issue <= dest.write_after) return false;  // the word's previous tensor is still being read
    if (!sb_.queue_free(ChipGeometry::mem_queue(s), issue, burst.repeats(), burst.interval) ||
        !sb_.burst_free(dir, group + b, 1, from, geo_.pos(s), at, burst.count, burst.interval))
      return false;
  }
  for (int b = 0; b < 4; ++b) {
    const SliceRef& s = quad[static_cast<std::size_t>(b)];
    const Cycle issue = at + geo_.hops(from, geo_.pos(s));
    sb_.reserve_burst(dir, group + b, 1, from, geo_.pos(s), at, burst.count, burst.interval);
    sb_.place(ChipGeometry::mem_queue(s),
              PlacedInstruction{issue, make_instruction(Opcode::Write, DType::None,
                                                        {int_operand(dest.address), stream_operand(dir, group + b)}),
                                burst.repeats(), burst.interval, burst.count > 1 ? 1 : 0});
  }
  return true;
}

Cycle VxmChains::write_commit(Position from, Cycle at, const VecHome& dest) const {
  Cycle last{0};
  for (const auto& s : memory_.quad(dest.quad))
    last = std::max(last, at + geo_.hops(from, geo_.pos(s)) + geo_.func(Opcode::Write));
  return last;
}

std::optional<int> VxmChains::free_alu(Cycle t, const std::vector<std::pair<Cycle, int>>& used, const Burst& burst) const {
  for (int alu = 0; alu < geo_.chip().vxm_alus; ++alu) {
    bool taken = false;
    // Taken by this chain (not placed yet): its bursts hold the ALU from c to c + span.
    for (const auto& [c, a] : used)
      taken = taken || (a == alu && c <= t + burst.span() && t <= c + burst.span());
    if (!taken && sb_.queue_free(ChipGeometry::vxm_queue(alu), t, burst.repeats(), burst.interval)) return alu;
  }
  return std::nullopt;
}

namespace {

/// Streams a value of this type takes: 1 for 8-bit, 2 for 16-bit, 4 for 32-bit types.
int stream_group(DType t) { return dtype_bytes(t); }

}  // namespace

std::optional<Cycle> VxmChains::try_chain(Cycle t, const ChainInput& input, const std::vector<Step>& steps,
                                          ChainSink& sink, const Burst& burst) {
  const Position vxm = geo_.vxm();
  std::vector<std::pair<Cycle, int>> used;  // (cycle, ALU) taken by this chain
  int group = input.group;
  Direction dir = input.direction;
  if (input.mem) {
    dir = read_direction(*input.mem);
    if (!read_to_vxm(*input.mem, t, group, burst, input.stride)) return std::nullopt;
  }
  const std::int64_t repeats = burst.repeats(), interval = burst.interval;
  for (const auto& step : steps) {
    const auto alu = free_alu(t, used, burst);
    if (!alu) return std::nullopt;
    used.emplace_back(t, *alu);
    std::vector<Operand> ops;
    const bool mask = opcode_info(step.op).operands[0].group == StreamGroup::Mask;  // compares: one int8 stream
    const DType out_type = step.op == Opcode::Cvt ? step.type_to : mask ? DType::Int8 : step.type;
    const Cycle done = t + geo_.func(step.op);
    const bool last = &step == &steps.back();
    // Where the result goes next: another ALU here, MEM, or the MXM.
    Direction out_dir = Direction::East;
    Position out_to = vxm;
    if (last && sink.kind == ChainSink::Kind::Mem) {
      const auto& quad = memory_.quad(sink.dest.quad);
      out_to = geo_.pos(quad[0]);
      out_dir = ScheduleBuilder::toward(vxm, out_to);
      // The farthest plane decides the segment; all planes go the same way.
      for (const auto& s : quad)
        if (std::abs(geo_.pos(s).value() - vxm.value()) > std::abs(out_to.value() - vxm.value())) out_to = geo_.pos(s);
    } else if (last) {
      out_to = geo_.mxm(sink.plane);
      out_dir = ScheduleBuilder::toward(vxm, out_to);
    }
    if (step.op == Opcode::VSelect) return std::nullopt;  // not produced by the lowering
    ops.push_back(stream_operand(dir, group));
    if (step.b.kind == StepOperand::Kind::Imm) {
      ops.push_back(imm_operand(step.b.imm));
    } else if (step.b.kind == StepOperand::Kind::SameAsFirst) {
      ops.push_back(stream_operand(dir, group));
    } else if (step.b.kind == StepOperand::Kind::Mem) {
      int b_group = 0;
      Direction b_dir = read_direction(step.b.vec);
      if (!read_to_vxm(step.b.vec, t, b_group, burst, step.b.stride)) {
        // The operand's slices are busy in that cycle (often: it shares a quad with the
        // first operand). Read it a cycle earlier and pass it through a mov.
        const Cycle early = t - geo_.func(Opcode::Mov);
        const auto mov_alu = free_alu(early, used, burst);
        if (!mov_alu || !read_to_vxm(step.b.vec, early, b_group, burst, step.b.stride)) return std::nullopt;
        used.emplace_back(early, *mov_alu);
        const auto moved = sb_.find_burst_streams(Direction::East, 4, vxm, vxm, t, burst.count, interval);
        if (!moved) return std::nullopt;
        sb_.reserve_burst(Direction::East, *moved, 4, vxm, vxm, t, burst.count, interval);
        sb_.place(ChipGeometry::vxm_queue(*mov_alu),
                  PlacedInstruction{early, make_instruction(Opcode::Mov, DType::Fp32,
                                                            {stream_operand(Direction::East, *moved),
                                                             stream_operand(b_dir, b_group)}),
                                    repeats, interval, 0});
        b_group = *moved;
        b_dir = Direction::East;
      }
      ops.push_back(stream_operand(b_dir, b_group));
    }
    // The result's streams are chosen after the second operand's are reserved: in a burst
    // the operand of a later row reaches the VXM in the cycle an earlier row's result leaves
    // it, on the same diagonal, so the two must not share a stream.
    const int out_group = stream_group(out_type);
    const auto dst = sb_.find_burst_streams(out_dir, out_group, vxm, out_to, done, burst.count, interval);
    if (!dst) return std::nullopt;
    ops.insert(ops.begin(), stream_operand(out_dir, *dst));
    // A result going to MEM is reserved plane by plane by write_from (each plane's own
    // segment); every other transfer is reserved here.
    if (!(last && sink.kind == ChainSink::Kind::Mem))
      sb_.reserve_burst(out_dir, *dst, out_group, vxm, out_to, done, burst.count, interval);
    sb_.place(ChipGeometry::vxm_queue(*alu),
              PlacedInstruction{t, make_instruction(step.op, step.type, ops, step.type_to), repeats, interval, 0});
    stats_.vxm_ops += burst.count;
    group = *dst;
    dir = out_dir;
    t = done;
  }
  if (sink.kind == ChainSink::Kind::Mem) {
    if (!write_from(vxm, t, group, dir, sink.dest, burst)) return std::nullopt;
    return write_commit(vxm, t, sink.dest);
  }
  sink.group = group;
  sink.direction = dir;
  return t + geo_.hops(vxm, geo_.mxm(sink.plane));
}

Cycle VxmChains::mem_to_mem(const VecHome& a, const std::vector<Step>& steps, const VecHome& dest, Cycle earliest,
                            const Burst& burst, std::int64_t a_stride) {
  if (auto done = try_mem_to_mem(a, steps, dest, earliest, burst, a_stride, Cycle(1000000))) return *done;
  throw std::logic_error("lowering found no slot for a VXM chain within a million cycles");
}

std::optional<Cycle> VxmChains::try_mem_to_mem(const VecHome& a, const std::vector<Step>& steps, const VecHome& dest,
                                               Cycle earliest, const Burst& burst, std::int64_t a_stride, Cycle window) {
  const Cycle read_func = geo_.func(Opcode::Read);
  Cycle t = std::max(earliest, a.ready + read_func + Cycle(1));
  for (const auto& s : steps)
    if (s.b.kind == StepOperand::Kind::Mem) t = std::max(t, s.b.vec.ready + read_func + Cycle(1));
  // A reused word: the writes land at least a few cycles after t; start near the limit.
  t = std::max(t, dest.write_after - Cycle(64));
  // Within a node, a few cycles before the previous chain's start (gaps further back are
  // rare and not worth rescanning).
  constexpr Cycle kLookBack{64};
  t = std::max(t, node_floor_ - kLookBack);
  for (const Cycle limit = t + window; t <= limit; t += Cycle(1)) {
    sb_.begin();
    ChainSink sink;
    sink.dest = dest;
    ChainInput input;
    input.mem = &a;
    input.stride = a_stride;
    if (auto done = try_chain(t, input, steps, sink, burst)) {
      sb_.commit();
      node_floor_ = std::max(node_floor_, t);
      return *done + Cycle(1);
    }
    sb_.rollback();
  }
  return std::nullopt;
}

}  // namespace lpusim
