#pragma once
// A TSP program as written in lpusim assembly: tensors placed in MEM, lane maps, and one
// instruction block per queue. This is the structure the parser builds and the printer
// prints; the simulator binds it to a chip configuration (see sim/engine/exec/bind.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "arch/core/types.hpp"
#include "arch/isa/isa.hpp"

namespace lpusim {

struct SourceLoc {
  int line = 0;
  int column = 0;
};

enum class OperandForm : std::uint8_t { Stream, Integer, Immediate, Name };

struct Operand {
  OperandForm form = OperandForm::Integer;
  StreamId stream{};
  std::int64_t integer = 0;
  bool hex = false;          ///< printed back in hexadecimal, as written
  double immediate = 0.0;    ///< value of a #immediate
  std::string spelling;      ///< the immediate as written (printed back as is; not compared)
  std::string name;
  SourceLoc loc;
};
bool operator==(const Operand& a, const Operand& b);

struct Instruction {
  Opcode opcode = Opcode::Nop;
  DType dtype = DType::None;
  DType dtype_to = DType::None;  ///< second type of cvt.from.to
  std::vector<Operand> operands;
  std::string comment;           ///< trailing comment, without the ';'
  SourceLoc loc;
};
bool operator==(const Instruction& a, const Instruction& b);

/// The instruction queue a block feeds: e.g. mem.w12, vxm.alu3, mxm.e4, sxm.w0, c2c.7.
struct QueueId {
  UnitKind unit = UnitKind::Mem;
  Hemisphere hemisphere = Hemisphere::West;  ///< unused for vxm and c2c
  int index = 0;
};
bool operator==(const QueueId& a, const QueueId& b);
bool operator<(const QueueId& a, const QueueId& b);
std::string queue_name(const QueueId& q);

struct QueueItem {
  enum class Kind : std::uint8_t { Instruction, Label, Comment };
  Kind kind = Kind::Instruction;
  Instruction instruction;
  std::string text;  ///< label name or comment text
  SourceLoc loc;
};
bool operator==(const QueueItem& a, const QueueItem& b);

struct QueueBlock {
  QueueId id;
  std::string comment;
  SourceLoc loc;
  std::vector<QueueItem> items;
};
bool operator==(const QueueBlock& a, const QueueBlock& b);

struct SliceRef {
  Hemisphere hemisphere = Hemisphere::West;
  SliceIndex index{0};
};
bool operator==(const SliceRef& a, const SliceRef& b);
std::string slice_name(const SliceRef& s);

struct TensorFill {
  enum class Kind : std::uint8_t { None, Const, Ramp, Random };
  Kind kind = Kind::None;
  double first = 0.0;  ///< const value, ramp start, or random seed
  double step = 0.0;   ///< ramp step
  int lanes = 0;       ///< random: only the first `lanes` lanes of each vector (0: all); the rest are 0
};
bool operator==(const TensorFill& a, const TensorFill& b);

/// A named tensor in MEM: `vectors` vectors of one element per lane. Its byte planes are
/// dealt round-robin over `slices`; plane p of vector v sits in slice p % n at address
/// address + v * ceil(bytes / n) + p / n (n = slices.size()).
struct TensorDecl {
  std::string name;
  DType dtype = DType::Int8;
  std::int64_t vectors = 1;
  std::vector<SliceRef> slices;
  std::int64_t address = 0;
  bool hex = false;
  TensorFill fill;
  std::string comment;
  SourceLoc loc;
};
bool operator==(const TensorDecl& a, const TensorDecl& b);

/// A named lane map for permute/distribute: lanes[i] is the source lane of output lane i.
struct LaneMap {
  std::string name;
  std::vector<int> lanes;
  std::string comment;
  SourceLoc loc;
};
bool operator==(const LaneMap& a, const LaneMap& b);

struct TopItem {
  enum class Kind : std::uint8_t { Comment, Tensor, LaneMap, Queue };
  Kind kind = Kind::Comment;
  std::size_t index = 0;  ///< into the matching vector of Program
};

struct Program {
  std::string file;  ///< where it was read from, for error messages
  std::vector<TopItem> order;
  std::vector<std::string> comments;
  std::vector<TensorDecl> tensors;
  std::vector<LaneMap> lane_maps;
  std::vector<QueueBlock> queues;
};
/// Structural equality (source locations and the file name are not compared).
bool operator==(const Program& a, const Program& b);
inline bool operator!=(const Program& a, const Program& b) { return !(a == b); }

/// Parses assembly text; errors are InputError "file:line:column: expected ...".
/// `max_instructions` is limits::kMaxProgramInstructions (tests pass a smaller one).
Program parse_program(const std::string& text, const std::string& file, std::int64_t max_instructions = std::int64_t{1} << 24);
/// Reads and parses an assembly file.
Program load_program(const std::string& path);
/// Prints the canonical text; parse_program(print_program(p)) == p.
std::string print_program(const Program& program);
std::string print_instruction(const Instruction& instruction);
std::string print_operand(const Operand& operand);

}  // namespace lpusim
