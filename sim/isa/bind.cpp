#include "isa/bind.hpp"

#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
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

  StreamId stream(const Operand& op, int group, const char* role) const {
    const int index = op.stream.index.value();
    if (index + group > chip_.streams_per_direction)
      fail(op.loc, fmt::format("{} s{}{} needs streams {}..{}, but the chip has {} per direction", role, index,
                               to_string(op.stream.direction), index, index + group - 1, chip_.streams_per_direction));
    if (group > 1 && index % group != 0)
      fail(op.loc, fmt::format("{} s{}{} starts a group of {} streams, which must start at a multiple of {}", role,
                               index, to_string(op.stream.direction), group, group));
    return op.stream;
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

  BoundInstruction bind(const Instruction& ins, const BoundInstruction* previous) {
    const auto& info = opcode_info(ins.opcode);
    BoundInstruction b;
    b.id = next_id_++;
    b.opcode = ins.opcode;
    b.dtype = ins.dtype;
    b.dtype_to = ins.dtype_to;
    b.loc = ins.loc;
    b.text = print_instruction(ins);
    if (ins.opcode != Opcode::Nop && ins.opcode != Opcode::Repeat) b.timing = chip_.timing_of(ins.opcode);
    if (info.unit == UnitKind::Mxm || info.unit == UnitKind::Sxm || info.unit == UnitKind::C2c)
      fail(ins.loc, fmt::format("'{}' is a {} instruction: it parses, but this version of lpusim does not simulate "
                                "the {} yet", info.mnemonic, unit_name(info.unit), unit_name(info.unit)));
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
        if (b.stride != 0 && !addressed) fail(ops[2].loc, "an address stride needs a previous read or write");
        if (addressed) {
          const auto last = previous->address + b.stride * b.integer;
          if (b.stride < -(1LL << 32) || b.stride > (1LL << 32) || last < 0 || last >= chip_.mem_slice_words)
            fail(ops.size() > 2 ? ops[2].loc : ins.loc,
                 fmt::format("the last repeat reaches address {}, outside the slice's words [0, {})", last, chip_.mem_slice_words));
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
      for (const auto& item : block.items) {
        if (item.kind == QueueItem::Kind::Label) {
          if (!labels.insert(item.text).second) fail(item.loc, fmt::format("label '{}' defined twice in {}", item.text, q.name));
          continue;
        }
        if (item.kind != QueueItem::Kind::Instruction) continue;
        const BoundInstruction* previous = repeatable ? &q.instructions[*repeatable] : nullptr;
        q.instructions.push_back(bind(item.instruction, previous));
        const Opcode op = q.instructions.back().opcode;
        if (op == Opcode::Repeat) continue;
        if (opcode_info(op).unit == UnitKind::Icu) repeatable.reset();
        else repeatable = q.instructions.size() - 1;
      }
      out.queues.push_back(std::move(q));
    }
    // Tensors: slices exist, ranges fit, and no two tensors share a word.
    std::map<std::pair<int, int>, std::vector<std::pair<std::int64_t, std::string>>> used;
    for (const auto& t : program_.tensors) {
      BoundTensor b{t.name, t.dtype, t.vectors, t.slices, t.address, t.fill, t.loc};
      std::set<std::pair<int, int>> seen;
      for (const auto& s : t.slices) {
        if (s.index.value() >= chip_.mem_slices_per_hemisphere)
          fail(t.loc, fmt::format("tensor '{}': slice {} does not exist (the chip has {} slices per hemisphere)", t.name,
                                  slice_name(s), chip_.mem_slices_per_hemisphere));
        if (!seen.insert({static_cast<int>(s.hemisphere), s.index.value()}).second)
          fail(t.loc, fmt::format("tensor '{}': slice {} listed twice", t.name, slice_name(s)));
      }
      if (static_cast<int>(t.slices.size()) > dtype_bytes(t.dtype))
        fail(t.loc, fmt::format("tensor '{}': {} slices for a {}-byte type; at most one slice per byte plane", t.name,
                                t.slices.size(), dtype_bytes(t.dtype)));
      const std::int64_t end = t.address + b.words_per_slice();
      if (end > chip_.mem_slice_words)
        fail(t.loc, fmt::format("tensor '{}' needs words [{}, {}) in each slice, but a slice has {} words", t.name,
                                t.address, end, chip_.mem_slice_words));
      for (const auto& s : t.slices) {
        auto& ranges = used[{static_cast<int>(s.hemisphere), s.index.value()}];
        for (const auto& [other_start, other_name] : ranges) {
          const auto* other = out.find_tensor(other_name);
          if (t.address < other_start + other->words_per_slice() && other_start < end)
            fail(t.loc, fmt::format("tensor '{}' overlaps tensor '{}' in slice {}", t.name, other_name, slice_name(s)));
        }
        ranges.emplace_back(t.address, t.name);
      }
      out.tensors.push_back(std::move(b));
    }
    for (const auto& m : program_.lane_maps) {
      if (static_cast<int>(m.lanes.size()) != chip_.lanes())
        fail(m.loc, fmt::format("lane map '{}' has {} lanes, the chip has {}", m.name, m.lanes.size(), chip_.lanes()));
      for (int lane : m.lanes)
        if (lane >= chip_.lanes()) fail(m.loc, fmt::format("lane map '{}' names lane {} of {}", m.name, lane, chip_.lanes()));
    }
    out.instruction_count = next_id_;
    return out;
  }

 private:
  const Program& program_;
  const ChipConfig& chip_;
  int next_id_ = 0;
};

}  // namespace

BoundProgram bind_program(const Program& program, const ChipConfig& chip) { return Binder(program, chip).run(); }

}  // namespace lpusim
