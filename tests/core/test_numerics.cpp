#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "numerics/fp8.hpp"
#include "numerics/matmul_numerics.hpp"
#include "numerics/vector_math.hpp"

using namespace lpusim;

namespace {

/// A stream group holding values of one type, lane i = values[i % size].
struct Group {
  DType type;
  std::vector<std::vector<std::uint8_t>> planes;
  Group(DType t, const std::vector<double>& values, int lanes = 16) : type(t) {
    planes.assign(static_cast<std::size_t>(dtype_bytes(t)), std::vector<std::uint8_t>(static_cast<std::size_t>(lanes)));
    for (int i = 0; i < lanes; ++i) {
      const auto bytes = encode_element(t, values[static_cast<std::size_t>(i) % values.size()]);
      for (std::size_t p = 0; p < planes.size(); ++p) planes[p][static_cast<std::size_t>(i)] = bytes[p];
    }
  }
  PlaneGroup view() const {
    PlaneGroup g;
    g.count = static_cast<int>(planes.size());
    for (std::size_t p = 0; p < planes.size(); ++p) g.planes[p] = planes[p].data();
    return g;
  }
  MutablePlaneGroup mutable_view() {
    MutablePlaneGroup g;
    g.count = static_cast<int>(planes.size());
    for (std::size_t p = 0; p < planes.size(); ++p) g.planes[p] = planes[p].data();
    return g;
  }
  double at(int lane) const {
    std::array<std::uint8_t, 4> b{};
    for (std::size_t p = 0; p < planes.size(); ++p) b[p] = planes[p][static_cast<std::size_t>(lane)];
    return decode_element(type, b);
  }
};

std::vector<double> run(Opcode op, DType t, const std::vector<double>& a, const std::vector<double>& b,
                        DType t_out = DType::None, const std::vector<double>& mask = {}) {
  const int lanes = static_cast<int>(a.size());
  Group ga(t, a, lanes);
  SecondOperand sb;
  Group gb(t, b.empty() ? std::vector<double>{0} : b, lanes);
  sb.group = gb.view();
  Group gm(DType::Int8, mask.empty() ? std::vector<double>{0} : mask, lanes);
  const DType out_type = t_out != DType::None ? t_out : t;
  Group out(out_type, {0}, lanes);
  vxm_compute(op, t, t_out, lanes, ga.view(), sb, gm.view(), out.mutable_view());
  std::vector<double> r;
  for (int i = 0; i < lanes; ++i) r.push_back(out.at(i));
  return r;
}

using V = std::vector<double>;
}  // namespace

TEST_CASE("int8 arithmetic wraps modulo 256", "[numerics]") {
  CHECK(run(Opcode::Add, DType::Int8, {127, -128, 5}, {1, -1, -7}) == V{-128, 127, -2});
  CHECK(run(Opcode::Sub, DType::Int8, {-128, 0}, {1, -128}) == V{127, -128});
  CHECK(run(Opcode::Mul, DType::Int8, {16, -3}, {16, 5}) == V{0, -15});  // 256 wraps to 0
  CHECK(run(Opcode::Neg, DType::Int8, {-128, 5}, {}) == V{-128, -5});
  CHECK(run(Opcode::Abs, DType::Int8, {-128, -5}, {}) == V{-128, 5});
}

TEST_CASE("integer logic, shifts, max, min, relu", "[numerics]") {
  CHECK(run(Opcode::And, DType::Int16, {0x0ff0, -1}, {0x00ff, 0x1234}) == V{0x00f0, 0x1234});
  CHECK(run(Opcode::Or, DType::Int16, {0x0f00}, {0x00f0}) == V{0x0ff0});
  CHECK(run(Opcode::Xor, DType::Int32, {-1}, {0x0f0f0f0f}) == V{static_cast<double>(~0x0f0f0f0f)});
  CHECK(run(Opcode::Not, DType::Int8, {0, -1}, {}) == V{-1, 0});
  CHECK(run(Opcode::Shl, DType::Int8, {1, 3}, {7, 1}) == V{-128, 6});
  CHECK(run(Opcode::Shr, DType::Int8, {-128, 64}, {7, 3}) == V{-1, 8});  // arithmetic shift
  CHECK(run(Opcode::Max, DType::Int32, {-5, 7}, {3, 2}) == V{3, 7});
  CHECK(run(Opcode::Min, DType::Int32, {-5, 7}, {3, 2}) == V{-5, 2});
  CHECK(run(Opcode::Relu, DType::Int16, {-300, 300}, {}) == V{0, 300});
  CHECK(run(Opcode::Mov, DType::Int32, {123456789}, {}) == V{123456789});
  CHECK(run(Opcode::Add, DType::Int32, {2147483647}, {1}) == V{-2147483648.0});
}

