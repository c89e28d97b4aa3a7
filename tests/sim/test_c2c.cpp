// C2C links as simulated hardware (docs/multichip.md, "Links in the simulator"): a vector
// holds one direction of a link for its serialisation time and arrives the link's latency
// after its last bit left; values travel in functional runs; timing-only runs and the
// clocked reference give the same cycles; the checker finds the network's hazards.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
const std::string kC2c = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/c2c/";

RunRequest request(const std::string& file, SimMode mode = SimMode::Functional, std::vector<std::string> dumps = {},
                   Scheduler scheduler = Scheduler::EventDriven) {
  RunRequest r;
  r.program.clear();
  r.program_file = kC2c + file;
  r.mode = mode;
  r.dumps = std::move(dumps);
  r.scheduler = scheduler;
  return r;
}

RunRequest text(const std::string& program) {
  RunRequest r;
  r.program = program;
  return r;
}

/// ping_send.s's ramp as int8: 0, 1, ..., 127, -128, ..., wrapping every 256 lanes.
std::vector<double> ramp_int8(int lanes) {
  std::vector<double> v;
  for (int i = 0; i < lanes; ++i) v.push_back(static_cast<double>(static_cast<std::int8_t>(i & 0xff)));
  return v;
}
}  // namespace

TEST_CASE("a vector crosses a link in its serialisation time plus the link latency", "[c2c][timing]") {
  // ping_send.s sends in cycle 47; 320 bytes at 4 x 28 Gbps x 64/66 = 13.58 GB/s take
  // ceil(21.21) = 22 cycles at 900 MHz, and the link's latency is 216: the vector arrives in
  // cycle 47 + 22 + 216 = 285, where ping_recv.s receives it; its write commits in cycle 332
  // and the chip ends 1 + 19 trailing superlanes later: 352 (derived in the programs).
  // Chip 0 ends with the send's effect: 47 + send func 24 + 1 + 19 = 91.
  for (const Scheduler scheduler : {Scheduler::EventDriven, Scheduler::Clocked}) {
    for (const SimMode mode : {SimMode::Functional, SimMode::TimingOnly}) {
      INFO((mode == SimMode::Functional ? "functional" : "timing-only") << (scheduler == Scheduler::Clocked ? ", clocked" : ""));
      const bool functional = mode == SimMode::Functional;
      const SystemOutcome o = run_system_forked(
          {request("ping_send.s", mode, {}, scheduler),
           request("ping_recv.s", mode, functional ? std::vector<std::string>{"y"} : std::vector<std::string>{}, scheduler)},
          kC2c + "pair.json");
      REQUIRE(o.error.empty());
      CHECK(o.chips[0].hazard_kinds.empty());
      CHECK(o.chips[1].hazard_kinds.empty());
      CHECK(o.chips[0].total_cycles == 91);
      CHECK(o.chips[1].total_cycles == 352);
      CHECK(o.result.total_cycles == Cycle(352));
      if (scheduler == Scheduler::EventDriven) {
        REQUIRE(o.result.lookahead);
        CHECK(o.result.lookahead->value() == 216);  // the only link's latency
        CHECK(o.result.windows == 2);  // [0, 216): the send; [285, 501): the receive and the write
      }
      if (functional) CHECK(o.chips[1].dumps.at("y") == ramp_int8(320));
      CHECK(o.chips[0].result.c2c_vectors_sent == 1);
      CHECK(o.chips[0].result.c2c_link_busy_cycles == 22);
      CHECK(o.chips[1].result.c2c_vectors_received == 1);
      CHECK(o.chips[1].result.c2c_vectors_sent == 0);
    }
  }
}

