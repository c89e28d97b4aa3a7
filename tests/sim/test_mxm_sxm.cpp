// MXM and SXM behaviour: results, timing, and every hazard the checker reports for them.
// tsp-v1: MXM west at position 0, SXM east at 91, mem.w<i> = 45 - i, mem.e<i> = 47 + i;
// read 2, write 1, lw 1, iw 20, abc 20, acc 2, rotate/shift 3, permute 4, distribute 3,
// select 2; fp16 abc once every 4 cycles; hop 1.
#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <random>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "engine/exec/tensor_io.hpp"
#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
RunOutcome run_text(const std::string& text, std::vector<std::string> dumps = {},
                    std::vector<std::pair<std::string, std::string>> inputs = {}) {
  RunRequest r;
  r.program = text;
  r.dumps = std::move(dumps);
  r.inputs = std::move(inputs);
  return run_forked(r);
}
std::string nop(int n) { return n > 0 ? fmt::format("    nop {}\n", n) : ""; }
}  // namespace

TEST_CASE("abc before its weights are installed is caught, on the install cycle it is not", "[mxm][hazards]") {
  // iw issued in cycle 10 installs in 10 + 20 = 30.
  auto run_abc_at = [](int cycle) {
    return run_text(".queue mxm.w0\n    nop 10\n    iw\n.queue mxm.w1\n" + nop(cycle) + "    abc.int8 s16w\n");
  };
  CHECK(run_abc_at(29).has_hazard("weights-not-installed"));
  CHECK_FALSE(run_abc_at(30).has_hazard("weights-not-installed"));
  CHECK(run_text(".queue mxm.e1\n    abc.int8 s16e\n").has_hazard("weights-not-installed"));  // never installed
}

TEST_CASE("fp16 abc runs at a quarter of the int8 rate", "[mxm][hazards][timing]") {
  // Installed in 20; fp16 abcs 3 cycles apart overrun the plane, 4 apart do not; int8 every cycle is fine.
  const std::string install = ".queue mxm.w0\n    iw\n.queue mxm.w1\n    nop 20\n";
  CHECK(run_text(install + "    abc.fp16 s16w\n    nop 2\n    abc.fp16 s16w\n").has_hazard("unit-busy"));
  CHECK_FALSE(run_text(install + "    abc.fp16 s16w\n    nop 3\n    abc.fp16 s16w\n").has_hazard("unit-busy"));
  CHECK_FALSE(run_text(install + "    abc.int8 s16w\n    repeat 5, 1\n").has_hazard("unit-busy"));
}

TEST_CASE("the weight buffer holds 320 rows between installs", "[mxm][hazards]") {
  CHECK(run_text(".queue mxm.w0\n    lw.int8 s0w, 16\n    repeat 20, 1\n").has_hazard("unit-busy"));   // 336 rows
  CHECK_FALSE(run_text(".queue mxm.w0\n    lw.int8 s0w, 16\n    repeat 19, 1\n").has_hazard("unit-busy"));  // 320
}

TEST_CASE("iw may not overwrite the array while an abc computes with it", "[mxm][hazards][timing]") {
  // iw in 0 installs in 20; abc in 20 computes until 40: a second iw in 39 is too early, in 40 fine.
  auto run_second_iw_at = [](int cycle) {
    return run_text(".queue mxm.w0\n    iw\n" + nop(cycle - 1) + "    iw\n.queue mxm.w1\n    nop 20\n    abc.int8 s16w\n");
  };
  CHECK(run_second_iw_at(39).has_hazard("unit-busy"));
  CHECK_FALSE(run_second_iw_at(40).has_hazard("unit-busy"));
}

TEST_CASE("acc before the abc result lands is caught", "[mxm][hazards][timing]") {
  // abc in 20 puts its product in the accumulator in 40.
  auto run_acc_at = [](int cycle) {
    return run_text(".queue mxm.w0\n    iw\n.queue mxm.w1\n    nop 20\n    abc.int8 s16w, 3\n.queue mxm.w2\n" + nop(cycle) +
                    "    acc.int32 s0e, 3\n");
  };
  CHECK(run_acc_at(39).has_hazard("unit-busy"));
  CHECK_FALSE(run_acc_at(40).has_hazard("unit-busy"));
}