TEST_CASE("fp32 results are the float-rounded exact results", "[numerics]") {
  const double third = static_cast<double>(1.0f / 3.0f);
  CHECK(run(Opcode::Mul, DType::Fp32, {third}, {3.0}) == V{static_cast<double>(static_cast<float>(third * 3.0))});
  CHECK(run(Opcode::Add, DType::Fp32, {1.0}, {std::ldexp(1.0, -24)}) == V{1.0});  // tie rounds to even
  CHECK(run(Opcode::Add, DType::Fp32, {1.0}, {std::ldexp(1.0, -23)}) == V{1.0 + std::ldexp(1.0, -23)});
  CHECK(run(Opcode::Sub, DType::Fp32, {0.5}, {0.25}) == V{0.25});
  CHECK(run(Opcode::Max, DType::Fp32, {-1.5}, {-2.5}) == V{-1.5});
  CHECK(run(Opcode::Relu, DType::Fp32, {-0.5, 0.5}, {}) == V{0.0, 0.5});
  CHECK(run(Opcode::Neg, DType::Fp32, {2.0}, {}) == V{-2.0});
  CHECK(run(Opcode::Abs, DType::Fp32, {-2.0}, {}) == V{2.0});
}

TEST_CASE("fp16 rounds to nearest even with 11 significant bits", "[numerics]") {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even gives 1.
  CHECK(run(Opcode::Add, DType::Fp16, {1.0}, {std::ldexp(1.0, -11)}) == V{1.0});
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to even gives 1 + 2^-9.
  CHECK(run(Opcode::Add, DType::Fp16, {1.0 + std::ldexp(1.0, -10)}, {std::ldexp(1.0, -11)}) == V{1.0 + std::ldexp(1.0, -9)});
  CHECK(run(Opcode::Mul, DType::Fp16, {300.0}, {300.0}) == V{90000.0 > 65504 ? INFINITY : 90000.0});
  CHECK(run(Opcode::Mul, DType::Fp16, {0.5}, {0.75}) == V{0.375});
}

TEST_CASE("transcendentals match the library functions rounded to the type", "[numerics]") {
  const V x{-2.0, -0.5, 0.0, 0.75, 3.0};
  const auto e = run(Opcode::Exp, DType::Fp32, x, {});
  const auto e2 = run(Opcode::Exp2, DType::Fp32, x, {});
  const auto t = run(Opcode::Tanh, DType::Fp32, x, {});
  const auto r = run(Opcode::Rsqrt, DType::Fp32, {0.25, 4.0, 2.0}, {});
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(e[i] == static_cast<double>(static_cast<float>(std::exp(x[i]))));
    CHECK(e2[i] == static_cast<double>(static_cast<float>(std::exp2(x[i]))));
    CHECK(t[i] == static_cast<double>(static_cast<float>(std::tanh(x[i]))));
  }
  CHECK(r == V{2.0, 0.5, static_cast<double>(static_cast<float>(1.0 / std::sqrt(2.0)))});
  // int16 tanh: Q3.12 in (4096 = 1.0), Q0.15 out (32768 = 1.0, saturated to 32767).
  const auto ti = run(Opcode::Tanh, DType::Int16, {4096, 0, -32768}, {});
  CHECK(ti == V{std::nearbyint(std::tanh(1.0) * 32768), 0, -32768});
}

