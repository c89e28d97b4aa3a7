#include "arch/isa/isa.hpp"

#include <array>
#include <cassert>

namespace lpusim {

int dtype_bytes(DType t) {
  switch (t) {
    case DType::Int8: case DType::Fp8E4M3: case DType::Fp8E5M2: return 1;
    case DType::Int16: case DType::Fp16: return 2;
    case DType::Int32: case DType::Fp32: return 4;
    case DType::None: return 1;
  }
  return 1;
}

bool dtype_is_float(DType t) {
  return t == DType::Fp16 || t == DType::Fp32 || t == DType::Fp8E4M3 || t == DType::Fp8E5M2;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Fp16: return "fp16";
    case DType::Fp32: return "fp32";
    case DType::Fp8E4M3: return "fp8e4m3";
    case DType::Fp8E5M2: return "fp8e5m2";
    case DType::None: return "none";
  }
  return "none";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType t : {DType::Int8, DType::Int16, DType::Int32, DType::Fp16, DType::Fp32, DType::Fp8E4M3, DType::Fp8E5M2})
    if (name == dtype_name(t)) return t;
  return std::nullopt;
}

const char* unit_name(UnitKind u) {
  switch (u) {
    case UnitKind::Icu: return "icu";
    case UnitKind::Mem: return "mem";
    case UnitKind::Vxm: return "vxm";
    case UnitKind::Mxm: return "mxm";
    case UnitKind::Sxm: return "sxm";
    case UnitKind::C2c: return "c2c";
  }
  return "?";
}

