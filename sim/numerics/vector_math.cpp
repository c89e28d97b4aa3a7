#include "numerics/vector_math.hpp"

#include <type_traits>

#include <cmath>
#include <cstring>
#include <limits>

#include <Eigen/Core>

#include "numerics/fp8.hpp"

namespace lpusim {
namespace {

constexpr int kMaxLanes = 65536;

std::int64_t wrap(DType t, std::int64_t v) {
  switch (t) {
    case DType::Int8: return static_cast<std::int8_t>(static_cast<std::uint8_t>(v & 0xff));
    case DType::Int16: return static_cast<std::int16_t>(static_cast<std::uint16_t>(v & 0xffff));
    case DType::Int32: return static_cast<std::int32_t>(static_cast<std::uint32_t>(v & 0xffffffff));
    default: return v;
  }
}

std::int64_t int_min(DType t) {
  return t == DType::Int8 ? -128 : t == DType::Int16 ? -32768 : std::numeric_limits<std::int32_t>::min();
}
std::int64_t int_max(DType t) {
  return t == DType::Int8 ? 127 : t == DType::Int16 ? 32767 : std::numeric_limits<std::int32_t>::max();
}

std::int64_t saturate_round(DType t, double v) {
  if (std::isnan(v)) return 0;
  const double r = std::nearbyint(v);  // default rounding mode: nearest even
  if (r <= static_cast<double>(int_min(t))) return int_min(t);
  if (r >= static_cast<double>(int_max(t))) return int_max(t);
  return static_cast<std::int64_t>(r);
}

double round_float(DType t, double v) {
  if (t == DType::Fp32) return static_cast<double>(static_cast<float>(v));
  if (t == DType::Fp8E4M3) return round_to_fp8(static_cast<float>(v), Fp8Format::E4M3);
  if (t == DType::Fp8E5M2) return round_to_fp8(static_cast<float>(v), Fp8Format::E5M2);
  return static_cast<double>(static_cast<float>(Eigen::half(static_cast<float>(v))));
}

/// Loads lane i of a plane group as int64 (integers) or double (floats).
inline std::uint32_t load_bits(const PlaneGroup& g, int i) {
  std::uint32_t bits = 0;
  for (int b = 0; b < g.count; ++b) bits |= static_cast<std::uint32_t>(g.planes[b][i]) << (8 * b);
  return bits;
}

inline void store_bits(const MutablePlaneGroup& g, int i, std::uint32_t bits) {
  for (int b = 0; b < g.count; ++b) g.planes[b][i] = static_cast<std::uint8_t>(bits >> (8 * b));
}

double bits_to_value(DType t, std::uint32_t bits) {
  switch (t) {
    case DType::Int8: return static_cast<std::int8_t>(bits & 0xff);
    case DType::Int16: return static_cast<std::int16_t>(bits & 0xffff);
    case DType::Int32: return static_cast<std::int32_t>(bits);
    case DType::Fp16: {
      Eigen::half h;
      h.x = static_cast<std::uint16_t>(bits & 0xffff);
      return static_cast<double>(static_cast<float>(h));
    }
    case DType::Fp32: {
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::Fp8E4M3: return decode_fp8(static_cast<std::uint8_t>(bits & 0xff), Fp8Format::E4M3);
    case DType::Fp8E5M2: return decode_fp8(static_cast<std::uint8_t>(bits & 0xff), Fp8Format::E5M2);
    case DType::None: break;
  }
  return 0;
}

std::int64_t bits_to_int(DType t, std::uint32_t bits) {
  switch (t) {
    case DType::Int8: return static_cast<std::int8_t>(bits & 0xff);
    case DType::Int16: return static_cast<std::int16_t>(bits & 0xffff);
    default: return static_cast<std::int32_t>(bits);
  }
}

std::uint32_t int_to_bits(DType t, std::int64_t v) {
  const auto w = wrap(t, v);
  return static_cast<std::uint32_t>(w) & (t == DType::Int8 ? 0xffu : t == DType::Int16 ? 0xffffu : 0xffffffffu);
}

std::uint32_t float_to_bits(DType t, double v) {
  if (t == DType::Fp32) {
    const float f = static_cast<float>(v);
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return bits;
  }
  if (t == DType::Fp8E4M3) return encode_fp8(v, Fp8Format::E4M3);
  if (t == DType::Fp8E5M2) return encode_fp8(v, Fp8Format::E5M2);
  return Eigen::half(static_cast<float>(v)).x;
}

/// Converts a value of type `from` to the bits of type `to` (cvt semantics).
std::uint32_t convert_bits(DType from, DType to, double v) {
  if (dtype_is_float(to)) return float_to_bits(to, v);
  if (dtype_is_float(from)) return int_to_bits(to, saturate_round(to, v));
  // int -> int: saturate when narrowing.
  const auto x = static_cast<std::int64_t>(v);
  return int_to_bits(to, std::min(std::max(x, int_min(to)), int_max(to)));
}

struct IntBinary {
  Opcode op;
  DType t;
  std::int64_t operator()(std::int64_t a, std::int64_t b) const {
    const int bits = dtype_bytes(t) * 8;
    switch (op) {
      case Opcode::Add: return wrap(t, a + b);
      case Opcode::Sub: return wrap(t, a - b);
      case Opcode::Mul: return wrap(t, a * b);
      case Opcode::Max: return std::max(a, b);
      case Opcode::Min: return std::min(a, b);
      case Opcode::And: return a & b;
      case Opcode::Or: return a | b;
      case Opcode::Xor: return a ^ b;
      case Opcode::Shl: return wrap(t, static_cast<std::int64_t>(static_cast<std::uint64_t>(a) << (b & (bits - 1))));
      case Opcode::Shr: return a >> (b & (bits - 1));
      default: return 0;
    }
  }
};

double float_binary(Opcode op, double a, double b) {
  switch (op) {
    case Opcode::Add: return a + b;
    case Opcode::Sub: return a - b;
    case Opcode::Mul: return a * b;
    case Opcode::Max: return std::fmax(a, b);
    case Opcode::Min: return std::fmin(a, b);
    default: return 0;
  }
}

bool compare(Opcode op, double a, double b) {
  switch (op) {
    case Opcode::CmpEq: return a == b;
    case Opcode::CmpNe: return a != b;
    case Opcode::CmpLt: return a < b;
    case Opcode::CmpLe: return a <= b;
    case Opcode::CmpGt: return a > b;
    case Opcode::CmpGe: return a >= b;
    default: return false;
  }
}

double float_unary(Opcode op, double a) {
  switch (op) {
    case Opcode::Mov: return a;
    case Opcode::Neg: return -a;
    case Opcode::Abs: return std::fabs(a);
    case Opcode::Relu: return a > 0 ? a : 0.0;
    case Opcode::Exp: return std::exp(a);
    case Opcode::Exp2: return std::exp2(a);
    case Opcode::Rsqrt: return 1.0 / std::sqrt(a);
    case Opcode::Tanh: return std::tanh(a);
    default: return 0;
  }
}

std::int64_t int_unary(Opcode op, DType t, std::int64_t a) {
  switch (op) {
    case Opcode::Mov: return a;
    case Opcode::Neg: return wrap(t, -a);
    case Opcode::Abs: return wrap(t, a < 0 ? -a : a);
    case Opcode::Relu: return a > 0 ? a : 0;
    case Opcode::Not: return ~a;
    case Opcode::Tanh: {
      // int16 tanh: input Q3.12 (x / 4096), output Q0.15 (y * 32768), saturated.
      const double y = std::tanh(static_cast<double>(a) / 4096.0) * 32768.0;
      return saturate_round(DType::Int16, y);
    }
    default: return 0;
  }
}

}  // namespace

namespace {
// Fast paths: the opcode and type are resolved once per instruction, not once per lane.
// They compute exactly what the generic loops below compute.
template <typename T>
inline T load_lane(const PlaneGroup& g, int i) {
  using U = std::make_unsigned_t<T>;
  U bits = 0;
  for (std::size_t b = 0; b < sizeof(T); ++b) bits = static_cast<U>(bits | (static_cast<U>(g.planes[b][i]) << (8 * b)));
  return static_cast<T>(bits);
}
template <typename T>
inline void store_lane(const MutablePlaneGroup& g, int i, T v) {
  using U = std::make_unsigned_t<T>;
  const auto bits = static_cast<U>(v);
  for (std::size_t b = 0; b < sizeof(T); ++b) g.planes[b][i] = static_cast<std::uint8_t>(bits >> (8 * b));
}
template <typename T, typename F>
void int_binary_lanes(int lanes, const PlaneGroup& a, const SecondOperand& b, const MutablePlaneGroup& out, F f) {
  using U = std::make_unsigned_t<T>;
  const auto imm = static_cast<std::int64_t>(b.immediate);
  if (sizeof(T) == 1) {  // one plane: plain byte loops the compiler vectorises
    const std::uint8_t* pa = a.planes[0];
    const std::uint8_t* pb = b.group.planes[0];
    std::uint8_t* po = out.planes[0];
    if (b.is_immediate) {
      for (int i = 0; i < lanes; ++i)
        po[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(f(static_cast<std::int8_t>(pa[i]), imm)));
    } else {
      for (int i = 0; i < lanes; ++i)
        po[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(
            f(static_cast<std::int8_t>(pa[i]), static_cast<std::int8_t>(pb[i]))));
    }
    return;
  }
  for (int i = 0; i < lanes; ++i) {
    const std::int64_t x = load_lane<T>(a, i);
    const std::int64_t y = b.is_immediate ? imm : static_cast<std::int64_t>(load_lane<T>(b.group, i));
    store_lane<T>(out, i, static_cast<T>(static_cast<U>(static_cast<std::uint64_t>(f(x, y)))));  // wraps
  }
}
template <typename T>
bool int_binary_fast(Opcode op, int lanes, const PlaneGroup& a, const SecondOperand& b, const MutablePlaneGroup& out) {
  constexpr std::int64_t mask = sizeof(T) * 8 - 1;
  switch (op) {
    case Opcode::Add: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x + y; }); return true;
    case Opcode::Sub: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x - y; }); return true;
    case Opcode::Mul: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x * y; }); return true;
    case Opcode::Max: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return std::max(x, y); }); return true;
    case Opcode::Min: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return std::min(x, y); }); return true;
    case Opcode::And: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x & y; }); return true;
    case Opcode::Or: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x | y; }); return true;
    case Opcode::Xor: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x ^ y; }); return true;
    case Opcode::Shl:
      int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) {
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(x) << (y & mask));
      });
      return true;
    case Opcode::Shr: int_binary_lanes<T>(lanes, a, b, out, [](std::int64_t x, std::int64_t y) { return x >> (y & mask); }); return true;
    default: return false;
  }
}
template <typename F>
void fp32_binary_lanes(int lanes, const PlaneGroup& a, const SecondOperand& b, const MutablePlaneGroup& out, F f) {
  for (int i = 0; i < lanes; ++i) {
    const auto xb = load_lane<std::uint32_t>(a, i);
    float xf;
    std::memcpy(&xf, &xb, 4);
    double y = b.immediate;
    if (!b.is_immediate) {
      const auto yb = load_lane<std::uint32_t>(b.group, i);
      float yf;
      std::memcpy(&yf, &yb, 4);
      y = yf;
    }
    const auto r = static_cast<float>(f(static_cast<double>(xf), y));
    std::uint32_t rb;
    std::memcpy(&rb, &r, 4);
    store_lane<std::uint32_t>(out, i, rb);
  }
}
bool fp32_binary_fast(Opcode op, int lanes, const PlaneGroup& a, const SecondOperand& b, const MutablePlaneGroup& out) {
  switch (op) {
    case Opcode::Add: fp32_binary_lanes(lanes, a, b, out, [](double x, double y) { return x + y; }); return true;
    case Opcode::Sub: fp32_binary_lanes(lanes, a, b, out, [](double x, double y) { return x - y; }); return true;
    case Opcode::Mul: fp32_binary_lanes(lanes, a, b, out, [](double x, double y) { return x * y; }); return true;
    case Opcode::Max: fp32_binary_lanes(lanes, a, b, out, [](double x, double y) { return std::fmax(x, y); }); return true;
    case Opcode::Min: fp32_binary_lanes(lanes, a, b, out, [](double x, double y) { return std::fmin(x, y); }); return true;
    default: return false;
  }
}
}  // namespace

