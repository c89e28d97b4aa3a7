// MEM instructions: results and timing. Positions on tsp-v1: mem.w<i> = 45 - i,
// VXM = 46, mem.e<i> = 47 + i. Timing (models/chips/tsp-v1.json): read func 2,
// write func 1 (commit), gather func 3, scatter func 2, all skew 0; hop 1 cycle.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fstream>

#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
std::vector<double> ramp(int n, double start) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) {
    double x = start + i;
    while (x > 127) x -= 256;
    v.push_back(x);
  }
  return v;
}

/// Copies tensor src (w1) to dst (w0) with the write issued in `write_cycle`.
RunOutcome copy_with_write_at(int write_cycle) {
  RunRequest r;
  r.program = fmt::format(
      ".tensor src int8 1 w1:0 fill=ramp:1:1\n"
      ".tensor dst int8 1 w0:0\n"
      ".queue mem.w1\n    read 0, s0e\n"
      ".queue mem.w0\n    nop {}\n    write 0, s0e\n",
      write_cycle);
  r.dumps = {"dst"};
  return run_forked(r);
}
}  // namespace

TEST_CASE("read puts the word on its stream d_func cycles after issue, write takes it exactly then", "[mem][timing]") {
  // mem.w1 (position 44) reads in cycle 0; the word is on s0e at 44 in cycle 0 + 2 = 2 and
  // at mem.w0 (position 45) one hop later: cycle 3.
  const RunOutcome on_time = copy_with_write_at(3);
  REQUIRE(on_time.error.empty());
  CHECK(on_time.hazard_kinds.empty());
  CHECK(on_time.dumps.at("dst") == ramp(320, 1));
  // The write commits in cycle 3 + 1 = 4; total = 4 + 1 + 19 superlane skew = 24.
  CHECK(on_time.total_cycles == 24);

  const RunOutcome early = copy_with_write_at(2);  // one cycle early: the word is not there yet
  CHECK(early.has_hazard("stream-empty"));
  const RunOutcome late = copy_with_write_at(4);   // one cycle late: the word has moved on
  CHECK(late.has_hazard("stream-empty"));
}

TEST_CASE("a read sees a write to the same word only after the write commits", "[mem][timing]") {
  // mem.w0 writes `fresh` (arriving from w1, as above) into word 5 in cycle 3; it commits
  // at the end of cycle 3 + 1 = 4. A read of word 5 in cycle 4 sees the old contents
  // (zeros); a read in cycle 5 sees the new. Each read's word reaches mem.e0 (position 47)
  // in issue + 2 + 2 hops, where it is written out.
  auto run_read_at = [](int read_cycle) {
    RunRequest r;
    r.program = fmt::format(
        ".tensor fresh int8 1 w1:0 fill=const:9\n"
        ".tensor out int8 1 e0:0\n"
        ".queue mem.w1\n    read 0, s0e\n"
        ".queue mem.w0\n    nop 3\n    write 5, s0e\n{}    read 5, s1e\n"
        ".queue mem.e0\n    nop {}\n    write 0, s1e\n",
        read_cycle > 4 ? fmt::format("    nop {}\n", read_cycle - 4) : "", read_cycle + 4);
    r.dumps = {"out"};
    return run_forked(r);
  };
  const RunOutcome at_commit = run_read_at(4);
  REQUIRE(at_commit.error.empty());
  REQUIRE(at_commit.hazard_kinds.empty());
  CHECK(at_commit.dumps.at("out") == std::vector<double>(320, 0));
  const RunOutcome after_commit = run_read_at(5);
  REQUIRE(after_commit.hazard_kinds.empty());
  CHECK(after_commit.dumps.at("out") == std::vector<double>(320, 9));
}