TEST_CASE("fp16 GEMV on one plane accumulates in fp32", "[mxm]") {
  // 8 fp16 rows per lw from 16 streams: row 8t + k has plane 0 in w<2k> and plane 1 in w<2k+1>,
  // read in t + 2k and t + 2k + 1 so both reach position 0 in 47 + t (2 + 45 - 2k hops).
  // 40 lw in 47..86, iw in 87 (installed 107); x (fp16, w16/w17) reaches position 0 in 107;
  // abc in 107, acc.fp32 in 127: y on s0e..s3e at 0 in 129, at w<20+b> (25 - b) in 154 - b.
  std::string text;
  for (int k = 0; k < 8; ++k) {
    text += fmt::format(".tensor r{} fp16 40 w{},w{}:0 fill=random:{}\n", k, 2 * k, 2 * k + 1, 50 + k);
  }
  text += ".tensor x fp16 1 w16,w17:0 fill=random:49\n.tensor y fp32 1 w20,w21,w22,w23:0\n";
  for (int k = 0; k < 8; ++k)
    for (int b = 0; b < 2; ++b)
      text += fmt::format(".queue mem.w{}\n{}    read 0, s{}w\n    repeat 39, 1, 1\n", 2 * k + b, nop(2 * k + b), 2 * k + b);
  text += ".queue mem.w16\n    nop 76\n    read 0, s16w\n.queue mem.w17\n    nop 77\n    read 0, s17w\n";
  text += ".queue mxm.w0\n    nop 47\n    lw.fp16 s0w, 8\n    repeat 39, 1\n    iw\n";
  text += ".queue mxm.w1\n    nop 107\n    abc.fp16 s16w\n.queue mxm.w2\n    nop 127\n    acc.fp32 s0e\n";
  for (int b = 0; b < 4; ++b) text += fmt::format(".queue mem.w{}\n    nop {}\n    write 0, s{}e\n", 20 + b, 154 - b, b);

  const BoundProgram p = bind_program(parse_program(text, "fp16.s"), tsp_v1());
  const auto x = fill_values(*p.find_tensor("x"), 320);
  std::vector<double> expected(320, 0.0), magnitude(320, 0.0);
  for (int k = 0; k < 8; ++k) {
    const auto rows = fill_values(*p.find_tensor(fmt::format("r{}", k)), 320);
    for (int t = 0; t < 40; ++t)
      for (int i = 0; i < 320; ++i) {
        const double term = rows[static_cast<std::size_t>(t * 320 + i)] * x[static_cast<std::size_t>(i)];
        expected[static_cast<std::size_t>(8 * t + k)] += term;
        magnitude[static_cast<std::size_t>(8 * t + k)] += std::fabs(term);
      }
  }
  const RunOutcome o = run_text(text, {"y"});
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  for (std::size_t j = 0; j < 320; ++j) {
    // fp16 products are exact in fp32; 320 fp32 additions err by at most 320 x 2^-24 of the
    // sum of magnitudes.
    CHECK(std::fabs(o.dumps.at("y")[j] - expected[j]) <= 320 * std::ldexp(1.0, -24) * magnitude[j]);
  }
  CHECK(o.total_cycles == 154 + 1 + 1 + 19);  // write in 154 commits in 155
}

