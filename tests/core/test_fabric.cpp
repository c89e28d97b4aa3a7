#include <catch2/catch.hpp>

#include "engine/fabric/sram.hpp"
#include "engine/fabric/stream_fabric.hpp"

using namespace lpusim;

namespace {
StreamData value(std::uint8_t v) { return std::make_shared<VectorBytes>(4, v); }
const StreamId east5{StreamIndex(5), Direction::East};
const StreamId west5{StreamIndex(5), Direction::West};
std::uint8_t seen(const StreamFabric& f, StreamId s, int q, std::int64_t c) {
  const auto* r = f.read(s, Position(q), Cycle(c));
  return r ? r->data()[0] : 0;
}
}  // namespace

TEST_CASE("a value written at p in cycle t is seen at q in t + |q - p| x hop, not a cycle before or after",
          "[fabric][timing]") {
  for (int hop : {1, 2, 3}) {
    INFO("hop " << hop);
    StreamFabric f(93, 32, Cycle(hop), Cycle(8));
    f.write(east5, Position(10), Cycle(100), value(7), 1);
    f.write(west5, Position(40), Cycle(100), value(9), 2);
    // Eastward: position 10 in cycle 100, position 25 in cycle 100 + 15 x hop.
    CHECK(seen(f, east5, 10, 100) == 7);
    CHECK(seen(f, east5, 25, 100 + 15 * hop) == 7);
    CHECK(seen(f, east5, 25, 100 + 15 * hop - 1) == 0);  // one cycle early: not there yet
    CHECK(seen(f, east5, 25, 100 + 15 * hop + 1) == 0);  // one cycle late: moved on
    CHECK(seen(f, east5, 9, 100 - hop) == 0);            // upstream of the writer: never
    // Westward: position 40 in cycle 100, position 2 in cycle 100 + 38 x hop.
    CHECK(seen(f, west5, 2, 100 + 38 * hop) == 9);
    CHECK(seen(f, west5, 2, 100 + 38 * hop - 1) == 0);
    CHECK(seen(f, west5, 41, 100 + hop) == 0);
    // The two directions of one stream index are different registers: at position 30 the
    // westward value passes in cycle 100 + 10 x hop, the eastward one in 100 + 20 x hop.
    CHECK(seen(f, west5, 30, 100 + 10 * hop) == 9);
    CHECK(seen(f, east5, 30, 100 + 10 * hop) == 0);
    CHECK(seen(f, east5, 30, 100 + 20 * hop) == 7);
    CHECK(seen(f, west5, 30, 100 + 20 * hop) == 0);
  }
}

TEST_CASE("a producer's write replaces the value passing its position", "[fabric]") {
  StreamFabric f(93, 32, Cycle(1), Cycle(8));
  f.write(east5, Position(5), Cycle(0), value(1), 1);  // reaches position 8 in cycle 3
  f.write(east5, Position(8), Cycle(3), value(2), 2);  // overwrites it there
  CHECK(seen(f, east5, 7, 2) == 1);    // before position 8 the first value flows on
  CHECK(seen(f, east5, 8, 3) == 2);    // from position 8 on, the second
  CHECK(seen(f, east5, 12, 7) == 2);
  CHECK(f.collisions().empty());
}

TEST_CASE("two writes into one register at one position and cycle are a collision", "[fabric]") {
  StreamFabric f(93, 32, Cycle(1), Cycle(8));
  f.write(east5, Position(5), Cycle(10), value(1), 11);
  f.write(east5, Position(5), Cycle(10), value(2), 12);
  REQUIRE(f.collisions().size() == 1);
  CHECK(f.collisions()[0].first_writer == 11);
  CHECK(f.collisions()[0].second_writer == 12);
  CHECK(f.collisions()[0].cycle == Cycle(10));
}

TEST_CASE("old diagonals leave no stale values as time moves on", "[fabric]") {
  StreamFabric f(93, 32, Cycle(1), Cycle(8));
  f.write(east5, Position(0), Cycle(0), value(3), 1);
  for (std::int64_t t = 1; t < 5000; t += 7) f.write(east5, Position(50), Cycle(t), value(4), 2);
  CHECK(seen(f, east5, 0, 4096) == 0);  // same ring slot as cycle 0, a different diagonal
}

TEST_CASE("SRAM reads see writes committed in earlier cycles only", "[sram][timing]") {
  SramSlice s(1024, 8);
  std::uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::uint8_t out[8] = {};
  s.write(Address(17), Cycle(10), in, 8);  // commits at the end of cycle 10
  s.read(Address(17), Cycle(10), out);
  CHECK(out[0] == 0);                      // same cycle: old contents
  s.read(Address(17), Cycle(11), out);
  CHECK(out[7] == 8);                      // next cycle: new contents
  CHECK(s.allocated_bytes() == SramSlice::kPageWords * 8);
  s.write_lane(Address(17), Cycle(12), 3, 99);
  s.flush();
  s.peek(Address(17), out);
  CHECK(out[3] == 99);
  CHECK(out[2] == 3);
}

TEST_CASE("SRAM pending writes commit in cycle order, reuse their buffers and keep arrival order on ties",
          "[sram]") {
  SramSlice s(1024, 4);
  const std::uint8_t a[4] = {1, 1, 1, 1}, b[4] = {2, 2, 2, 2}, c[4] = {3, 3, 3, 3};
  std::uint8_t out[4];
  s.write(Address(7), Cycle(10), a, 4);
  s.write(Address(7), Cycle(5), b, 2);  // arrives later, commits earlier: lanes 0-1 only
  s.write_lane(Address(7), Cycle(10), 3, 9);  // same commit cycle as `a`, after it
  s.read(Address(7), Cycle(5), out);  // commits in cycle 5 are not visible in cycle 5
  CHECK(out[0] == 0);
  s.read(Address(7), Cycle(6), out);
  CHECK((out[0] == 2 && out[1] == 2 && out[2] == 0 && out[3] == 0));
  s.read(Address(7), Cycle(11), out);
  CHECK((out[0] == 1 && out[1] == 1 && out[2] == 1 && out[3] == 9));
  // Many writes in flight, then again: the buffers are reused and every value survives.
  for (int round = 0; round < 2; ++round) {
    for (int w = 0; w < 100; ++w) {
      const std::uint8_t v[4] = {static_cast<std::uint8_t>(w), static_cast<std::uint8_t>(round), 0, 0};
      s.write(Address(w), Cycle(20 + 200 * round + w), v, 4);
    }
    for (int w = 0; w < 100; ++w) {
      s.read(Address(w), Cycle(21 + 200 * round + w), out);
      CHECK((out[0] == w && out[1] == round));
    }
  }
  s.write(Address(1), Cycle(1000), c, 4);
  s.flush();
  s.peek(Address(1), out);
  CHECK(out[0] == 3);
}