TEST_CASE("gather reads each lane from the address in its map, scatter writes by map", "[mem]") {
  // `map` is int16 with plane 0 in w3 (position 42) and plane 1 in w2 (position 43). Read
  // w3 in cycle 0 and w2 in cycle 1: both planes are at mem.w0 (45) in cycle 5
  // (0 + 2 + 3 and 1 + 2 + 2). The gather in w0 issues in cycle 5; its result is on s2e at 45
  // in cycle 5 + 3 = 8 and at mem.e0 (47) in cycle 10.
  RunRequest r;
  r.program =
      ".tensor table int8 4 w0:0 fill=ramp:0:1\n"
      ".tensor map int16 1 w3,w2:0\n"
      ".tensor out int8 1 e0:0\n"
      ".queue mem.w3\n    read 0, s0e\n"
      ".queue mem.w2\n    nop 1\n    read 0, s1e\n"
      ".queue mem.w0\n    nop 5\n    gather s2e, s0e\n"
      ".queue mem.e0\n    nop 10\n    write 0, s2e\n";
  std::string map_values;
  for (int i = 0; i < 320; ++i) map_values += std::to_string((i * 7) % 4) + " ";
  const std::string map_file = "/tmp/lpusim_test_gather_map.txt";
  { std::ofstream(map_file) << map_values; }
  r.inputs = {{"map", map_file}};
  r.dumps = {"out"};
  const RunOutcome o = run_forked(r);
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  // Lane i reads word (7i mod 4) of `table`, whose lane i holds (320 * word + i) wrapped to int8.
  std::vector<double> expected;
  for (int i = 0; i < 320; ++i) {
    int v = (320 * ((i * 7) % 4) + i) % 256;
    expected.push_back(v > 127 ? v - 256 : v);
  }
  CHECK(o.dumps.at("out") == expected);

  // Scatter: the same map sends lane i of a constant vector to word (7i mod 4) of w0.
  RunRequest s;
  s.program =
      ".tensor table int8 4 w0:0\n"
      ".tensor map int16 1 w3,w2:0\n"
      ".tensor value int8 1 w1:0 fill=const:-5\n"
      ".queue mem.w3\n    read 0, s0e\n"
      ".queue mem.w2\n    nop 1\n    read 0, s1e\n"
      ".queue mem.w1\n    nop 2\n    read 0, s2e\n"   // 2 + 2 + 1 hop = at w0 in cycle 5
      ".queue mem.w0\n    nop 5\n    scatter s2e, s0e\n";
  s.inputs = {{"map", map_file}};
  s.dumps = {"table"};
  const RunOutcome so = run_forked(s);
  REQUIRE(so.hazard_kinds.empty());
  for (int i = 0; i < 320; ++i) {
    for (int w = 0; w < 4; ++w) {
      INFO("lane " << i << " word " << w);
      CHECK(so.dumps.at("table")[static_cast<std::size_t>(w * 320 + i)] == (w == (i * 7) % 4 ? -5 : 0));
    }
  }
}

TEST_CASE("a slice allows one SRAM write per cycle", "[mem][timing]") {
  // scatter issued in cycle 0 commits in 0 + 2 = 2; a write issued in cycle 1 commits in
  // 1 + 1 = 2: two writes in one cycle. Issued in cycle 2, the write commits in 3: fine.
  RunRequest conflict;
  conflict.program = ".queue mem.w0\n    scatter s0e, s2e\n    write 9, s4e\n";
  CHECK(run_forked(conflict).has_hazard("mem-port-conflict"));
  RunRequest apart;
  apart.program = ".queue mem.w0\n    scatter s0e, s2e\n    nop 1\n    write 9, s4e\n";
  const RunOutcome o = run_forked(apart);
  CHECK_FALSE(o.has_hazard("mem-port-conflict"));
  CHECK(o.has_hazard("stream-empty"));  // nothing feeds these streams: the checker says so too
}

TEST_CASE("repeat streams consecutive words with an address stride", "[mem][timing]") {
  // w1 reads words 0..7 in cycles 0..7 (repeat 7, 1, 1); each is at mem.w0 three cycles after
  // issue (read func 2 + 1 hop), where w0 writes them to words 0..7 in cycles 3..10.
  RunRequest r;
  r.program =
      ".tensor src int8 8 w1:0 fill=ramp:0:3\n"
      ".tensor dst int8 8 w0:0\n"
      ".queue mem.w1\n    read 0, s0e\n    repeat 7, 1, 1\n"
      ".queue mem.w0\n    nop 3\n    write 0, s0e\n    repeat 7, 1, 1\n";
  r.dumps = {"dst"};
  const RunOutcome o = run_forked(r);
  REQUIRE(o.hazard_kinds.empty());
  CHECK(o.instructions == 16);
  std::vector<double> expected;
  for (int i = 0; i < 8 * 320; ++i) {
    int v = (3 * i) % 256;
    expected.push_back(v > 127 ? v - 256 : v);
  }
  CHECK(o.dumps.at("dst") == expected);
  // Last write issues in cycle 10, commits in 11: total 11 + 1 + 19 = 31.
  CHECK(o.total_cycles == 31);
}
