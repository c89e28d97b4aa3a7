#pragma once
// The VXM's arithmetic on stream vectors, as plain C++ (no SystemC): values travel as byte
// planes (plane b of a stream group holds byte b, little-endian, of every lane's element),
// and each opcode computes with the numerics of its data type:
//   integers wrap modulo 2^bits for add/sub/mul/neg/abs/shl; conversions to integers round
//   to nearest even and saturate (NaN -> 0); float results are rounded to nearest even in
//   the target type (fp16 via Eigen::half). Transcendentals use the correctly rounded C++
//   library functions: the hardware's approximation error is not modelled.
#include <array>
#include <cstdint>
#include <vector>

#include "arch/isa/isa.hpp"

namespace lpusim {

/// Up to four byte planes of one stream group (read-only).
struct PlaneGroup {
  std::array<const std::uint8_t*, 4> planes{};
  int count = 0;
};

/// Up to four byte planes to write.
struct MutablePlaneGroup {
  std::array<std::uint8_t*, 4> planes{};
  int count = 0;
};

/// The second operand of a binary op: a stream group or an immediate broadcast to all lanes.
struct SecondOperand {
  bool is_immediate = false;
  double immediate = 0.0;
  PlaneGroup group;
};

/// Computes one VXM instruction over `lanes` lanes. `a`, `b`, `mask` are the inputs the
/// opcode uses (see isa.cpp for which); `out` has the planes of the destination type.
void vxm_compute(Opcode op, DType type, DType type_to, int lanes, const PlaneGroup& a, const SecondOperand& b,
                 const PlaneGroup& mask, const MutablePlaneGroup& out);

/// Element codecs, also used to load and dump tensors.
double decode_element(DType type, const std::array<std::uint8_t, 4>& bytes);
/// Encodes a value to the type with the conversion rules above (round, wrap for integer
/// values that are integral, saturate for fractional/out-of-range conversions).
std::array<std::uint8_t, 4> encode_element(DType type, double value);
/// Whether `value` is exactly representable in `type` (used to check immediates).
bool representable(DType type, double value);

}  // namespace lpusim