namespace {

using K = OperandKind;
using G = StreamGroup;

OperandSpec dst(G g = G::ByType) { return {K::Stream, "destination stream", g}; }
OperandSpec src(G g = G::ByType) { return {K::Stream, "source stream", g}; }
OperandSpec integer(const char* role, bool optional = false) { return {K::Integer, role, G::ByType, optional}; }

std::vector<OpcodeInfo> build_table() {
  std::vector<OpcodeInfo> t;
  auto add = [&](Opcode op, UnitKind u, const char* m, TypeRule r, std::vector<OperandSpec> ops, const char* s) {
    t.push_back(OpcodeInfo{op, u, m, r, std::move(ops), s});
  };
  const auto I = UnitKind::Icu, M = UnitKind::Mem, V = UnitKind::Vxm, X = UnitKind::Mxm, S = UnitKind::Sxm,
             C = UnitKind::C2c;
  const auto none = TypeRule::NoType, any = TypeRule::AnyType, ints = TypeRule::IntOnly,
             floats = TypeRule::FloatOnly;

  add(Opcode::Nop, I, "nop", none, {integer("idle cycles")}, "idle the queue for n cycles");
  add(Opcode::Repeat, I, "repeat", none,
      {integer("repeat count"), integer("cycles between repeats"), integer("address stride", true)},
      "repeat the previous instruction n times, d cycles apart, adding the stride to its address");
  add(Opcode::Sync, I, "sync", none, {}, "park the queue until a notify");
  add(Opcode::Notify, I, "notify", none, {}, "release every queue parked at sync");
  add(Opcode::Config, I, "config", none, {{K::Name, "config key"}, integer("config value")},
      "set a queue register (vl: vector length in lanes, a multiple of the superlane width)");
  add(Opcode::Ifetch, I, "ifetch", none, {integer("instruction address")},
      "fetch instructions into the queue (programs are preloaded; costs its issue slot)");

  add(Opcode::Read, M, "read", none, {integer("address"), dst(G::Single)}, "SRAM word -> stream");
  add(Opcode::Write, M, "write", none, {integer("address"), src(G::Single)}, "stream -> SRAM word");
  add(Opcode::Gather, M, "gather", none, {dst(G::Single), {K::Stream, "address map stream", G::Pair}},
      "each lane reads the SRAM word at its own address (uint16 map) -> stream");
  add(Opcode::Scatter, M, "scatter", none, {src(G::Single), {K::Stream, "address map stream", G::Pair}},
      "each lane writes its byte to the SRAM word at its own address (uint16 map)");

  const std::vector<OperandSpec> unary{dst(), src()};
  add(Opcode::Mov, V, "mov", any, unary, "copy");
  add(Opcode::Neg, V, "neg", any, unary, "negate");
  add(Opcode::Abs, V, "abs", any, unary, "absolute value");
  add(Opcode::Relu, V, "relu", any, unary, "max(x, 0)");
  add(Opcode::Not, V, "not", ints, unary, "bitwise not");
  add(Opcode::Exp, V, "exp", floats, unary, "e^x");
  add(Opcode::Exp2, V, "exp2", floats, unary, "2^x");
  add(Opcode::Rsqrt, V, "rsqrt", floats, unary, "1/sqrt(x)");
  add(Opcode::Tanh, V, "tanh", floats, unary, "tanh(x); int16 is fixed point Q3.12 in, Q0.15 out");

  const std::vector<OperandSpec> binary{dst(), src(), {K::StreamOrImm, "second source (stream or #immediate)"}};
  add(Opcode::Add, V, "add", any, binary, "a + b (integers wrap)");
  add(Opcode::Sub, V, "sub", any, binary, "a - b (integers wrap)");
  add(Opcode::Mul, V, "mul", any, binary, "a * b (integers wrap)");
  add(Opcode::Max, V, "max", any, binary, "max(a, b)");
  add(Opcode::Min, V, "min", any, binary, "min(a, b)");
  add(Opcode::And, V, "and", ints, binary, "bitwise and");
  add(Opcode::Or, V, "or", ints, binary, "bitwise or");
  add(Opcode::Xor, V, "xor", ints, binary, "bitwise xor");
  add(Opcode::Shl, V, "shl", ints, binary, "shift left by b");
  add(Opcode::Shr, V, "shr", ints, binary, "arithmetic shift right by b");

  const std::vector<OperandSpec> compare{dst(G::Mask), src(), {K::StreamOrImm, "second source (stream or #immediate)"}};
  add(Opcode::CmpEq, V, "cmpeq", any, compare, "a == b -> int8 mask");
  add(Opcode::CmpNe, V, "cmpne", any, compare, "a != b -> int8 mask");
  add(Opcode::CmpLt, V, "cmplt", any, compare, "a < b -> int8 mask");
  add(Opcode::CmpLe, V, "cmple", any, compare, "a <= b -> int8 mask");
  add(Opcode::CmpGt, V, "cmpgt", any, compare, "a > b -> int8 mask");
  add(Opcode::CmpGe, V, "cmpge", any, compare, "a >= b -> int8 mask");
  add(Opcode::VSelect, V, "select", any,
      {dst(), {K::Stream, "mask stream", G::Mask}, src(), {K::StreamOrImm, "else source (stream or #immediate)"}},
      "mask ? a : b");
  add(Opcode::Cvt, V, "cvt", TypeRule::TwoTypes, {dst(), src()},
      "convert from the first type to the second (round to nearest even, saturate to integers)");

  add(Opcode::LoadWeights, X, "lw", any, {src(), integer("rows (one stream group each)", true)},
      "load weight rows from consecutive stream groups into the plane's weight buffer");
  add(Opcode::InstallWeights, X, "iw", none, {}, "install the weight buffer into the array");
  add(Opcode::ActivationBuffer, X, "abc", any, {src(), integer("accumulator slot", true)},
      "multiply one activation vector by the installed weights, adding into an accumulator slot");
  add(Opcode::Accumulate, X, "acc", any, {dst(), integer("accumulator slot", true)},
      "emit an accumulator slot onto streams and clear it");

  add(Opcode::Shift, S, "shift", any, {dst(), src(), integer("lanes (+ up, - down)")}, "shift lanes");
  add(Opcode::Permute, S, "permute", any, {dst(), src(), {K::Name, "lane map"}}, "any bijection of lanes");
  add(Opcode::Distribute, S, "distribute", any, {dst(), src(), {K::Name, "lane map"}},
      "rearrange lanes within each superlane");
  add(Opcode::Rotate, S, "rotate", any, {dst(), src(), integer("lanes")}, "rotate lanes");
  add(Opcode::Transpose, S, "transpose", any, {dst(), src()}, "16 x 16 transpose over 16 streams");
  add(Opcode::SSelect, S, "select", any,
      {dst(), {K::Stream, "mask stream", G::Mask}, src(), src()}, "per-lane choice of two streams");

  add(Opcode::Send, C, "send", none, {integer("link"), src(G::Single), integer("destination chip", true)},
      "send one vector on a link (to the destination chip, when the link's far end forwards it)");
  add(Opcode::Receive, C, "receive", none, {integer("link"), dst(G::Single)}, "receive one vector from a link");
  add(Opcode::Deskew, C, "deskew", none, {integer("link")}, "realign to the link's counter");
  (void)ints;
  return t;
}

const std::vector<OpcodeInfo>& table() {
  static const std::vector<OpcodeInfo> t = build_table();
  return t;
}

}  // namespace

const std::vector<OpcodeInfo>& all_opcodes() { return table(); }

const OpcodeInfo& opcode_info(Opcode op) {
  const auto& t = table();
  const auto index = static_cast<std::size_t>(op);
  assert(index < t.size() && t[index].opcode == op);
  return t[index];
}

const OpcodeInfo* find_opcode(UnitKind unit, std::string_view mnemonic) {
  for (const auto& info : table()) {
    if (info.mnemonic == mnemonic && (info.unit == unit || info.unit == UnitKind::Icu)) return &info;
  }
  return nullptr;
}

std::string timing_key(Opcode op) {
  const auto& info = opcode_info(op);
  return std::string(unit_name(info.unit)) + "." + info.mnemonic;
}

}  // namespace lpusim