TEST_CASE("repeat with a stride steps abc and acc through consecutive accumulator slots", "[mxm][timing]") {
  // 16 int8 weight rows: row q from mem.w<q> (position 45 - q), read in 13 + q, at position 0
  // in 13 + q + 2 + 45 - q = 60 for lw in 60; iw in 61 installs in 81. Three int8 rows x_k in
  // w16 (position 29), read in 69..71, reach 0 in 100..102: abc in 100 + k into slot 5 + k
  // lands in 120 + k; acc in 120 + k from slot 5 + k (the earliest) is at 0 in 122 + k on
  // s0e..s3e (int32), at w<20+b> (position 25 - b) in 147 + k - b.
  std::string text = ".tensor x int8 3 w16:0 fill=random:7\n.tensor y int32 3 w20,w21,w22,w23:0\n";
  for (int q = 0; q < 16; ++q) text += fmt::format(".tensor r{} int8 1 w{}:0 fill=random:{}\n", q, q, 30 + q);
  for (int q = 0; q < 16; ++q) text += fmt::format(".queue mem.w{}\n    nop {}\n    read 0, s{}w\n", q, 13 + q, q);
  text += ".queue mem.w16\n    nop 69\n    read 0, s16w\n    repeat 2, 1, 1\n";
  text += ".queue mxm.w0\n    nop 60\n    lw.int8 s0w, 16\n    iw\n";
  text += ".queue mxm.w1\n    nop 100\n    abc.int8 s16w, 5\n    repeat 2, 1, 1\n";
  const std::string accs = ".queue mxm.w2\n    nop 120\n    acc.int32 s0e, 5\n    repeat 2, 1, 1\n";
  std::string writes;
  for (int b = 0; b < 4; ++b)
    writes += fmt::format(".queue mem.w{}\n    nop {}\n    write 0, s{}e\n    repeat 2, 1, 1\n", 20 + b, 147 - b, b);
  const BoundProgram p = bind_program(parse_program(text + accs + writes, "slots.s"), tsp_v1());
  const auto x = fill_values(*p.find_tensor("x"), 320);
  const RunOutcome o = run_text(text + accs + writes, {"y"});
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 320; ++j) {
      double want = 0;  // rows past the 16 loaded are zero
      if (j < 16) {
        const auto w = fill_values(*p.find_tensor(fmt::format("r{}", j)), 320);
        for (int i = 0; i < 320; ++i) want += w[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(k * 320 + i)];
      }
      CHECK(o.dumps.at("y")[static_cast<std::size_t>(k * 320 + j)] == want);
    }
  // One cycle earlier, each acc reads its slot a cycle before its abc lands.
  const std::string early = ".queue mxm.w2\n    nop 119\n    acc.int32 s0e, 5\n    repeat 2, 1, 1\n";
  CHECK(run_text(text + early).has_hazard("unit-busy"));
  // A stride that walks past the 64 slots is refused when the program is loaded.
  const RunOutcome past = run_text(".queue mxm.w1\n    abc.int8 s16w, 62\n    repeat 2, 1, 1\n");
  CHECK(past.error.find("accumulator slot 64, outside [0, 64)") != std::string::npos);
}

namespace {
/// Sends int8 vector `in` (slice e0, position 47) east to the SXM (91), applies `op` there
/// in cycle 46 (read 2 + 44 hops), and writes the result, coming back west, into e1
/// (position 48, 43 hops) in `write_cycle`.
RunOutcome sxm_round_trip(const std::string& op, int write_cycle, const std::string& extra = "") {
  return run_text(extra + ".tensor in int8 1 e0:0 fill=ramp:0:1\n.tensor mask int8 1 e2:0 fill=ramp:0:1\n"
                          ".tensor out int8 1 e1:0\n"
                          ".queue mem.e0\n    read 0, s0e\n.queue mem.e2\n    nop 2\n    read 0, s2e\n"
                          ".queue sxm.e0\n    nop 46\n    " + op + "\n"
                          ".queue mem.e1\n" + nop(write_cycle) + "    write 0, s1w\n",
                  {"out"});
}
double wrap8(int v) { v = ((v % 256) + 256) % 256; return v > 127 ? v - 256 : v; }
}  // namespace

