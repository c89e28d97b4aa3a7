// Canonical printer for lpusim assembly and structural equality of programs.
#include <tuple>

#include <fmt/format.h>

#include "arch/isa/program.hpp"

namespace lpusim {

bool operator==(const Operand& a, const Operand& b) {
  if (a.form != b.form) return false;
  switch (a.form) {
    case OperandForm::Stream: return a.stream == b.stream;
    case OperandForm::Integer: return a.integer == b.integer && a.hex == b.hex;
    case OperandForm::Immediate: return a.immediate == b.immediate;
    case OperandForm::Name: return a.name == b.name;
  }
  return false;
}

bool operator==(const Instruction& a, const Instruction& b) {
  return std::tie(a.opcode, a.dtype, a.dtype_to, a.operands, a.comment) ==
         std::tie(b.opcode, b.dtype, b.dtype_to, b.operands, b.comment);
}

bool operator==(const QueueId& a, const QueueId& b) {
  return std::tie(a.unit, a.hemisphere, a.index) == std::tie(b.unit, b.hemisphere, b.index);
}

bool operator<(const QueueId& a, const QueueId& b) {
  return std::tie(a.unit, a.hemisphere, a.index) < std::tie(b.unit, b.hemisphere, b.index);
}

bool operator==(const QueueItem& a, const QueueItem& b) {
  if (a.kind != b.kind) return false;
  return a.kind == QueueItem::Kind::Instruction ? a.instruction == b.instruction : a.text == b.text;
}

bool operator==(const QueueBlock& a, const QueueBlock& b) {
  return std::tie(a.id, a.comment, a.items) == std::tie(b.id, b.comment, b.items);
}

bool operator==(const SliceRef& a, const SliceRef& b) {
  return a.hemisphere == b.hemisphere && a.index == b.index;
}

bool operator==(const TensorFill& a, const TensorFill& b) {
  return std::tie(a.kind, a.first, a.step, a.lanes) == std::tie(b.kind, b.first, b.step, b.lanes);
}

bool operator==(const TensorDecl& a, const TensorDecl& b) {
  return std::tie(a.name, a.dtype, a.vectors, a.slices, a.address, a.hex, a.fill, a.comment) ==
         std::tie(b.name, b.dtype, b.vectors, b.slices, b.address, b.hex, b.fill, b.comment);
}

bool operator==(const LaneMap& a, const LaneMap& b) {
  return std::tie(a.name, a.lanes, a.comment) == std::tie(b.name, b.lanes, b.comment);
}

bool operator==(const Program& a, const Program& b) {
  if (a.order.size() != b.order.size()) return false;
  for (std::size_t i = 0; i < a.order.size(); ++i)
    if (a.order[i].kind != b.order[i].kind || a.order[i].index != b.order[i].index) return false;
  return std::tie(a.comments, a.tensors, a.lane_maps, a.queues) ==
         std::tie(b.comments, b.tensors, b.lane_maps, b.queues);
}

std::string queue_name(const QueueId& q) {
  switch (q.unit) {
    case UnitKind::Vxm: return fmt::format("vxm.alu{}", q.index);
    case UnitKind::C2c: return fmt::format("c2c.{}", q.index);
    default: return fmt::format("{}.{}{}", unit_name(q.unit), to_string(q.hemisphere), q.index);
  }
}

std::string slice_name(const SliceRef& s) { return fmt::format("{}{}", to_string(s.hemisphere), s.index.value()); }

namespace {
std::string print_integer(std::int64_t v, bool hex) {
  if (!hex) return fmt::format("{}", v);
  return v < 0 ? fmt::format("-0x{:x}", -v) : fmt::format("0x{:x}", v);
}

std::string with_comment(std::string text, const std::string& comment) {
  if (comment.empty()) return text;
  if (text.size() < 32) text.resize(32, ' ');
  else text += ' ';
  return text + "; " + comment;
}

std::string print_comment_line(const std::string& indent, const std::string& comment) {
  return comment.empty() ? indent + ";" : indent + "; " + comment;
}
}  // namespace

std::string print_operand(const Operand& op) {
  switch (op.form) {
    case OperandForm::Stream:
      return fmt::format("s{}{}", op.stream.index.value(), to_string(op.stream.direction));
    case OperandForm::Integer: return print_integer(op.integer, op.hex);
    case OperandForm::Immediate:
      return op.spelling.empty() ? fmt::format("#{}", op.immediate) : "#" + op.spelling;
    case OperandForm::Name: return op.name;
  }
  return "?";
}

std::string print_instruction(const Instruction& ins) {
  std::string text = opcode_info(ins.opcode).mnemonic;
  if (ins.dtype != DType::None) text += std::string(".") + dtype_name(ins.dtype);
  if (ins.dtype_to != DType::None) text += std::string(".") + dtype_name(ins.dtype_to);
  for (std::size_t i = 0; i < ins.operands.size(); ++i)
    text += (i == 0 ? " " : ", ") + print_operand(ins.operands[i]);
  return text;
}

std::string print_program(const Program& program) {
  std::string out;
  bool previous_was_queue = false;
  for (const auto& item : program.order) {
    switch (item.kind) {
      case TopItem::Kind::Comment:
        out += print_comment_line("", program.comments[item.index]) + "\n";
        break;
      case TopItem::Kind::Tensor: {
        const auto& t = program.tensors[item.index];
        std::string line = fmt::format(".tensor {} {} {} ", t.name, dtype_name(t.dtype), t.vectors);
        for (std::size_t i = 0; i < t.slices.size(); ++i) line += (i ? "," : "") + slice_name(t.slices[i]);
        line += ":" + print_integer(t.address, t.hex);
        switch (t.fill.kind) {
          case TensorFill::Kind::None: break;
          case TensorFill::Kind::Const: line += fmt::format(" fill=const:{}", t.fill.first); break;
          case TensorFill::Kind::Ramp: line += fmt::format(" fill=ramp:{}:{}", t.fill.first, t.fill.step); break;
          case TensorFill::Kind::Random:
            line += fmt::format(" fill=random:{}", t.fill.first);
            if (t.fill.lanes > 0) line += fmt::format(":{}", t.fill.lanes);
            break;
        }
        out += with_comment(line, t.comment) + "\n";
        break;
      }
      case TopItem::Kind::LaneMap: {
        const auto& m = program.lane_maps[item.index];
        std::string line = ".lanemap " + m.name;
        for (int lane : m.lanes) line += fmt::format(" {}", lane);
        out += with_comment(line, m.comment) + "\n";
        break;
      }
      case TopItem::Kind::Queue: {
        const auto& q = program.queues[item.index];
        if (!out.empty()) out += "\n";
        out += with_comment(".queue " + queue_name(q.id), q.comment) + "\n";
        for (const auto& qi : q.items) {
          switch (qi.kind) {
            case QueueItem::Kind::Comment: out += print_comment_line("    ", qi.text) + "\n"; break;
            case QueueItem::Kind::Label: out += qi.text + ":\n"; break;
            case QueueItem::Kind::Instruction:
              out += with_comment("    " + print_instruction(qi.instruction), qi.instruction.comment) + "\n";
              break;
          }
        }
        break;
      }
    }
    previous_was_queue = item.kind == TopItem::Kind::Queue;
  }
  (void)previous_was_queue;
  return out;
}

}  // namespace lpusim
