#include <catch2/catch.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sequencer.hpp"
#include "engine/exec/bind.hpp"

using namespace lpusim;

namespace {
struct Issued {
  std::string text;
  std::int64_t cycle;
  std::int64_t address;
  int lanes;
};

std::vector<Issued> issues_of(const std::string& body, std::vector<std::int64_t> releases = {}) {
  static const ChipConfig chip = load_chip_config(LPUSIM_TSP_V1);
  static std::vector<BoundProgram> keep;  // the sequencer points into the bound program
  keep.push_back(bind_program(parse_program(".queue mem.w3\n" + body, "seq.s"), chip));
  QueueSequencer seq(keep.back().queues[0], chip.lanes());
  std::vector<Issued> out;
  while (seq.state() != QueueSequencer::State::Done) {
    if (seq.state() == QueueSequencer::State::Parked) {
      REQUIRE_FALSE(releases.empty());
      seq.release(Cycle(releases.front()));
      releases.erase(releases.begin());
      continue;
    }
    const Issue i = seq.take();
    out.push_back({i.instruction->text, i.cycle.value(), i.address, i.vector_lanes});
  }
  return out;
}
}  // namespace

TEST_CASE("a queue issues one instruction per cycle from cycle 0", "[sequencer][timing]") {
  const auto v = issues_of("read 0, s0e\nread 1, s1e\nwrite 2, s2w\n");
  REQUIRE(v.size() == 3);
  CHECK(v[0].cycle == 0);
  CHECK(v[1].cycle == 1);
  CHECK(v[2].cycle == 2);
}

TEST_CASE("nop n delays the next instruction by n cycles", "[sequencer][timing]") {
  const auto v = issues_of("nop 5\nread 0, s0e\nnop 1\nread 1, s0e\n");
  REQUIRE(v.size() == 2);
  CHECK(v[0].cycle == 5);  // 5 idle cycles: 0..4
  CHECK(v[1].cycle == 7);  // read at 5 uses cycle 5, nop idles cycle 6
}

TEST_CASE("repeat n, d, s re-issues the previous instruction d cycles apart with an address stride",
          "[sequencer][timing]") {
  const auto v = issues_of("read 0x10, s0e\nrepeat 3, 4, 2\nwrite 0, s1e\n");
  REQUIRE(v.size() == 5);
  for (int k = 0; k <= 3; ++k) {
    CHECK(v[static_cast<std::size_t>(k)].cycle == 4 * k);        // 0, 4, 8, 12
    CHECK(v[static_cast<std::size_t>(k)].address == 0x10 + 2 * k);
  }
  CHECK(v[4].cycle == 13);  // one cycle after the last repeat (12)
}

TEST_CASE("sync parks the queue until the release cycle", "[sequencer][timing]") {
  const auto v = issues_of("read 0, s0e\nsync\nread 1, s0e\nsync\nread 2, s0e\n", {40, 2});
  REQUIRE(v.size() == 3);
  CHECK(v[0].cycle == 0);
  CHECK(v[1].cycle == 40);  // released at 40
  CHECK(v[2].cycle == 42);  // release at 2 is in the past: the sync uses cycle 41, then issue at 42
}

TEST_CASE("config vl sets the lanes of later instructions", "[sequencer]") {
  const auto v = issues_of("read 0, s0e\nconfig vl, 160\nread 1, s0e\n");
  REQUIRE(v.size() == 3);
  CHECK(v[0].lanes == 320);
  CHECK(v[1].text == "config vl, 160");
  CHECK(v[2].lanes == 160);
  CHECK(v[2].cycle == 2);
}