TEST_CASE("rotate waits for data from later superlanes, shift up does not", "[sxm][timing]") {
  // rotate by 1: lane 0 takes lane 319, on superlane 19, which arrives 19 cycles after
  // superlane 0: the result is at 91 in 46 + 3 + 19 = 68 and at e1 in 68 + 43 = 111.
  const RunOutcome rot = sxm_round_trip("rotate.int8 s1w, s0e, 1", 111);
  REQUIRE(rot.hazard_kinds.empty());
  for (int i = 0; i < 320; ++i) CHECK(rot.dumps.at("out")[static_cast<std::size_t>(i)] == wrap8((i + 319) % 320));
  CHECK(sxm_round_trip("rotate.int8 s1w, s0e, 1", 110).has_hazard("stream-empty"));
  // shift up by 1: lane i takes lane i - 1, never from a later superlane: 46 + 3 + 43 = 92.
  const RunOutcome up = sxm_round_trip("shift.int8 s1w, s0e, 1", 92);
  REQUIRE(up.hazard_kinds.empty());
  CHECK(up.dumps.at("out")[0] == 0);
  CHECK(up.dumps.at("out")[5] == 4);
  // shift down by 16: lane i takes lane i + 16, one superlane later: 46 + 3 + 1 + 43 = 93.
  CHECK(sxm_round_trip("shift.int8 s1w, s0e, -16", 93).hazard_kinds.empty());
  CHECK(sxm_round_trip("shift.int8 s1w, s0e, -16", 92).has_hazard("stream-empty"));
}

TEST_CASE("permute, distribute and select move lanes as their maps say", "[sxm]") {
  // Reverse all 320 lanes: lane 0 takes lane 319 (superlane 19): 46 + 4 + 19 + 43 = 112.
  std::string reverse = ".lanemap rev";
  for (int i = 0; i < 320; ++i) reverse += fmt::format(" {}", 319 - i);
  const RunOutcome p = sxm_round_trip("permute.int8 s1w, s0e, rev", 112, reverse + "\n");
  REQUIRE(p.hazard_kinds.empty());
  for (int i = 0; i < 320; ++i) CHECK(p.dumps.at("out")[static_cast<std::size_t>(i)] == wrap8(319 - i));
  // Reverse inside each superlane: no data from a later superlane: 46 + 3 + 43 = 92.
  std::string swap = ".lanemap swap16";
  for (int i = 0; i < 16; ++i) swap += fmt::format(" {}", 15 - i);
  const RunOutcome d = sxm_round_trip("distribute.int8 s1w, s0e, swap16", 92, swap + "\n");
  REQUIRE(d.hazard_kinds.empty());
  for (int i = 0; i < 320; ++i) CHECK(d.dumps.at("out")[static_cast<std::size_t>(i)] == wrap8(i - i % 16 + 15 - i % 16));
  // select: the mask (e2, position 49, read in 2: at 91 in 2 + 2 + 42 = 46) is the ramp 0, 1, ...
  // so lane 0 takes the second source (in, again) and every other lane the first.
  const RunOutcome s = sxm_round_trip("select.int8 s1w, s2e, s0e, s0e", 46 + 2 + 43);
  REQUIRE(s.hazard_kinds.empty());
  CHECK(s.dumps.at("out")[7] == 7);
}

