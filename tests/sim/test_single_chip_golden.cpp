// Single-chip runs stay exactly as they were: every example and every hazard program, in
// both modes, against tests/data/single_chip_golden.txt: total cycles, instructions, hazards,
// and hashes of the trace's events and of every counter the stats are made of (per queue,
// per hazard, the fabric). The file was written when the multi-chip dispatcher replaced the
// single-chip one, after `lpusim run --stats --trace` on all of these programs had been
// compared byte for byte with the previous dispatcher's output. A change here is a change
// in what a single chip does: make it on purpose, in its own commit, and regenerate with
//
//   LPUSIM_WRITE_GOLDEN=tests/data/single_chip_golden.txt build/release/tests/test_sim "single-chip runs match*"
// (from the source directory).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// Every counter the stats are built from, as text (independent of the stats' format).
std::string counters_text(const SimResult& r) {
  std::string s = fmt::format("writes {} reads {} hazards_not_kept {}\n", r.stream_writes, r.stream_reads, r.hazards_not_kept);
  for (const auto& q : r.queues)
    s += fmt::format("queue {} {} {} {} {} {} {} '{}'\n", q.name, unit_name(q.unit), q.instructions, q.busy_cycles,
                     q.sram_reads, q.sram_writes, q.end.value(), q.parked);
  for (const auto& h : r.hazards)
    s += fmt::format("hazard {} {} '{}' '{}'\n", hazard_kind_name(h.kind), h.cycle.value(), h.queue, h.message);
  return s;
}

std::vector<std::string> programs() {
  std::vector<std::string> out;
  for (const char* dir : {"workloads/examples", "tests/data/hazards"})
    for (const auto& e : std::filesystem::directory_iterator(std::string(LPUSIM_SOURCE_DIR) + "/" + dir))
      if (e.path().extension() == ".s") out.push_back(std::string(dir) + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("single-chip runs match their golden figures", "[golden][programs]") {
  std::string got;
  for (const auto& program : programs()) {
    for (const SimMode mode : {SimMode::Functional, SimMode::TimingOnly}) {
      RunRequest r;
      r.program.clear();
      r.program_file = std::string(LPUSIM_SOURCE_DIR) + "/" + program;
      r.mode = mode;
      r.trace = true;
      const RunOutcome o = run_forked(r);
      REQUIRE(o.error.empty());
      got += fmt::format("{} {} cycles={} instructions={} hazards={} trace={:016x} counters={:016x}\n", program,
                         mode == SimMode::Functional ? "functional" : "timing", o.total_cycles, o.instructions,
                         o.result.hazards.size(), fnv1a(o.trace.at("traceEvents").dump()),
                         fnv1a(counters_text(o.result)));
    }
  }
  const std::string golden = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/single_chip_golden.txt";
  if (const char* out = std::getenv("LPUSIM_WRITE_GOLDEN")) {
    std::ofstream(out) << got;
    WARN("wrote " << out);
    return;
  }
  std::ifstream in(golden);
  REQUIRE(in);
  std::stringstream expected;
  expected << in.rdbuf();
  // Line by line, so that a failure names the program and mode.
  std::istringstream want(expected.str()), have(got);
  std::string a, b;
  int lines = 0;
  while (std::getline(want, a)) {
    ++lines;
    REQUIRE(std::getline(have, b));
    CHECK(b == a);
  }
  CHECK_FALSE(std::getline(have, b));
  CHECK(lines >= 26);  // 7 examples and 6 hazard programs, in both modes
}
