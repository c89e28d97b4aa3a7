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

namespace {
/// Chip `chip` of a GroqNode: sends its 4-vector tensor x (int8 ramp from 10 x chip) to all 7
/// other chips at once, one vector after another on each local port, and keeps what each
/// peer sends it in r<port>. Ports 0-6 (the local links, chip i reaches chip j on port j if
/// j < i, else j - 1) all sit at the west edge, position 0.
std::string all_to_all_program(int chip) {
  std::string p = fmt::format(".tensor x int8 4 w0:0x0 fill=ramp:{}:1\n", 10 * chip);
  for (int port = 0; port < 7; ++port) p += fmt::format(".tensor r{} int8 4 w{}:0x0\n", port, 8 + port);
  // x's vectors leave mem.w0 (position 45) on s0w in cycles 0, 22, 44, 66 and are at the west
  // edge 2 + 45 cycles later: 47, 69, 91, 113. Each port sends them there, back to back: each
  // holds the link for 22 cycles (320 bytes at 13.58 GB/s, 900 MHz), so no send waits.
  p += ".queue mem.w0\n    read 0x0, s0w\n    repeat 3, 22, 1\n";
  for (int port = 0; port < 7; ++port) {
    // Arrivals: 47 + 22 + 216 = 285, then 307, 329, 351. Each port's vectors go onto their
    // own eastward stream at position 0 one cycle later and reach mem.w(8 + port) (position
    // 37 - port) 37 - port cycles after that.
    p += fmt::format(".queue c2c.{}\n    nop 47\n    send {}, s0w\n    repeat 3, 22\n", port, port);
    p += fmt::format("    nop {}\n    receive {}, s{}e\n    repeat 3, 22\n", 285 - 47 - 67, port, port);
    p += fmt::format(".queue mem.w{}\n    nop {}\n    write 0x0, s{}e\n    repeat 3, 22, 1\n", 8 + port,
                     286 + 37 - port, port);
  }
  return p;
}

std::vector<double> ramp_int8_from(int first, int count) {
  std::vector<double> v;
  for (int i = 0; i < count; ++i) v.push_back(static_cast<double>(static_cast<std::int8_t>((first + i) & 0xff)));
  return v;
}
}  // namespace

TEST_CASE("eight chips of a GroqNode exchange vectors all to all in one window", "[c2c][timing]") {
  // Every chip sends 4 vectors on each of its 7 local links at once (the direct exchange an
  // all-reduce over a node uses): all 56 link directions busy together. Each port's queue
  // sends in 47, 69, 91, 113 (`repeat 3, 22`)
  // and receives in 285, 307, 329, 351; the last vector of port 0 reaches mem.w8 in
  // 351 + 1 + 37 = 389 and commits in 390: 390 + 1 + 19 = 410 cycles on every chip. Sends in
  // one lookahead window arrive in a later one, whatever order the chips run in: event-driven
  // windows, the clocked reference and timing-only mode all give the same.
  const std::string node = std::string(LPUSIM_SOURCE_DIR) + "/models/systems/groq-node.json";
  for (const Scheduler scheduler : {Scheduler::EventDriven, Scheduler::Clocked}) {
    for (const SimMode mode : {SimMode::Functional, SimMode::TimingOnly}) {
      INFO((mode == SimMode::Functional ? "functional" : "timing-only") << (scheduler == Scheduler::Clocked ? ", clocked" : ""));
      std::vector<RunRequest> chips;
      for (int c = 0; c < 8; ++c) {
        RunRequest r = text(all_to_all_program(c));
        r.mode = mode;
        r.scheduler = scheduler;
        if (mode == SimMode::Functional)
          for (int port = 0; port < 7; ++port) r.dumps.push_back(fmt::format("r{}", port));
        chips.push_back(r);
      }
      const SystemOutcome o = run_system_forked(chips, node);
      REQUIRE(o.error.empty());
      CHECK(o.result.total_cycles == Cycle(410));
      for (int c = 0; c < 8; ++c) {
        INFO("chip " << c);
        const RunOutcome& chip = o.chips[static_cast<std::size_t>(c)];
        CHECK(chip.hazard_kinds.empty());
        CHECK(chip.total_cycles == 410);
        CHECK(chip.result.c2c_vectors_sent == 28);
        CHECK(chip.result.c2c_vectors_received == 28);
        CHECK(chip.result.c2c_link_busy_cycles == 28 * 22);
        if (mode != SimMode::Functional) continue;
        for (int port = 0; port < 7; ++port) {
          const int peer = port < c ? port : port + 1;
          CHECK(chip.dumps.at(fmt::format("r{}", port)) == ramp_int8_from(10 * peer, 4 * 320));
        }
      }
    }
  }
}

TEST_CASE("a port keeps at most its buffer bound of unreceived vectors and reports the rest as lost", "[c2c][hazards]") {
  // 600 vectors, one every 22 cycles (as fast as the link serialises them), to an idle chip:
  // the port's buffer keeps the last 512 (C2cNetwork::kMaxBuffered), each a data-lost hazard,
  // and the 88 pushed out before them are one more, with their count.
  const std::string sender = ".tensor x int8 1 w0:0x0 fill=ramp:0:1\n.queue mem.w0\n    read 0x0, s0w\n"
                             "    repeat 599, 22\n.queue c2c.0\n    nop 47\n    send 0, s0w\n    repeat 599, 22\n";
  const SystemOutcome o = run_system_forked({text(sender), text(".queue mem.w0\n    nop 1\n")}, kC2c + "pair.json");
  REQUIRE(o.error.empty());
  CHECK(o.chips[0].hazard_kinds.empty());
  CHECK(o.chips[0].result.c2c_vectors_sent == 600);
  CHECK(o.chips[1].count_hazards("data-lost") == 513);
  CHECK_THAT(o.chips[1].hazard_messages.front(), Catch::Contains("88 vectors for chip 1 link 0 were pushed out"));
}

TEST_CASE("a chip with an empty program has no modules yet still catches what is sent to it", "[c2c][hazards]") {
  // Event-driven, a chip with no queues and no tensors is not elaborated (most of a large
  // system is idle in a stage-reuse window); the vector it never receives is still lost data.
  const std::string sender = ".tensor x int8 1 w0:0x0 fill=ramp:0:1\n.queue mem.w0\n    read 0x0, s0w\n"
                             ".queue c2c.0\n    nop 47\n    send 0, s0w\n";
  RunRequest idle;
  idle.empty_program = true;
  const SystemOutcome o = run_system_forked({text(sender), idle}, kC2c + "pair.json");
  INFO(o.error);
  REQUIRE(o.error.empty());
  CHECK(o.chips[0].hazard_kinds.empty());
  CHECK(o.chips[0].result.c2c_vectors_sent == 1);
  CHECK(o.chips[1].result.total_cycles == Cycle(0));
  CHECK(o.chips[1].result.instructions == 0);
  CHECK(o.chips[1].count_hazards("data-lost") == 1);
}