namespace {
/// One 16-row lw of `wtype` weights (row q from slice w<q>, read in cycle q so that all reach
/// the MXM at position 0 in 2 + q + (45 - q) = 47), iw in 48 (installed 68), one abc of
/// `xtype` activations (x in w16.., read so that it arrives in 68), acc.fp32 in 88 (out on
/// s0e..s3e at 0 in 90) and y written in w20..w23 (positions 25..22) in 115 - b.
std::string gemv16(const std::string& wtype, const std::string& xtype) {
  std::string text;
  for (int q = 0; q < 16; ++q) text += fmt::format(".tensor r{} {} 1 w{}:0 fill=random:{}\n", q, wtype, q, 70 + q);
  const bool x16 = xtype == "fp16";
  text += fmt::format(".tensor x {} 1 {}:0 fill=random:69\n.tensor y fp32 1 w20,w21,w22,w23:0\n", xtype,
                      x16 ? "w16,w17" : "w16");
  for (int q = 0; q < 16; ++q) text += fmt::format(".queue mem.w{}\n{}    read 0, s{}w\n", q, nop(q), q);
  // w16 is at position 29 (read in 37, at 0 in 68); w17 at 28 (read in 38).
  text += ".queue mem.w16\n    nop 37\n    read 0, s16w\n";
  if (x16) text += ".queue mem.w17\n    nop 38\n    read 0, s17w\n";
  text += fmt::format(".queue mxm.w0\n    nop 47\n    lw.{} s0w, 16\n    iw\n", wtype);
  text += fmt::format(".queue mxm.w1\n    nop 68\n    abc.{} s16w\n.queue mxm.w2\n    nop 88\n    acc.fp32 s0e\n", xtype);
  for (int b = 0; b < 4; ++b) text += fmt::format(".queue mem.w{}\n    nop {}\n    write 0, s{}e\n", 20 + b, 115 - b, b);
  return text;
}

void check_gemv16(const std::string& wtype, const std::string& xtype, const ChipConfig& chip) {
  const std::string text = gemv16(wtype, xtype);
  RunRequest r;
  r.program = text;
  r.dumps = {"y"};
  r.edit_chip = [](nlohmann::json& c) { c["mxm"]["fp8_rate_divisor"] = 2; };
  const RunOutcome o = run_forked(r);
  INFO(wtype << " x " << xtype << ": " << o.error);
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  const BoundProgram p = bind_program(parse_program(text, "gemv16.s"), chip);
  const auto x = fill_values(*p.find_tensor("x"), 320);
  for (int q = 0; q < 16; ++q) {
    const auto row = fill_values(*p.find_tensor(fmt::format("r{}", q)), 320);
    double expected = 0, magnitude = 0;
    for (std::size_t i = 0; i < 320; ++i) {
      expected += row[i] * x[i];
      magnitude += std::fabs(row[i] * x[i]);
    }
    // Products of int8 or fp8 codes with fp16 or fp8 values are exact in fp32; 320 fp32
    // additions err by at most 320 x 2^-24 of the sum of magnitudes.
    CHECK(std::fabs(o.dumps.at("y")[static_cast<std::size_t>(q)] - expected) <= 320 * std::ldexp(1.0, -24) * magnitude);
    CHECK(magnitude > 0);
  }
  for (std::size_t j = 16; j < 320; ++j) CHECK(o.dumps.at("y")[j] == 0.0);  // rows not loaded are zero
}
}  // namespace

TEST_CASE("stored low, computed in fp16: int8 and fp8 weights against fp16 activations", "[mxm][fp8]") {
  nlohmann::json chip_json = load_user_json(LPUSIM_TSP_V1);
  chip_json["mxm"]["fp8_rate_divisor"] = 2;
  const ChipConfig chip = parse_chip_config(chip_json, "fp8-chip.json");
  check_gemv16("int8", "fp16", chip);
  check_gemv16("fp8e4m3", "fp16", chip);
  check_gemv16("fp8e5m2", "fp16", chip);
  // Native fp8: e4m3 weights and activations.
  check_gemv16("fp8e4m3", "fp8e4m3", chip);
}

TEST_CASE("fp8 abc runs at the chip's fp8 rate, and a chip without one refuses fp8", "[mxm][fp8][hazards][timing]") {
  const std::string install = ".queue mxm.w0\n    iw\n.queue mxm.w1\n    nop 20\n";
  auto run_with_divisor = [&](const std::string& body, int divisor) {
    RunRequest r;
    r.program = install + body;
    r.edit_chip = [divisor](nlohmann::json& c) { c["mxm"]["fp8_rate_divisor"] = divisor; };
    return run_forked(r);
  };
  // Divisor 2: fp8 abcs 1 cycle apart overrun the plane, 2 apart do not.
  CHECK(run_with_divisor("    abc.fp8e4m3 s16w\n    abc.fp8e4m3 s16w\n", 2).has_hazard("unit-busy"));
  CHECK_FALSE(run_with_divisor("    abc.fp8e4m3 s16w\n    nop 1\n    abc.fp8e4m3 s16w\n", 2).has_hazard("unit-busy"));
  CHECK_FALSE(run_with_divisor("    abc.fp8e5m2 s16w\n    repeat 3, 1\n", 1).has_hazard("unit-busy"));
  // TSP v1 has no fp8 mode: the program is refused when it is bound.
  const RunOutcome v1 = run_text(install + "    abc.fp8e4m3 s16w\n");
  CHECK_THAT(v1.error, Catch::Contains("tsp-v1 has no fp8 MXM mode"));
}