TEST_CASE("a receive one cycle before the arrival finds nothing and the vector is lost", "[c2c][hazards]") {
  RunRequest early = request("ping_recv.s");
  early.program.clear();
  // The same receiver, one cycle early everywhere (receive in 284, write in 330).
  early.program = "; ping_recv.s one cycle early\n.tensor y int8 1 w0:0x0\n"
                  ".queue c2c.0\n    nop 284\n    receive 0, s0e\n.queue mem.w0\n    nop 330\n    write 0x0, s0e\n";
  const SystemOutcome o = run_system_forked({request("ping_send.s"), early}, kC2c + "pair.json");
  REQUIRE(o.error.empty());
  CHECK(o.chips[0].hazard_kinds.empty());
  CHECK(o.chips[1].count_hazards("receive-empty") == 1);
  CHECK(o.chips[1].count_hazards("data-lost") == 1);
  CHECK(o.chips[1].hazard_kinds.size() == 2);
}

TEST_CASE("a shorter vector length serialises faster", "[c2c][timing]") {
  // With vl 160 the send carries 160 bytes: ceil(160 / 13.58 GB/s x 900 MHz) = ceil(10.6) =
  // 11 cycles, so the vector arrives in 47 + 11 + 216 = 274, not 285.
  const std::string sender = ".tensor x int8 1 w0:0x0 fill=ramp:0:1\n.queue mem.w0\n    read 0x0, s0w\n"
                             ".queue c2c.0\n    config vl, 160\n    nop 46\n    send 0, s0w\n";
  auto receiver = [](int cycle) {
    return fmt::format(".queue c2c.0\n    config vl, 160\n    nop {}\n    receive 0, s0e\n", cycle - 1);
  };
  const SystemOutcome on_time = run_system_forked({text(sender), text(receiver(274))}, kC2c + "pair.json");
  REQUIRE(on_time.error.empty());
  CHECK(on_time.chips[1].hazard_kinds.empty());
  const SystemOutcome early = run_system_forked({text(sender), text(receiver(273))}, kC2c + "pair.json");
  REQUIRE(early.error.empty());
  CHECK(early.chips[1].has_hazard("receive-empty"));
}

TEST_CASE("a chip forwards a vector for a chip two hops away", "[c2c][timing]") {
  // line3.json: chip 0 - chip 1 - chip 2. Chip 1 receives in cycle 285 and sends on in 286;
  // chip 2 receives in 286 + 22 + 216 = 524 and ends in 591 (derived in forward_recv.s).
  for (const SimMode mode : {SimMode::Functional, SimMode::TimingOnly}) {
    const bool functional = mode == SimMode::Functional;
    const SystemOutcome o = run_system_forked(
        {request("forward_send.s", mode), request("forward_hop.s", mode),
         request("forward_recv.s", mode, functional ? std::vector<std::string>{"y"} : std::vector<std::string>{})},
        kC2c + "line3.json");
    REQUIRE(o.error.empty());
    for (const auto& chip : o.chips) CHECK(chip.hazard_kinds.empty());
    CHECK(o.chips[2].total_cycles == 591);
    if (functional) CHECK(o.chips[2].dumps.at("y") == ramp_int8(320));
  }
}

TEST_CASE("C2C instructions the system cannot carry are refused before the run", "[c2c][errors]") {
  const std::string uses_port_3 = ".queue c2c.3\n    deskew 3\n";
  const std::string idle = ".queue mem.w0\n    nop 1\n";
  // pair.json connects port 0 only.
  const SystemOutcome unconnected = run_system_forked({text(uses_port_3), text(idle)}, kC2c + "pair.json");
  CHECK_THAT(unconnected.error, Catch::Contains("chip 0 port 3 is not connected"));
  // No system at all.
  const SystemOutcome alone = run_system_forked({text(".queue c2c.0\n    deskew 0\n")});
  CHECK_THAT(alone.error, Catch::Contains("has no system of chips"));
  // A destination that is not another chip.
  const SystemOutcome self = run_system_forked(
      {text(".queue mem.w0\n    read 0x0, s0w\n.queue c2c.0\n    nop 47\n    send 0, s0w, 0\n"), text(idle)},
      kC2c + "pair.json");
  CHECK_THAT(self.error, Catch::Contains("destination chip 0 is not another chip"));
  // One program per chip of the system.
  const SystemOutcome short_of_chips = run_system_forked({text(idle)}, kC2c + "pair.json");
  CHECK_THAT(short_of_chips.error, Catch::Contains("the system has 2 chips, but the run gives 1 programs"));
}
