#include "engine/exec/bind.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "numerics/vector_math.hpp"

namespace lpusim {

SliceRef BoundTensor::plane_slice(std::int64_t, int plane) const {
  return slices[static_cast<std::size_t>(plane) % slices.size()];
}

std::int64_t BoundTensor::words_per_slice() const {
  const auto n = static_cast<std::int64_t>(slices.size());
  return vectors * ((dtype_bytes(dtype) + n - 1) / n);
}

std::int64_t BoundTensor::plane_address(std::int64_t vector, int plane) const {
  const auto n = static_cast<std::int64_t>(slices.size());
  return address + vector * ((dtype_bytes(dtype) + n - 1) / n) + plane / n;
}

const BoundTensor* BoundProgram::find_tensor(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

class Binder {
 public:
  Binder(const Program& p, const ChipConfig& c) : program_(p), chip_(c) {}

  [[noreturn]] void fail(const SourceLoc& loc, const std::string& message) const {
    throw InputError(fmt::format("{}:{}:{}: {}", program_.file, loc.line, loc.column, message));
  }

  /// Checks a stream group of `group` streams starting at the operand; it must start at a
  /// multiple of `align` (by default the group size).
  StreamId stream(const Operand& op, int group, const char* role, int align = 0) const {
    const int index = op.stream.index.value();
    if (align == 0) align = group;
    if (index < 0 || index + group > chip_.streams_per_direction)
      fail(op.loc, fmt::format("{} s{}{} needs streams {}..{}, but the chip has {} per direction", role, index,
                               to_string(op.stream.direction), index, index + group - 1, chip_.streams_per_direction));
    if (align > 1 && index % align != 0)
      fail(op.loc, fmt::format("{} s{}{} starts a group of {} streams, which must start at a multiple of {}", role,
                               index, to_string(op.stream.direction), align, align));
    return op.stream;
  }

  const LaneMap* find_map(const Operand& op) const {
    for (const auto& m : program_.lane_maps)
      if (m.name == op.name) return &m;
    fail(op.loc, fmt::format("no lane map named '{}' (declare it with .lanemap)", op.name));
  }

  /// Cycles the SXM must wait for data moving from a later superlane to an earlier one:
  /// superlane k runs k x skew cycles behind superlane 0.
  Cycle cross_superlane_wait(const std::vector<int>& source_of_lane) const {
    int worst = 0;
    for (std::size_t lane = 0; lane < source_of_lane.size(); ++lane) {
      const int from = source_of_lane[lane] / chip_.lanes_per_superlane;
      const int to = static_cast<int>(lane) / chip_.lanes_per_superlane;
      worst = std::max(worst, from - to);
    }
    return chip_.superlane_skew * worst;
  }

  void bind_mxm(const Instruction& ins, const QueueId& queue, BoundInstruction& b) const {
    const auto& ops = ins.operands;
    const int role = queue.index % 3;  // 0: weights, 1: activations, 2: results
    const int wanted = ins.opcode == Opcode::LoadWeights || ins.opcode == Opcode::InstallWeights ? 0
                       : ins.opcode == Opcode::ActivationBuffer ? 1 : 2;
    static const char* roles[] = {"weights (lw, iw)", "activations (abc)", "results (acc)"};
    if (role != wanted)
      fail(ins.loc, fmt::format("{} is plane {}'s {} queue; '{}' belongs on {}", queue_name(queue), queue.index / 3,
                                roles[role], opcode_info(ins.opcode).mnemonic,
                                queue_name(QueueId{queue.unit, queue.hemisphere, queue.index - role + wanted})));
    if (ins.opcode == Opcode::InstallWeights) return;
    const bool input = ins.opcode != Opcode::Accumulate;
    const bool fp8 = ins.dtype == DType::Fp8E4M3 || ins.dtype == DType::Fp8E5M2;
    if (input && ins.dtype != DType::Int8 && ins.dtype != DType::Fp16 && !fp8)
      fail(ins.loc, fmt::format("the MXM multiplies int8, fp16 or fp8, not {}", dtype_name(ins.dtype)));
    if (input && fp8 && chip_.mxm_fp8_rate_divisor == 0)
      fail(ins.loc, fmt::format("{} has no fp8 MXM mode (no mxm.fp8_rate_divisor in its configuration)", chip_.name));
    if (!input && ins.dtype != DType::Int32 && ins.dtype != DType::Fp32)
      fail(ins.loc, fmt::format("MXM results are int32 (int8 activations) or fp32 (fp16 or fp8), not {}", dtype_name(ins.dtype)));
    const int bytes = dtype_bytes(ins.dtype);
    if (ins.opcode == Opcode::LoadWeights) {
      // Range-check the 64-bit operand before narrowing it (2^32 + 1 must not wrap to 1).
      const std::int64_t rows = ops.size() > 1 ? ops[1].integer : 1;
      if (rows < 1 || rows > chip_.mxm_max_weight_streams / std::min(bytes, chip_.mxm_max_weight_streams))
        fail(ops.size() > 1 ? ops[1].loc : ins.loc,
             fmt::format("expected 1 to {} rows per lw.{} ({} weight streams per cycle)",
                         chip_.mxm_max_weight_streams / bytes, dtype_name(ins.dtype), chip_.mxm_max_weight_streams));
      b.rows = static_cast<int>(rows);
      b.src_a = stream(ops[0], bytes * b.rows, "weight source", bytes);
      b.src_a_group = bytes * b.rows;
      return;
    }
    const std::int64_t slot = ops.size() > 1 ? ops[1].integer : 0;
    if (slot < 0 || slot >= chip_.mxm_accumulator_slots)
      fail(ops[1].loc, fmt::format("expected an accumulator slot in [0, {}), got {}", chip_.mxm_accumulator_slots, slot));
    b.slot = static_cast<int>(slot);
    b.address = slot;  // a repeat's stride steps the slot, as it steps a MEM address
    if (input) { b.src_a = stream(ops[0], bytes, "activation source"); b.src_a_group = bytes; }
    else { b.dst = stream(ops[0], bytes, "destination"); b.dst_group = bytes; }
  }

  /// send LINK, SRC[, DESTINATION] / receive LINK, DST / deskew LINK. Whether the link is
  /// connected, and to what, is the system's business (checked when the system is built).
  void bind_c2c(const Instruction& ins, BoundInstruction& b) {
    const auto& ops = ins.operands;
    b.integer = ops[0].integer;
    if (b.integer < 0 || b.integer >= chip_.c2c_links)
      fail(ops[0].loc, fmt::format("expected a C2C link in [0, {}), got {}", chip_.c2c_links, b.integer));
    b.address = -1;  // send: no destination beyond the link's far end
    switch (ins.opcode) {
      case Opcode::Send:
        b.src_a = stream(ops[1], 1, "source");
        b.src_a_group = 1;
        if (ops.size() > 2) {
          b.address = ops[2].integer;
          if (b.address < 0 || b.address >= (std::int64_t{1} << 20))
            fail(ops[2].loc, fmt::format("expected a destination chip in [0, 2^20), got {}", b.address));
        }
        return;
      case Opcode::Receive:
        b.dst = stream(ops[1], 1, "destination");
        b.dst_group = 1;
        return;
      default:
        return;  // deskew
    }
  }

  void bind_sxm(const Instruction& ins, BoundInstruction& b) {
    const auto& ops = ins.operands;
    const int bytes = dtype_bytes(ins.dtype);
    const int lanes = chip_.lanes();
    switch (ins.opcode) {
      case Opcode::Transpose:
        if (ins.dtype != DType::Int8)
          fail(ins.loc, "transpose moves bytes: use transpose.int8 on each byte plane of a wider type");
        b.dst = stream(ops[0], 16, "destination");
        b.src_a = stream(ops[1], 16, "source");
        b.dst_group = b.src_a_group = 16;
        return;  // stays within each superlane
      case Opcode::SSelect:
        b.dst = stream(ops[0], bytes, "destination");
        b.mask = stream(ops[1], 1, "mask");
        b.has_mask = true;
        b.src_a = stream(ops[2], bytes, "source");
        b.src_b = stream(ops[3], bytes, "second source");
        b.dst_group = b.src_a_group = b.src_b_group = bytes;
        return;
      default:
        break;
    }
    b.dst = stream(ops[0], bytes, "destination");
    b.src_a = stream(ops[1], bytes, "source");
    b.dst_group = b.src_a_group = bytes;
    if (ins.opcode == Opcode::Shift || ins.opcode == Opcode::Rotate) {
      b.integer = ops[2].integer;
      if (b.integer <= -lanes || b.integer >= lanes)
        fail(ops[2].loc, fmt::format("expected a lane amount in ({}, {}), got {}", -lanes, lanes, b.integer));
      // The wait is O(lanes) to work out: once per (opcode, amount), not per instruction.
      const auto key = std::make_pair(static_cast<int>(ins.opcode), b.integer);
      if (auto it = shift_waits_.find(key); it != shift_waits_.end()) { b.extra_latency = it->second; return; }
      std::vector<int> source(static_cast<std::size_t>(lanes));
      for (int i = 0; i < lanes; ++i) {
        const auto from = static_cast<int>(i - b.integer);
        // Shifted-in lanes (zeros) come from nowhere: they wait for nothing.
        source[static_cast<std::size_t>(i)] = ins.opcode == Opcode::Rotate ? ((from % lanes) + lanes) % lanes
                                              : (from >= 0 && from < lanes ? from : i);
      }
      b.extra_latency = shift_waits_[key] = cross_superlane_wait(source);
    } else {
      const LaneMap* map = find_map(ops[2]);
      // Checked and expanded once per (map, opcode); instructions share the result.
      const auto key = std::make_pair(map->name, static_cast<int>(ins.opcode));
      if (auto it = maps_.find(key); it != maps_.end()) {
        b.lane_map = it->second.first;
        b.extra_latency = it->second.second;
        return;
      }
      std::vector<int> lane_map;
      if (ins.opcode == Opcode::Permute) {
        if (static_cast<int>(map->lanes.size()) != lanes)
          fail(ops[2].loc, fmt::format("permute needs a lane map of {} lanes; '{}' has {}", lanes, map->name, map->lanes.size()));
        std::vector<bool> seen(static_cast<std::size_t>(lanes));
        for (int lane : map->lanes) {
          if (lane >= lanes || seen[static_cast<std::size_t>(lane)])
            fail(ops[2].loc, fmt::format("lane map '{}' is not a permutation of the {} lanes (lane {} repeats or is out of range)",
                                         map->name, lanes, lane));
          seen[static_cast<std::size_t>(lane)] = true;
        }
        lane_map = map->lanes;
      } else {  // distribute: the same map inside every superlane
        const int width = chip_.lanes_per_superlane;
        if (static_cast<int>(map->lanes.size()) != width)
          fail(ops[2].loc, fmt::format("distribute needs a lane map of {} lanes (one superlane); '{}' has {}", width,
                                       map->name, map->lanes.size()));
        for (int lane : map->lanes)
          if (lane >= width) fail(ops[2].loc, fmt::format("lane map '{}' names lane {} outside a superlane of {}", map->name, lane, width));
        lane_map.resize(static_cast<std::size_t>(lanes));
        for (int i = 0; i < lanes; ++i)
          lane_map[static_cast<std::size_t>(i)] = i - i % width + map->lanes[static_cast<std::size_t>(i % width)];
      }
      b.extra_latency = cross_superlane_wait(lane_map);
      b.lane_map = std::make_shared<const std::vector<int>>(std::move(lane_map));
      maps_[key] = {b.lane_map, b.extra_latency};
    }
  }

  int group_size(StreamGroup g, DType t) const {
    switch (g) {
      case StreamGroup::ByType: return dtype_bytes(t);
      case StreamGroup::Single: case StreamGroup::Mask: return 1;
      case StreamGroup::Pair: return 2;
    }
    return 1;
  }

  void check_address(const Operand& op, std::int64_t address) const {
    if (address < 0 || address >= chip_.mem_slice_words)
      fail(op.loc, fmt::format("address {} is outside the slice's words [0, {})", address, chip_.mem_slice_words));
  }

  BoundInstruction bind(const Instruction& ins, const QueueId& queue, const BoundInstruction* previous) {
    const auto& info = opcode_info(ins.opcode);
    BoundInstruction b;
    b.id = next_id_++;
    b.opcode = ins.opcode;
    b.dtype = ins.dtype;
    b.dtype_to = ins.dtype_to;
    b.loc = ins.loc;
    b.text = print_instruction(ins);
    if (ins.opcode != Opcode::Nop && ins.opcode != Opcode::Repeat) b.timing = chip_.timing_of(ins.opcode);
    if (info.unit == UnitKind::Mxm) { bind_mxm(ins, queue, b); return b; }
    if (info.unit == UnitKind::Sxm) { bind_sxm(ins, b); return b; }
    if (info.unit == UnitKind::C2c) { bind_c2c(ins, b); return b; }
    const auto& ops = ins.operands;
    auto op_type = [&](std::size_t i) { return ins.opcode == Opcode::Cvt && i == 0 ? ins.dtype_to : ins.dtype; };
    switch (ins.opcode) {
      case Opcode::Nop:
        b.integer = ops[0].integer;
        if (b.integer < 1 || b.integer > (1LL << 40)) fail(ops[0].loc, fmt::format("expected nop cycles in [1, 2^40], got {}", b.integer));
        return b;
      case Opcode::Repeat: {
        if (!previous || opcode_info(previous->opcode).unit == UnitKind::Icu)
          fail(ins.loc, "repeat must follow an instruction of the queue's unit (it repeats the previous instruction)");
        b.integer = ops[0].integer;
        b.interval = ops[1].integer;
        b.stride = ops.size() > 2 ? ops[2].integer : 0;
        if (b.integer < 1 || b.integer > (1LL << 32)) fail(ops[0].loc, fmt::format("expected a repeat count in [1, 2^32], got {}", b.integer));
        if (b.interval < 1 || b.interval > (1LL << 32)) fail(ops[1].loc, fmt::format("expected cycles between repeats in [1, 2^32], got {}", b.interval));
        const bool addressed = previous->opcode == Opcode::Read || previous->opcode == Opcode::Write;
        // abc and acc: the stride steps the accumulator slot (rows of a matrix into consecutive slots).
        const bool slotted = previous->opcode == Opcode::ActivationBuffer || previous->opcode == Opcode::Accumulate;
        if (b.stride != 0 && !addressed && !slotted)
          fail(ops[2].loc, "a stride needs a previous read or write (address) or abc or acc (accumulator slot)");
        if (slotted) {
          const std::int64_t last = previous->address + b.stride * b.integer;  // both below 2^33: no overflow
          if (b.stride < -chip_.mxm_accumulator_slots || b.stride > chip_.mxm_accumulator_slots || last < 0 ||
              last >= chip_.mxm_accumulator_slots)
            fail(ops.size() > 2 ? ops[2].loc : ins.loc,
                 fmt::format("the last repeat reaches accumulator slot {}, outside [0, {})",
                             b.stride < -chip_.mxm_accumulator_slots || b.stride > chip_.mxm_accumulator_slots
                                 ? fmt::format("{} + {} x {}", previous->address, b.stride, b.integer)
                                 : std::to_string(last),
                             chip_.mxm_accumulator_slots));
        }
        if (addressed) {
          // stride and count are each up to 2^32: their product can overflow 64 bits.
          if (b.stride < -(1LL << 32) || b.stride > (1LL << 32))
            fail(ops[2].loc, fmt::format("expected an address stride in [-2^32, 2^32], got {}", b.stride));
          std::int64_t step = 0, last = 0;
          const bool fits = checked_mul(b.stride, b.integer, step) && checked_add(previous->address, step, last);
          if (!fits || last < 0 || last >= chip_.mem_slice_words)
            fail(ops.size() > 2 ? ops[2].loc : ins.loc,
                 fmt::format("the last repeat reaches address {}, outside the slice's words [0, {})",
                             fits ? std::to_string(last)
                                  : fmt::format("{} + {} x {}", previous->address, b.stride, b.integer),
                             chip_.mem_slice_words));
        }
        return b;
      }
      case Opcode::Sync: case Opcode::Notify:
        return b;
      case Opcode::Config:
        b.name = ops[0].name;
        b.integer = ops[1].integer;
        if (b.name != "vl") fail(ops[0].loc, fmt::format("unknown config key '{}' (expected vl)", b.name));
        if (b.integer < chip_.lanes_per_superlane || b.integer > chip_.lanes() || b.integer % chip_.lanes_per_superlane)
          fail(ops[1].loc, fmt::format("expected vl a multiple of {} in [{}, {}], got {}", chip_.lanes_per_superlane,
                                       chip_.lanes_per_superlane, chip_.lanes(), b.integer));
        return b;
      case Opcode::Ifetch:
        b.address = ops[0].integer;
        check_address(ops[0], b.address);
        return b;
      case Opcode::Read:
        b.address = ops[0].integer;
        check_address(ops[0], b.address);
        b.dst = stream(ops[1], 1, "destination");
        b.dst_group = 1;
        return b;
      case Opcode::Write:
        b.address = ops[0].integer;
        check_address(ops[0], b.address);
        b.src_a = stream(ops[1], 1, "source");
        b.src_a_group = 1;
        return b;
      case Opcode::Gather: case Opcode::Scatter:
        if (ins.opcode == Opcode::Gather) { b.dst = stream(ops[0], 1, "destination"); b.dst_group = 1; }
        else { b.src_a = stream(ops[0], 1, "source"); b.src_a_group = 1; }
        b.src_b = stream(ops[1], 2, "address map");
        b.src_b_group = 2;
        return b;
      default:
        break;
    }
    // VXM.
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& spec = info.operands[i];
      const int group = group_size(spec.group, op_type(i));
      if (ops[i].form == OperandForm::Immediate) {
        const double v = ops[i].immediate;
        if (!dtype_is_float(ins.dtype) && !representable(ins.dtype, v))
          fail(ops[i].loc, fmt::format("immediate {} is not a {} value", v, dtype_name(ins.dtype)));
        b.b_is_immediate = true;
        b.immediate = dtype_is_float(ins.dtype) ? decode_element(ins.dtype, encode_element(ins.dtype, v)) : v;
        if (!std::isfinite(b.immediate))
          fail(ops[i].loc, fmt::format("immediate {} overflows {} (it would be infinite)", v, dtype_name(ins.dtype)));
        continue;
      }
      const StreamId s = stream(ops[i], group, spec.role);
      if (i == 0) { b.dst = s; b.dst_group = group; }
      else if (spec.group == StreamGroup::Mask) { b.mask = s; b.has_mask = true; }
      else if (b.src_a_group == 0) { b.src_a = s; b.src_a_group = group; }
      else { b.src_b = s; b.src_b_group = group; }
    }
    return b;
  }

  BoundProgram run() {
    BoundProgram out;
    out.file = program_.file;
    if (program_.queues.empty())
      throw InputError(fmt::format("{}: no .queue block: nothing to run", program_.file));
    out.lane_maps = program_.lane_maps;
    for (const auto& block : program_.queues) {
      if (!chip_.has_queue(block.id))
        fail(block.loc, fmt::format("queue {} does not exist on chip '{}'", queue_name(block.id), chip_.name));
      BoundQueue q;
      q.id = block.id;
      q.name = queue_name(block.id);
      q.position = chip_.queue_position(block.id);
      std::set<std::string> labels;
      // The instruction a `repeat` repeats: the last non-ICU instruction, unless an ICU
      // instruction (nop, sync, ...) came after it.
      std::optional<std::size_t> repeatable;
      std::int64_t queue_cycles = 0;  // nops and repeat intervals: a bound on the queue's waiting
      for (const auto& item : block.items) {
        if (item.kind == QueueItem::Kind::Label) {
          if (!labels.insert(item.text).second) fail(item.loc, fmt::format("label '{}' defined twice in {}", item.text, q.name));
          continue;
        }
        if (item.kind != QueueItem::Kind::Instruction) continue;
        const BoundInstruction* previous = repeatable ? &q.instructions[*repeatable] : nullptr;
        q.instructions.push_back(bind(item.instruction, q.id, previous));
        const BoundInstruction& bound = q.instructions.back();
        const Opcode op = bound.opcode;
        // A repeat's count and interval are each up to 2^32, so their product (and the sums)
        // can pass 2^63: saturate instead of overflowing, then compare with the limits.
        std::int64_t waits = 0;
        if (op == Opcode::Nop) waits = bound.integer;
        if (op == Opcode::Repeat && !checked_mul(bound.integer, bound.interval, waits)) waits = INT64_MAX;
        if (!checked_add(queue_cycles, waits, queue_cycles)) queue_cycles = INT64_MAX;
        issued_ += op == Opcode::Repeat ? bound.integer : 1;  // at most 2^30 + 2^32 before the check
        if (queue_cycles > limits::kMaxQueueCycles)
          fail(item.loc, fmt::format("queue {} waits more than 2^50 cycles in all (nops and repeats); lpusim "
                                     "simulates at most that (docs/limits.md)", q.name));
        if (issued_ > limits::kMaxIssuedInstructions)
          fail(item.loc, fmt::format("the program issues more than 2^30 instructions counting repeats; lpusim "
                                     "refuses runs that long (docs/limits.md)"));
        if (op == Opcode::Repeat) continue;
        if (opcode_info(op).unit == UnitKind::Icu) repeatable.reset();
        else repeatable = q.instructions.size() - 1;
      }
      out.queues.push_back(std::move(q));
    }
    // Tensors: slices exist, ranges fit, and no two tensors share a word (checked per
    // slice on ranges sorted by start, so large compiled programs bind in n log n).
    std::map<std::pair<int, int>, std::vector<std::tuple<std::int64_t, std::int64_t, std::size_t>>> used;
    for (const auto& t : program_.tensors) {
      BoundTensor b{t.name, t.dtype, t.vectors, t.slices, t.address, t.fill, t.loc};
      std::set<std::pair<int, int>> seen;
      for (const auto& s : t.slices) {
        if (s.index.value() < 0 || s.index.value() >= chip_.mem_slices_per_hemisphere)
          fail(t.loc, fmt::format("tensor '{}': slice {} does not exist (the chip has {} slices per hemisphere)", t.name,
                                  slice_name(s), chip_.mem_slices_per_hemisphere));
        if (!seen.insert({static_cast<int>(s.hemisphere), s.index.value()}).second)
          fail(t.loc, fmt::format("tensor '{}': slice {} listed twice", t.name, slice_name(s)));
      }
      if (static_cast<int>(t.slices.size()) > dtype_bytes(t.dtype))
        fail(t.loc, fmt::format("tensor '{}': {} slices for a {}-byte type; at most one slice per byte plane", t.name,
                                t.slices.size(), dtype_bytes(t.dtype)));
      if (t.address >= chip_.mem_slice_words)  // also keeps address + size from overflowing
        fail(t.loc, fmt::format("tensor '{}' starts at address {}, outside the slice's words [0, {})", t.name,
                                t.address, chip_.mem_slice_words));
      const std::int64_t end = t.address + b.words_per_slice();
      const auto elements = static_cast<double>(t.vectors) * chip_.lanes();
      if (t.fill.kind == TensorFill::Kind::Ramp && !std::isfinite(t.fill.first + t.fill.step * (elements - 1)))
        fail(t.loc, fmt::format("tensor '{}': fill=ramp:{}:{} passes the largest double before its last element",
                                t.name, t.fill.first, t.fill.step));
      if (end > chip_.mem_slice_words)
        fail(t.loc, fmt::format("tensor '{}' needs words [{}, {}) in each slice, but a slice has {} words", t.name,
                                t.address, end, chip_.mem_slice_words));
      for (const auto& s : t.slices)
        used[{static_cast<int>(s.hemisphere), s.index.value()}].emplace_back(t.address, end, out.tensors.size());
      out.tensors.push_back(std::move(b));
    }
    for (auto& [slice, ranges] : used) {
      std::sort(ranges.begin(), ranges.end());
      for (std::size_t i = 1; i < ranges.size(); ++i) {
        const auto& [start, stop, index] = ranges[i];
        const auto& previous = ranges[i - 1];
        if (start < std::get<1>(previous)) {
          // Report against the later-declared tensor, naming the earlier one.
          const std::size_t a = std::get<2>(previous), b = index;
          const auto& later = out.tensors[std::max(a, b)];
          const auto& earlier = out.tensors[std::min(a, b)];
          fail(later.loc, fmt::format("tensor '{}' overlaps tensor '{}' in slice {}", later.name, earlier.name,
                                      slice_name(SliceRef{static_cast<Hemisphere>(slice.first), SliceIndex(slice.second)})));
        }
      }
    }
    for (const auto& m : program_.lane_maps) {
      if (static_cast<int>(m.lanes.size()) != chip_.lanes() && static_cast<int>(m.lanes.size()) != chip_.lanes_per_superlane)
        fail(m.loc, fmt::format("lane map '{}' has {} lanes; expected {} (permute) or {} (distribute)", m.name,
                                m.lanes.size(), chip_.lanes(), chip_.lanes_per_superlane));
    }
    out.instruction_count = next_id_;
    return out;
  }

 private:
  const Program& program_;
  const ChipConfig& chip_;
  int next_id_ = 0;
  std::int64_t issued_ = 0;
  std::map<std::pair<int, std::int64_t>, Cycle> shift_waits_;
  std::map<std::pair<std::string, int>, std::pair<std::shared_ptr<const std::vector<int>>, Cycle>> maps_;
};

}  // namespace

BoundProgram bind_program(const Program& program, const ChipConfig& chip) { return Binder(program, chip).run(); }

}  // namespace lpusim
