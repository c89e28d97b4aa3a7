#include "numerics/fp8.hpp"

#include <algorithm>
#include <cmath>

namespace lpusim {

namespace {

/// A small binary float format: mantissa bits, exponent bias, exponent field width, largest
/// finite value.
struct Minifloat {
  int mantissa_bits;
  int bias;
  int exponent_bits;
  double max_finite;
  int min_exponent() const { return 1 - bias; }  // exponent of the smallest normal
};

constexpr Minifloat kE4M3{3, 7, 4, 448.0};
constexpr Minifloat kE5M2{2, 15, 5, 57344.0};
constexpr Minifloat kE2M1{1, 1, 2, 6.0};

const Minifloat& format(Fp8Format f) { return f == Fp8Format::E4M3 ? kE4M3 : kE5M2; }

/// |v| rounded to the format (nearest, ties to even), saturated at the largest finite value.
double round_magnitude(double a, const Minifloat& m) {
  if (a == 0.0) return 0.0;
  if (!std::isfinite(a) || a >= m.max_finite) return m.max_finite;
  int e = static_cast<int>(std::floor(std::log2(a)));
  e = std::max(e, m.min_exponent());  // subnormals share the smallest normal's quantum
  const double quantum = std::ldexp(1.0, e - m.mantissa_bits);
  // a / quantum is exact (a power-of-two division) and below 2^(mantissa + 2), so
  // nearbyint's round-half-even on it is the format's round-half-even.
  const double r = std::nearbyint(a / quantum) * quantum;
  return std::min(r, m.max_finite);
}

}  // namespace

const char* fp8_name(Fp8Format f) { return f == Fp8Format::E4M3 ? "e4m3" : "e5m2"; }

double fp8_max(Fp8Format f) { return format(f).max_finite; }

std::uint8_t encode_fp8(double v, Fp8Format f) {
  const Minifloat& m = format(f);
  if (std::isnan(v)) return f == Fp8Format::E4M3 ? 0x7f : 0x7e;
  const std::uint8_t sign = std::signbit(v) ? 0x80 : 0x00;
  const double r = round_magnitude(std::fabs(v), m);
  if (r == 0.0) return sign;
  int e = static_cast<int>(std::floor(std::log2(r)));
  if (e < m.min_exponent()) {
    // Subnormal: exponent field 0, mantissa = r / 2^(emin - mantissa_bits).
    const auto mantissa = static_cast<std::uint8_t>(std::ldexp(r, m.mantissa_bits - m.min_exponent()));
    return static_cast<std::uint8_t>(sign | mantissa);
  }
  const auto field = static_cast<std::uint8_t>(e + m.bias);
  const auto mantissa =
      static_cast<std::uint8_t>(std::ldexp(r, m.mantissa_bits - e) - static_cast<double>(1 << m.mantissa_bits));
  return static_cast<std::uint8_t>(sign | (field << m.mantissa_bits) | mantissa);
}

double decode_fp8(std::uint8_t code, Fp8Format f) {
  const Minifloat& m = format(f);
  const double sign = (code & 0x80) ? -1.0 : 1.0;
  const int field = (code & 0x7f) >> m.mantissa_bits;
  const int mantissa = code & ((1 << m.mantissa_bits) - 1);
  const int all_ones = (1 << m.exponent_bits) - 1;
  if (f == Fp8Format::E4M3 && field == all_ones && mantissa == (1 << m.mantissa_bits) - 1) return std::nan("");
  if (f == Fp8Format::E5M2 && field == all_ones) return mantissa == 0 ? sign * INFINITY : std::nan("");
  if (field == 0) return sign * std::ldexp(static_cast<double>(mantissa), m.min_exponent() - m.mantissa_bits);
  return sign * std::ldexp(static_cast<double>((1 << m.mantissa_bits) + mantissa), field - m.bias - m.mantissa_bits);
}

float round_to_fp8(float v, Fp8Format f) {
  if (std::isnan(v)) return v;
  const double r = round_magnitude(std::fabs(static_cast<double>(v)), format(f));
  return static_cast<float>(std::signbit(v) ? -r : r);
}

float round_to_e2m1(float v) {
  if (std::isnan(v)) return 0.0f;
  const double r = round_magnitude(std::fabs(static_cast<double>(v)), kE2M1);
  return static_cast<float>(std::signbit(v) ? -r : r);
}

std::vector<float> quantize_mxfp4(const std::vector<float>& values) {
  std::vector<float> out(values.size(), 0.0f);
  constexpr std::size_t kBlock = 32;
  for (std::size_t begin = 0; begin < values.size(); begin += kBlock) {
    const std::size_t end = std::min(values.size(), begin + kBlock);
    float largest = 0.0f;
    for (std::size_t i = begin; i < end; ++i) largest = std::max(largest, std::fabs(values[i]));
    if (!(largest > 0.0f) || !std::isfinite(largest)) continue;
    const int shared = static_cast<int>(std::floor(std::log2(largest))) - 2;
    for (std::size_t i = begin; i < end; ++i) {
      const float element = round_to_e2m1(std::ldexp(values[i], -shared));
      out[i] = std::ldexp(element, shared);
    }
  }
  return out;
}

}  // namespace lpusim