TEST_CASE("compares produce int8 masks and select picks by mask", "[numerics]") {
  CHECK(run(Opcode::CmpLt, DType::Fp32, {1, 2, 3}, {2, 2, 2}, DType::Int8) == V{1, 0, 0});
  CHECK(run(Opcode::CmpGe, DType::Int16, {1, 2, 3}, {2, 2, 2}, DType::Int8) == V{0, 1, 1});
  CHECK(run(Opcode::CmpEq, DType::Int32, {7, 8}, {7, 7}, DType::Int8) == V{1, 0});
  CHECK(run(Opcode::CmpNe, DType::Int32, {7, 8}, {7, 7}, DType::Int8) == V{0, 1});
  CHECK(run(Opcode::CmpLe, DType::Int8, {7, 8}, {7, 7}, DType::Int8) == V{1, 0});
  CHECK(run(Opcode::CmpGt, DType::Int8, {7, 8}, {7, 7}, DType::Int8) == V{0, 1});
  CHECK(run(Opcode::VSelect, DType::Fp16, {1.5, 2.5}, {-1, -2}, DType::None, {1, 0}) == V{1.5, -2});
}

TEST_CASE("conversions round to nearest even and saturate", "[numerics]") {
  CHECK(run(Opcode::Cvt, DType::Fp32, {2.5, 3.5, -2.5, 1000, -1000, NAN}, {}, DType::Int8) == V{2, 4, -2, 127, -128, 0});
  CHECK(run(Opcode::Cvt, DType::Int32, {70000, -70000, 5}, {}, DType::Int16) == V{32767, -32768, 5});
  CHECK(run(Opcode::Cvt, DType::Int8, {-7}, {}, DType::Fp16) == V{-7});
  CHECK(run(Opcode::Cvt, DType::Fp32, {1.0 + std::ldexp(1.0, -11)}, {}, DType::Fp16) == V{1.0});
  CHECK(run(Opcode::Cvt, DType::Int32, {16777217}, {}, DType::Fp32) == V{16777216});
  CHECK(run(Opcode::Cvt, DType::Fp16, {0.333251953125}, {}, DType::Fp32) == V{0.333251953125});
}

TEST_CASE("immediates broadcast to every lane", "[numerics]") {
  Group a(DType::Int32, {1, 2, 3, 4}, 4);
  Group out(DType::Int32, {0}, 4);
  SecondOperand b;
  b.is_immediate = true;
  b.immediate = -10;
  vxm_compute(Opcode::Mul, DType::Int32, DType::None, 4, a.view(), b, PlaneGroup{}, out.mutable_view());
  CHECK(out.at(0) == -10);
  CHECK(out.at(3) == -40);
}

TEST_CASE("representable says which immediates fit a type", "[numerics]") {
  CHECK(representable(DType::Int8, 127));
  CHECK_FALSE(representable(DType::Int8, 128));
  CHECK_FALSE(representable(DType::Int16, 1.5));
  CHECK(representable(DType::Fp16, 0.5));
  CHECK_FALSE(representable(DType::Fp16, 0.1));
  CHECK_FALSE(representable(DType::Fp32, INFINITY));
}

// ---- fp8 (OCP OFP8) and MXFP4 elements ------------------------------------------------

