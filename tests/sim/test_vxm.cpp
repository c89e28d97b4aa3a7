// Every VXM instruction, run on the simulated chip: its result against the numerics
// library on the same inputs (the numerics themselves are checked value by value in
// tests/core/test_numerics.cpp), and its timing: the result is on the destination stream
// exactly d_func cycles after issue: a write one cycle early misses it.
//
// Layout of each generated program (tsp-v1 positions: mem.w<i> = 45 - i, VXM = 46,
// mem.e<i> = 47 + i; read func 2, write func 1, hop 1; B = 8 is a base offset that keeps
// every issue cycle non-negative; g = bytes of the type):
//   plane p of `a` is in w<p>, read in cycle B + g - 1 - p onto s<p>e: on the stream at
//     45 - p in B + g + 1 - p, at the VXM (1 + p hops) in A = B + g + 2;
//   plane p of `b` is in e<p>, read in cycle B + g - 1 - p onto s<4+p>w: also at the VXM in A;
//   the int8 mask is in w8 (position 37), read in B + g - 9: at the VXM (9 hops) in A;
//   the ALU issues in A; plane p of the result is on s<16+p>e at the VXM in A + func and
//     reaches e<10+p> (position 57 + p, 11 + p hops) in A + func + 11 + p, where it is written.
#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "engine/exec/tensor_io.hpp"
#include "numerics/vector_math.hpp"
#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {

constexpr int kBase = 8;

struct VxmCase {
  VxmCase(Opcode o, DType t, DType to = DType::None, std::string imm = "")
      : op(o), type(t), type_to(to), immediate(std::move(imm)) {}
  Opcode op;
  DType type;
  DType type_to;
  std::string immediate;  ///< "#..." to use an immediate second operand
};

DType out_type(const VxmCase& c) {
  const auto& info = opcode_info(c.op);
  if (c.op == Opcode::Cvt) return c.type_to;
  if (info.operands[0].group == StreamGroup::Mask) return DType::Int8;
  return c.type;
}

struct Generated {
  std::string text;
  int write_cycle = 0;  ///< when plane 0 of the result reaches its slice
};

Generated generate(const VxmCase& c, int write_shift) {
  const auto& info = opcode_info(c.op);
  const int g = dtype_bytes(c.type);
  const int gout = dtype_bytes(out_type(c));
  const int arrive = kBase + g + 2;
  const int func = static_cast<int>(tsp_v1().timing_of(c.op).func.value());
  std::string slices_a, slices_b, slices_out;
  for (int p = 0; p < g; ++p) {
    slices_a += fmt::format("{}w{}", p ? "," : "", p);
    slices_b += fmt::format("{}e{}", p ? "," : "", p);
  }
  for (int p = 0; p < gout; ++p) slices_out += fmt::format("{}e{}", p ? "," : "", 10 + p);
  std::string t;
  t += fmt::format(".tensor a {} 1 {}:0 fill=random:1\n", dtype_name(c.type), slices_a);
  t += fmt::format(".tensor b {} 1 {}:0 fill=random:2\n", dtype_name(c.type), slices_b);
  t += ".tensor m int8 1 w8:0 fill=random:3\n";
  t += fmt::format(".tensor out {} 1 {}:0\n", dtype_name(out_type(c)), slices_out);
  auto nop = [](int n) { return n > 0 ? fmt::format("    nop {}\n", n) : std::string(); };
  const bool uses_b = info.operands.size() >= 3 && c.immediate.empty();
  const bool uses_mask = c.op == Opcode::VSelect;
  for (int p = 0; p < g; ++p) {
    t += fmt::format(".queue mem.w{}\n{}    read 0, s{}e\n", p, nop(kBase + g - 1 - p), p);
    if (uses_b) t += fmt::format(".queue mem.e{}\n{}    read 0, s{}w\n", p, nop(kBase + g - 1 - p), 4 + p);
  }
  if (uses_mask) t += fmt::format(".queue mem.w8\n{}    read 0, s12e\n", nop(kBase + g - 9));
  std::string mnemonic = std::string(info.mnemonic) + "." + dtype_name(c.type);
  if (c.op == Opcode::Cvt) mnemonic += std::string(".") + dtype_name(c.type_to);
  std::string operands = "s16e";
  if (uses_mask) operands += ", s12e";
  operands += ", s0e";
  if (info.operands.size() >= 3) operands += ", " + (c.immediate.empty() ? std::string("s4w") : c.immediate);
  t += fmt::format(".queue vxm.alu0\n{}    {} {}\n", nop(arrive), mnemonic, operands);
  Generated out;
  out.write_cycle = arrive + func + 11;
  for (int p = 0; p < gout; ++p)
    t += fmt::format(".queue mem.e{}\n{}    write 0, s{}e\n", 10 + p, nop(out.write_cycle + p + (p == 0 ? write_shift : 0)), 16 + p);
  out.text = t;
  return out;
}