void vxm_compute(Opcode op, DType type, DType type_to, int lanes, const PlaneGroup& a, const SecondOperand& b,
                 const PlaneGroup& mask, const MutablePlaneGroup& out) {
  if (lanes > kMaxLanes) lanes = kMaxLanes;
  const bool is_float = dtype_is_float(type);
  switch (op) {
    case Opcode::Cvt:
      for (int i = 0; i < lanes; ++i) store_bits(out, i, convert_bits(type, type_to, bits_to_value(type, load_bits(a, i))));
      return;
    case Opcode::CmpEq: case Opcode::CmpNe: case Opcode::CmpLt: case Opcode::CmpLe: case Opcode::CmpGt:
    case Opcode::CmpGe:
      for (int i = 0; i < lanes; ++i) {
        const double x = bits_to_value(type, load_bits(a, i));
        const double y = b.is_immediate ? b.immediate : bits_to_value(type, load_bits(b.group, i));
        out.planes[0][i] = compare(op, x, y) ? 1 : 0;
      }
      return;
    case Opcode::VSelect:
      for (int i = 0; i < lanes; ++i) {
        std::uint32_t bits;
        if (mask.planes[0][i] != 0) bits = load_bits(a, i);
        else bits = b.is_immediate ? (is_float ? float_to_bits(type, b.immediate)
                                               : int_to_bits(type, static_cast<std::int64_t>(b.immediate)))
                                   : load_bits(b.group, i);
        store_bits(out, i, bits);
      }
      return;
    case Opcode::Mov: case Opcode::Neg: case Opcode::Abs: case Opcode::Relu: case Opcode::Not: case Opcode::Exp:
    case Opcode::Exp2: case Opcode::Rsqrt: case Opcode::Tanh:
      if (is_float) {
        for (int i = 0; i < lanes; ++i)
          store_bits(out, i, float_to_bits(type, round_float(type, float_unary(op, bits_to_value(type, load_bits(a, i))))));
      } else {
        for (int i = 0; i < lanes; ++i)
          store_bits(out, i, int_to_bits(type, int_unary(op, type, bits_to_int(type, load_bits(a, i)))));
      }
      return;
    default:
      break;
  }
  // Binary arithmetic and logic.
  if (a.count == dtype_bytes(type) && (b.is_immediate || b.group.count == dtype_bytes(type)) &&
      out.count == dtype_bytes(type)) {
    switch (type) {
      case DType::Int8: if (int_binary_fast<std::int8_t>(op, lanes, a, b, out)) return; break;
      case DType::Int16: if (int_binary_fast<std::int16_t>(op, lanes, a, b, out)) return; break;
      case DType::Int32: if (int_binary_fast<std::int32_t>(op, lanes, a, b, out)) return; break;
      case DType::Fp32: if (fp32_binary_fast(op, lanes, a, b, out)) return; break;
      default: break;
    }
  }
  if (is_float) {
    for (int i = 0; i < lanes; ++i) {
      const double x = bits_to_value(type, load_bits(a, i));
      const double y = b.is_immediate ? b.immediate : bits_to_value(type, load_bits(b.group, i));
      store_bits(out, i, float_to_bits(type, float_binary(op, x, y)));
    }
  } else {
    const IntBinary f{op, type};
    const std::int64_t imm = static_cast<std::int64_t>(b.immediate);
    for (int i = 0; i < lanes; ++i) {
      const std::int64_t x = bits_to_int(type, load_bits(a, i));
      const std::int64_t y = b.is_immediate ? imm : bits_to_int(type, load_bits(b.group, i));
      store_bits(out, i, int_to_bits(type, f(x, y)));
    }
  }
}

double decode_element(DType type, const std::array<std::uint8_t, 4>& bytes) {
  std::uint32_t bits = 0;
  for (int b = 0; b < dtype_bytes(type); ++b) bits |= static_cast<std::uint32_t>(bytes[b]) << (8 * b);
  return bits_to_value(type, bits);
}

std::array<std::uint8_t, 4> encode_element(DType type, double value) {
  const std::uint32_t bits = dtype_is_float(type) ? float_to_bits(type, value)
                                                  : int_to_bits(type, saturate_round(type, value));
  return {static_cast<std::uint8_t>(bits), static_cast<std::uint8_t>(bits >> 8), static_cast<std::uint8_t>(bits >> 16),
          static_cast<std::uint8_t>(bits >> 24)};
}

bool representable(DType type, double value) {
  if (!std::isfinite(value)) return false;
  if (dtype_is_float(type)) return round_float(type, value) == value;
  return value == std::floor(value) && value >= static_cast<double>(int_min(type)) &&
         value <= static_cast<double>(int_max(type));
}

}  // namespace lpusim
