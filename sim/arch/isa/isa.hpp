#pragma once
// The TSP instruction set as lpusim models it: every opcode of the reference for the
// ICU, MEM, VXM, MXM, SXM and C2C, the data types, and each opcode's operand signature.
// The table in isa.cpp is the single source for the parser, the printer and the docs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lpusim {

/// fp8e4m3 and fp8e5m2 are the OCP 8-bit floats (sim/numerics/fp8.hpp): weight and
/// activation types of the MXM on chips with an fp8 rate (mxm.fp8_rate_divisor).
enum class DType : std::uint8_t { None, Int8, Int16, Int32, Fp16, Fp32, Fp8E4M3, Fp8E5M2 };

/// Bytes per element; also the number of streams in the type's stream group.
int dtype_bytes(DType t);
bool dtype_is_float(DType t);
const char* dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view name);

enum class UnitKind : std::uint8_t { Icu, Mem, Vxm, Mxm, Sxm, C2c };
const char* unit_name(UnitKind u);

enum class Opcode : std::uint16_t {
  // ICU: valid on every queue; they steer the queue itself.
  Nop, Repeat, Sync, Notify, Config, Ifetch,
  // MEM
  Read, Write, Gather, Scatter,
  // VXM unary
  Mov, Neg, Abs, Relu, Not, Exp, Exp2, Rsqrt, Tanh,
  // VXM binary
  Add, Sub, Mul, Max, Min, And, Or, Xor, Shl, Shr,
  // VXM compare (result: int8 mask of 0 or 1) and select
  CmpEq, CmpNe, CmpLt, CmpLe, CmpGt, CmpGe, VSelect,
  // VXM type conversion
  Cvt,
  // MXM
  LoadWeights, InstallWeights, ActivationBuffer, Accumulate,
  // SXM
  Shift, Permute, Distribute, Rotate, Transpose, SSelect,
  // C2C
  Send, Receive, Deskew,
  Count_
};

/// True for the ICU's opcodes (they come first in Opcode): the same as
/// `opcode_info(op).unit == UnitKind::Icu`, without a table lookup (tests/core/test_isa.cpp).
constexpr bool is_icu_opcode(Opcode op) { return op <= Opcode::Ifetch; }

/// What an operand position accepts.
enum class OperandKind : std::uint8_t {
  Stream,          ///< a stream register, e.g. s12e (group size from the dtype)
  StreamOrImm,     ///< a stream or an immediate scalar broadcast to all lanes (#1.5)
  Integer,         ///< a plain integer: count, address, lane amount, link number
  Name,            ///< an identifier: a config key, a lane map, a label
};

enum class StreamGroup : std::uint8_t {
  ByType,   ///< group size = bytes of the instruction's dtype
  Single,   ///< one stream (a byte plane)
  Pair,     ///< two streams: a 16-bit address map
  Mask,     ///< one stream holding an int8 0/1 mask
};

struct OperandSpec {
  OperandKind kind;
  const char* role;  ///< shown in errors: "destination", "address", ...
  StreamGroup group = StreamGroup::ByType;
  bool optional = false;
};

enum class TypeRule : std::uint8_t {
  NoType,      ///< no .dtype suffix allowed
  AnyType,     ///< one dtype suffix required
  IntOnly,     ///< one integer dtype suffix required
  FloatOnly,   ///< one float dtype suffix (tanh also takes int16, see isa.cpp)
  TwoTypes,    ///< cvt.from.to
};

struct OpcodeInfo {
  Opcode opcode;
  UnitKind unit;
  const char* mnemonic;
  TypeRule types;
  std::vector<OperandSpec> operands;
  const char* summary;
};

const OpcodeInfo& opcode_info(Opcode op);
/// Looks up a mnemonic for a unit; ICU mnemonics are found for every unit.
const OpcodeInfo* find_opcode(UnitKind unit, std::string_view mnemonic);
const std::vector<OpcodeInfo>& all_opcodes();
/// The key of this opcode in the chip config's timing table, e.g. "mem.read".
std::string timing_key(Opcode op);

}  // namespace lpusim