std::vector<double> expected_result(const VxmCase& c, const std::string& text) {
  const BoundProgram p = bind_program(parse_program(text, "vxm.s"), tsp_v1());
  const int lanes = tsp_v1().lanes();
  auto planes_of = [&](const std::string& name, DType type) {
    const auto values = fill_values(*p.find_tensor(name), lanes);
    std::vector<std::vector<std::uint8_t>> planes(static_cast<std::size_t>(dtype_bytes(type)),
                                                  std::vector<std::uint8_t>(static_cast<std::size_t>(lanes)));
    for (int i = 0; i < lanes; ++i) {
      const auto bytes = encode_element(type, values[static_cast<std::size_t>(i)]);
      for (std::size_t k = 0; k < planes.size(); ++k) planes[k][static_cast<std::size_t>(i)] = bytes[k];
    }
    return planes;
  };
  const auto a = planes_of("a", c.type), b = planes_of("b", c.type), m = planes_of("m", DType::Int8);
  const DType to = out_type(c);
  std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(dtype_bytes(to)),
                                             std::vector<std::uint8_t>(static_cast<std::size_t>(lanes)));
  PlaneGroup ga, gm;
  SecondOperand sb;
  MutablePlaneGroup go;
  ga.count = static_cast<int>(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) ga.planes[k] = a[k].data();
  if (!c.immediate.empty()) {
    sb.is_immediate = true;
    sb.immediate = std::stod(c.immediate.substr(1));
  } else {
    sb.group.count = static_cast<int>(b.size());
    for (std::size_t k = 0; k < b.size(); ++k) sb.group.planes[k] = b[k].data();
  }
  gm.count = 1;
  gm.planes[0] = m[0].data();
  go.count = static_cast<int>(out.size());
  for (std::size_t k = 0; k < out.size(); ++k) go.planes[k] = out[k].data();
  vxm_compute(c.op, c.type, c.type_to, lanes, ga, sb, gm, go);
  std::vector<double> values;
  for (int i = 0; i < lanes; ++i) {
    std::array<std::uint8_t, 4> bytes{};
    for (std::size_t k = 0; k < out.size(); ++k) bytes[k] = out[k][static_cast<std::size_t>(i)];
    values.push_back(decode_element(to, bytes));
  }
  return values;
}

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

std::vector<VxmCase> all_cases() {
  std::vector<VxmCase> cases;
  for (const auto& info : all_opcodes()) {
    if (info.unit != UnitKind::Vxm) continue;
    switch (info.types) {
      case TypeRule::AnyType:
        cases.emplace_back(info.opcode, DType::Int16);
        cases.emplace_back(info.opcode, DType::Fp32);
        break;
      case TypeRule::IntOnly:
        cases.emplace_back(info.opcode, DType::Int8);
        cases.emplace_back(info.opcode, DType::Int32);
        break;
      case TypeRule::FloatOnly:
        cases.emplace_back(info.opcode, DType::Fp16);
        cases.emplace_back(info.opcode, DType::Fp32);
        if (info.opcode == Opcode::Tanh) cases.emplace_back(info.opcode, DType::Int16);
        break;
      case TypeRule::TwoTypes:
        cases.emplace_back(info.opcode, DType::Int32, DType::Fp32);
        cases.emplace_back(info.opcode, DType::Fp32, DType::Int8);
        cases.emplace_back(info.opcode, DType::Fp16, DType::Fp32);
        break;
      case TypeRule::NoType:
        break;
    }
  }
  cases.emplace_back(Opcode::Mul, DType::Fp32, DType::None, "#-0.375");
  cases.emplace_back(Opcode::Add, DType::Int8, DType::None, "#5");
  cases.emplace_back(Opcode::VSelect, DType::Int32, DType::None, "#-7");
  return cases;
}

}  // namespace

TEST_CASE("every VXM instruction computes its result and delivers it exactly d_func cycles after issue",
          "[vxm][timing]") {
  const auto cases = all_cases();
  REQUIRE(cases.size() == 59);  // 27 opcodes x their types + 3 immediate forms
  for (const auto& c : cases) {
    const std::string name = fmt::format("{}.{}{}{} {}", opcode_info(c.op).mnemonic, dtype_name(c.type),
                                         c.type_to != DType::None ? "." : "",
                                         c.type_to != DType::None ? dtype_name(c.type_to) : "", c.immediate);
    INFO(name);
    const Generated on_time = generate(c, 0);
    RunRequest r;
    r.program = on_time.text;
    r.dumps = {"out"};
    const RunOutcome o = run_forked(r);
    REQUIRE(o.error.empty());
    CHECK(o.hazard_kinds.empty());
    CHECK(same_values(o.dumps.at("out"), expected_result(c, on_time.text)));
    // The last result plane is written in write_cycle + gout - 1 and commits one cycle later;
    // + 1 because cycles count from 0, + 19 for the trailing superlanes.
    const int gout = dtype_bytes(out_type(c));
    CHECK(o.total_cycles == on_time.write_cycle + gout - 1 + 1 + 1 + 19);

    RunRequest early;
    early.program = generate(c, -1).text;
    early.mode = SimMode::TimingOnly;  // the checker works the same without values
    CHECK(run_forked(early).has_hazard("stream-empty"));
  }
}

TEST_CASE("a VXM operand one cycle early or late is caught", "[vxm][timing]") {
  // Shift the ALU's issue by one cycle either way: its operands are not at the VXM then.
  const VxmCase c{Opcode::Add, DType::Int8};
  for (int shift : {-1, 1}) {
    INFO("shift " << shift);
    std::string text = generate(c, 0).text;
    const std::string nop = fmt::format("nop {}\n    add", kBase + 1 + 2);
    const auto at = text.find(nop);
    REQUIRE(at != std::string::npos);
    text.replace(at, nop.size(), fmt::format("nop {}\n    add", kBase + 1 + 2 + shift));
    RunRequest r;
    r.program = text;
    r.mode = SimMode::TimingOnly;
    const RunOutcome o = run_forked(r);
    CHECK(o.has_hazard("stream-empty"));
  }
}
