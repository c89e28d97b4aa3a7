// The SimResult codec: a struct with every field set (none at its default) comes back
// equal after a trip through JSON text. A field added to the structs and forgotten in the
// codec fails here (and the codec's size checks fail the build first).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/exec/sim_result_codec.hpp"

using namespace lpusim;

namespace {
// Same structs as the codec checks (sim_result_codec.cpp): a new field must be set below.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(SimResult) == 224 && sizeof(SystemResult) == 96 && sizeof(QueueStats) == 112 &&
                  sizeof(Hazard) == 80 && sizeof(TraceEvent) == 32,
              "a result struct changed: set the new field in full_result() and compare it in same()");
#endif

SimResult full_result(int seed) {
  SimResult r;
  r.mode = SimMode::TimingOnly;  // not the default
  r.total_cycles = Cycle(123456789012 + seed);
  r.instructions = 987654321ULL + static_cast<unsigned>(seed);
  QueueStats q;
  q.name = "chip1/mem.w12";
  q.unit = UnitKind::Sxm;
  q.instructions = 11;
  q.busy_cycles = 12;
  q.sram_reads = 13;
  q.sram_writes = 14;
  q.end = Cycle(15);
  q.parked = "'sync' (line 3) since cycle 1";
  r.queues = {q, q};
  r.queues[1].name = "vxm.alu3";
  r.queues[1].unit = UnitKind::C2c;
  r.hazards = {Hazard{Hazard::Kind::Deadlock, Cycle(77), "mem.e1", "waits \"forever\"\n"},
               Hazard{Hazard::Kind::MemPortConflict, Cycle(78), "", "two writes"}};
  r.hazards_not_kept = 5;
  r.dumps["y"] = {1.5, -0.0, std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL, 0.1, 1e-310};
  r.dumps["x"] = {};
  r.trace = {TraceEvent{1, Cycle(2), Cycle(3), 4}, TraceEvent{5, Cycle(6), Cycle(7), 8}};
  r.stream_writes = 21;
  r.stream_reads = 22;
  r.c2c_vectors_sent = 221;
  r.c2c_vectors_received = 222;
  r.c2c_link_busy_cycles = 223;
  r.scheduler_wakes = 23;
  r.host_seconds = 0.1 + seed;  // not exactly representable: must come back bit for bit
  r.sram_host_bytes = 24;
  r.peak_rss_bytes = 25;
  return r;
}

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); }

void same(const QueueStats& a, const QueueStats& b) {
  CHECK(a.name == b.name);
  CHECK(a.unit == b.unit);
  CHECK(a.instructions == b.instructions);
  CHECK(a.busy_cycles == b.busy_cycles);
  CHECK(a.sram_reads == b.sram_reads);
  CHECK(a.sram_writes == b.sram_writes);
  CHECK(a.end == b.end);
  CHECK(a.parked == b.parked);
}

void same(const SimResult& a, const SimResult& b) {
  CHECK(a.mode == b.mode);
  CHECK(a.total_cycles == b.total_cycles);
  CHECK(a.instructions == b.instructions);
  REQUIRE(a.queues.size() == b.queues.size());
  for (std::size_t i = 0; i < a.queues.size(); ++i) same(a.queues[i], b.queues[i]);
  REQUIRE(a.hazards.size() == b.hazards.size());
  for (std::size_t i = 0; i < a.hazards.size(); ++i) {
    CHECK(a.hazards[i].kind == b.hazards[i].kind);
    CHECK(a.hazards[i].cycle == b.hazards[i].cycle);
    CHECK(a.hazards[i].queue == b.hazards[i].queue);
    CHECK(a.hazards[i].message == b.hazards[i].message);
  }
  CHECK(a.hazards_not_kept == b.hazards_not_kept);
  REQUIRE(a.dumps.size() == b.dumps.size());
  for (const auto& [name, values] : a.dumps) {
    REQUIRE(b.dumps.count(name) == 1);
    const auto& other = b.dumps.at(name);
    REQUIRE(values.size() == other.size());
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(same_double(values[i], other[i]));
  }
  REQUIRE(a.trace.size() == b.trace.size());
  for (std::size_t i = 0; i < a.trace.size(); ++i) {
    CHECK(a.trace[i].queue == b.trace[i].queue);
    CHECK(a.trace[i].issue == b.trace[i].issue);
    CHECK(a.trace[i].duration == b.trace[i].duration);
    CHECK(a.trace[i].instruction == b.trace[i].instruction);
  }
  CHECK(a.stream_writes == b.stream_writes);
  CHECK(a.stream_reads == b.stream_reads);
  CHECK(a.c2c_vectors_sent == b.c2c_vectors_sent);
  CHECK(a.c2c_vectors_received == b.c2c_vectors_received);
  CHECK(a.c2c_link_busy_cycles == b.c2c_link_busy_cycles);
  CHECK(a.scheduler_wakes == b.scheduler_wakes);
  CHECK(same_double(a.host_seconds, b.host_seconds));
  CHECK(a.sram_host_bytes == b.sram_host_bytes);
  CHECK(a.peak_rss_bytes == b.peak_rss_bytes);
}
}  // namespace

TEST_CASE("codec: a SimResult with every field set comes back equal through JSON text", "[codec]") {
  const SimResult before = full_result(0);
  const std::string text = nlohmann::json(before).dump();
  const SimResult after = nlohmann::json::parse(text).get<SimResult>();
  same(before, after);
  // Every key the encoder writes is one the decoder reads: a key added to one side only
  // fails here.
  const nlohmann::json again = after;
  CHECK(again == nlohmann::json::parse(text));
}

TEST_CASE("codec: a SystemResult with every field set comes back equal, with its chips", "[codec]") {
  SystemResult before;
  before.chips = {full_result(1), full_result(2)};
  before.total_cycles = Cycle(31);
  before.instructions = 32;
  before.lookahead = Cycle(216);
  before.windows = 33;
  before.scheduler_wakes = 34;
  before.host_seconds = 1.0 / 3.0;
  before.sram_host_bytes = 35;
  before.peak_rss_bytes = 36;
  const SystemResult after = nlohmann::json::parse(nlohmann::json(before).dump()).get<SystemResult>();
  REQUIRE(after.chips.size() == 2);
  same(before.chips[0], after.chips[0]);
  same(before.chips[1], after.chips[1]);
  CHECK(after.total_cycles == before.total_cycles);
  CHECK(after.instructions == before.instructions);
  CHECK(after.lookahead == before.lookahead);
  CHECK(after.windows == before.windows);
  CHECK(after.scheduler_wakes == before.scheduler_wakes);
  CHECK(same_double(after.host_seconds, before.host_seconds));
  CHECK(after.sram_host_bytes == before.sram_host_bytes);
  CHECK(after.peak_rss_bytes == before.peak_rss_bytes);
  // An unbounded lookahead (no links) is null and comes back as none.
  before.lookahead.reset();
  CHECK_FALSE(nlohmann::json::parse(nlohmann::json(before).dump()).get<SystemResult>().lookahead);
}

TEST_CASE("codec: a malformed result is an error, not a default", "[codec]") {
  nlohmann::json j = full_result(0);
  j.erase("stream_reads");
  CHECK_THROWS(j.get<SimResult>());
  j = full_result(0);
  j["queues"][0]["unit"] = "gpu";
  CHECK_THROWS(j.get<SimResult>());
  j = full_result(0);
  j["hazards"][0]["kind"] = "meltdown";
  CHECK_THROWS(j.get<SimResult>());
}
