// ICU behaviour: sync/notify, deadlock detection, config vl, and idle queues.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

TEST_CASE("notify releases queues parked at sync after the notify's d_func", "[icu][timing]") {
  // vxm.alu0 notifies in cycle 10; icu.notify func is 4, so parked queues resume in 14.
  // mem.w1 then reads in 14: the word is at mem.w0 in 14 + 2 + 1 = 17.
  auto run_write_at = [](int cycle) {
    RunRequest r;
    r.program = fmt::format(
        ".tensor src int8 1 w1:0 fill=const:6\n.tensor dst int8 1 w0:0\n"
        ".queue mem.w1\n    sync\n    read 0, s0e\n"
        ".queue vxm.alu0\n    nop 10\n    notify\n"
        ".queue mem.w0\n    nop {}\n    write 0, s0e\n",
        cycle);
    r.dumps = {"dst"};
    return run_forked(r);
  };
  const RunOutcome o = run_write_at(17);
  CHECK(o.hazard_kinds.empty());
  CHECK(o.dumps.at("dst") == std::vector<double>(320, 6));
  CHECK(o.queues["mem.w1"]["instructions"] == 1);
  CHECK(run_write_at(16).has_hazard("stream-empty"));
}

TEST_CASE("a sync that no notify releases is reported as a deadlock", "[icu]") {
  RunRequest r;
  r.program = ".queue mem.w1\n    read 0, s0e\n    sync\n    read 1, s0e\n";
  const RunOutcome o = run_forked(r);
  REQUIRE(o.hazard_kinds.size() == 1);
  CHECK(o.hazard_kinds[0] == "deadlock");
  CHECK_THAT(o.hazard_messages[0], Catch::Matchers::Contains("mem.w1 waits at 'sync' (line 3) since cycle 1"));
}

TEST_CASE("config vl limits lanes and the trailing superlanes", "[icu][timing]") {
  // Both queues set vl = 160 (10 superlanes) in cycle 0. w1 reads in cycle 1; the word is at
  // w0 in 1 + 2 + 1 = 4, where w0 writes it (nop 3 idles cycles 1..3). The write commits in
  // 5 on superlane 0 and in 5 + 9 on superlane 9, the last active one: total 5 + 1 + 9 = 15.
  RunRequest r;
  r.program =
      ".tensor src int8 1 w1:0 fill=const:3\n.tensor dst int8 1 w0:0\n"
      ".queue mem.w1\n    config vl, 160\n    read 0, s0e\n"
      ".queue mem.w0\n    config vl, 160\n    nop 3\n    write 0, s0e\n";
  r.dumps = {"dst"};
  const RunOutcome o = run_forked(r);
  REQUIRE(o.hazard_kinds.empty());
  CHECK(o.total_cycles == 15);
  const auto& dst = o.dumps.at("dst");
  CHECK(dst[0] == 3);
  CHECK(dst[159] == 3);
  CHECK(dst[160] == 0);
}

TEST_CASE("an idle program takes the cycles of its nops and executes nothing", "[icu]") {
  RunRequest r;
  r.program = ".queue mem.w0\n    nop 1000\n";
  const RunOutcome o = run_forked(r);
  CHECK(o.total_cycles == 1000);
  CHECK(o.instructions == 0);
}
