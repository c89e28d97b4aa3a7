#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

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
