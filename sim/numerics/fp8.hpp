#pragma once
// 8-bit and 4-bit floating-point element formats (OCP OFP8 v1.0 and OCP MX v1.0):
//   E4M3 ("float8_e4m3fn"): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities, the one
//        NaN per sign is S.1111.111; largest finite 448, smallest subnormal 2^-9.
//   E5M2 ("float8_e5m2"):   1 sign, 5 exponent (bias 15), 2 mantissa bits; IEEE-like with
//        infinities; largest finite 57344, smallest subnormal 2^-16.
//   E2M1 (MXFP4 elements):  1 sign, 2 exponent (bias 1), 1 mantissa bit; values
//        0, 0.5, 1, 1.5, 2, 3, 4, 6; no infinities or NaN.
// Conversion from wider types rounds to nearest, ties to even, and saturates: a finite value
// beyond the largest finite one becomes it (OCP's saturating mode, what quantisers use after
// scaling), +-inf saturates too; NaN stays NaN (E2M1, which has none, gives 0). Every E4M3,
// E5M2 and E2M1 value is exact in fp16 (and fp32). Plain C++.
#include <cstdint>
#include <vector>

namespace lpusim {

enum class Fp8Format : std::uint8_t { E4M3, E5M2 };

const char* fp8_name(Fp8Format f);  ///< "e4m3", "e5m2"
double fp8_max(Fp8Format f);        ///< 448, 57344

/// The byte encoding of v (rounded, saturated) and back.
std::uint8_t encode_fp8(double v, Fp8Format f);
double decode_fp8(std::uint8_t code, Fp8Format f);
/// v rounded to the nearest value of the format (saturating).
float round_to_fp8(float v, Fp8Format f);

/// v rounded to the nearest E2M1 value (saturating at +-6).
float round_to_e2m1(float v);

/// MXFP4 quantisation of `values` in blocks of 32 consecutive elements (OCP MX section 6.3):
/// each block shares the scale X = 2^(floor(log2(max |v|)) - 2) (E8M0, the 2 being E2M1's
/// largest exponent) and each element becomes X * round_to_e2m1(v / X). Returns the
/// dequantised values (what an MXFP4 checkpoint's weights are); an all-zero block stays 0.
std::vector<float> quantize_mxfp4(const std::vector<float>& values);

}  // namespace lpusim