TEST_CASE("fp8 e4m3 and e5m2 encode, decode and round as the OCP formats", "[numerics][fp8]") {
  // e4m3: bias 7, 3 mantissa bits, max 448 = 1.75 x 2^8 (S.1111.110), no infinities.
  CHECK(fp8_max(Fp8Format::E4M3) == 448.0);
  CHECK(int(encode_fp8(1.0, Fp8Format::E4M3)) == 0x38);    // 0.0111.000
  CHECK(int(encode_fp8(-2.5, Fp8Format::E4M3)) == 0xC2);   // 1.1000.010: 1.25 x 2^1
  CHECK(int(encode_fp8(448.0, Fp8Format::E4M3)) == 0x7E);
  CHECK(int(encode_fp8(1e6, Fp8Format::E4M3)) == 0x7E);    // saturates
  CHECK(int(encode_fp8(-INFINITY, Fp8Format::E4M3)) == 0xFE);
  CHECK(int(encode_fp8(std::ldexp(1.0, -9), Fp8Format::E4M3)) == 0x01);  // smallest subnormal
  CHECK(decode_fp8(0x01, Fp8Format::E4M3) == std::ldexp(1.0, -9));
  CHECK(std::isnan(decode_fp8(0x7F, Fp8Format::E4M3)));
  CHECK(std::isnan(decode_fp8(0xFF, Fp8Format::E4M3)));
  CHECK(decode_fp8(0x7E, Fp8Format::E4M3) == 448.0);
  // Ties to even: 1 + 1/16 lies halfway between 1 and 1.125 (mantissa 0 and 1).
  CHECK(round_to_fp8(1.0625f, Fp8Format::E4M3) == 1.0f);
  CHECK(round_to_fp8(1.1875f, Fp8Format::E4M3) == 1.25f);
  CHECK(round_to_fp8(460.0f, Fp8Format::E4M3) == 448.0f);
  // e5m2: bias 15, 2 mantissa bits, max 57344 = 1.75 x 2^15 (S.11110.11), infinities S.11111.00.
  CHECK(fp8_max(Fp8Format::E5M2) == 57344.0);
  CHECK(int(encode_fp8(1.0, Fp8Format::E5M2)) == 0x3C);
  CHECK(int(encode_fp8(57344.0, Fp8Format::E5M2)) == 0x7B);
  CHECK(int(encode_fp8(INFINITY, Fp8Format::E5M2)) == 0x7B);  // saturating conversion
  CHECK(decode_fp8(0x7C, Fp8Format::E5M2) == INFINITY);
  CHECK(std::isnan(decode_fp8(0x7D, Fp8Format::E5M2)));
  CHECK(decode_fp8(0x01, Fp8Format::E5M2) == std::ldexp(1.0, -16));
  CHECK(round_to_fp8(1.125f, Fp8Format::E5M2) == 1.0f);  // halfway between 1 and 1.25: even
  // Every finite code decodes to a value that encodes back to it and is exact in fp16.
  for (const Fp8Format f : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    int finite = 0;
    for (int code = 0; code < 256; ++code) {
      const double v = decode_fp8(static_cast<std::uint8_t>(code), f);
      if (!std::isfinite(v)) continue;
      ++finite;
      INFO(fp8_name(f) << " code " << code);
      if (v == 0.0) CHECK((encode_fp8(v, f) & 0x7f) == 0);
      else CHECK(int(encode_fp8(v, f)) == code);
      CHECK(round_to_fp16(static_cast<float>(v)) == static_cast<float>(v));
    }
    CHECK(finite == (f == Fp8Format::E4M3 ? 254 : 248));
  }
}

TEST_CASE("e2m1 rounding and MXFP4 blocks of 32", "[numerics][fp8]") {
  CHECK(round_to_e2m1(2.5f) == 2.0f);   // tie: 2 (mantissa 0) over 3
  CHECK(round_to_e2m1(5.0f) == 4.0f);   // tie: 4 over 6
  CHECK(round_to_e2m1(0.75f) == 1.0f);  // tie: 1 (mantissa 0) over 0.5 (subnormal mantissa 1)
  CHECK(round_to_e2m1(0.25f) == 0.0f);  // tie: 0 over 0.5
  CHECK(round_to_e2m1(-7.0f) == -6.0f); // saturates
  CHECK(round_to_e2m1(1.4f) == 1.5f);
  std::vector<float> v(40, 0.0f);
  v[0] = 0.3f;   // block max: floor(log2 0.3) = -2, shared exponent -4, X = 1/16
  v[1] = 0.1f;   // 1.6 -> 1.5 -> 0.09375
  v[2] = -0.3f;  // 4.8 -> 4 -> -0.25
  v[33] = 3.0f;  // second block: floor(log2 3) = 1, X = 2^-1: 3 / 0.5 = 6 -> 3
  v[34] = 0.2f;  // 0.4 -> 0.5 -> 0.25
  const std::vector<float> q = quantize_mxfp4(v);
  CHECK(q[0] == 0.25f);
  CHECK(q[1] == 0.09375f);
  CHECK(q[2] == -0.25f);
  CHECK(q[3] == 0.0f);
  CHECK(q[33] == 3.0f);
  CHECK(q[34] == 0.25f);
  CHECK(q[39] == 0.0f);
}
