// Stream timing on the whole chip. tsp-v1 positions: mem.w<i> = 45 - i, mem.e<i> = 47 + i;
// read func 2, write func 1.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
RunOutcome across_chip(const std::string& from, const std::string& to, const char dir, int write_cycle, int hop) {
  RunRequest r;
  r.program = fmt::format(
      ".tensor src int8 1 {}:0 fill=ramp:5:2\n.tensor dst int8 1 {}:0\n"
      ".queue mem.{}\n    read 0, s7{}\n.queue mem.{}\n    nop {}\n    write 0, s7{}\n",
      from, to, from, dir, to, write_cycle, dir);
  r.dumps = {"dst"};
  r.edit_chip = [hop](nlohmann::json& chip) { chip["streams"]["hop_cycles"] = hop; };
  return run_forked(r);
}
}  // namespace

TEST_CASE("a value crosses the chip in |q - p| x hop cycles, east and west", "[streams][timing]") {
  for (int hop : {1, 2}) {
    INFO("hop " << hop);
    // w43 (position 2) reads in cycle 0: on s7e at 2 in cycle 2; e43 (position 90) is
    // 88 positions east: there in 2 + 88 x hop.
    const int arrive = 2 + 88 * hop;
    const RunOutcome east = across_chip("w43", "e43", 'e', arrive, hop);
    CHECK(east.hazard_kinds.empty());
    REQUIRE(east.dumps.count("dst"));
    CHECK(east.dumps.at("dst")[3] == 11);  // ramp 5, 7, 9, 11
    CHECK(across_chip("w43", "e43", 'e', arrive - 1, hop).has_hazard("stream-empty"));
    // And the mirror image westward.
    CHECK(across_chip("e43", "w43", 'w', arrive, hop).hazard_kinds.empty());
    CHECK(across_chip("e43", "w43", 'w', arrive + 1, hop).has_hazard("stream-empty"));
  }
}

TEST_CASE("a MEM read replaces the value passing its slice on that stream", "[streams]") {
  // w5 (position 40) reads `first` onto s3e in cycle 0: at 40 in cycle 2, at w3 (42) in 4,
  // at w2 (43) in 5. w2 reads `second` onto s3e in cycle 3: at 43 in cycle 5, replacing
  // `first` from there on; at e0 (47) in cycle 9. So w3 in cycle 4 sees `first` and e0 in
  // cycle 9 sees `second`.
  RunRequest r;
  r.program =
      ".tensor first int8 1 w5:0 fill=const:1\n.tensor second int8 1 w2:0 fill=const:2\n"
      ".tensor at_w3 int8 1 w3:0\n.tensor at_e0 int8 1 e0:0\n"
      ".queue mem.w5\n    read 0, s3e\n"
      ".queue mem.w2\n    nop 3\n    read 0, s3e\n"
      ".queue mem.w3\n    nop 4\n    write 0, s3e\n"
      ".queue mem.e0\n    nop 9\n    write 0, s3e\n";
  r.dumps = {"at_w3", "at_e0"};
  const RunOutcome o = run_forked(r);
  REQUIRE(o.hazard_kinds.empty());
  CHECK(o.dumps.at("at_w3") == std::vector<double>(320, 1));
  CHECK(o.dumps.at("at_e0") == std::vector<double>(320, 2));
}

TEST_CASE("two producers writing one stream at one position and cycle collide", "[streams]") {
  // One queue issues one instruction per cycle, but functional delays differ: a gather
  // (func 3) issued in cycle 0 and a read (func 2) issued in cycle 1 both put a vector on
  // s0e at mem.w0 in cycle 3.
  RunRequest r;
  r.program = ".queue mem.w0\n    gather s0e, s2e\n    read 0, s0e\n";
  r.mode = SimMode::TimingOnly;
  const RunOutcome o = run_forked(r);
  CHECK(o.has_hazard("stream-collision"));
}
