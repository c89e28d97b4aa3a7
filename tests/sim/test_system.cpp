// Systems of several chips in one SystemC kernel (no links yet): every chip must run exactly
// as it runs alone, on both schedulers and in both modes, and every name a report shows must
// carry its chip.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include <fmt/format.h>

#include "engine/exec/bind.hpp"
#include "engine/exec/sim_result_codec.hpp"
#include "engine/report/stats.hpp"
#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
const std::string kExamples = std::string(LPUSIM_SOURCE_DIR) + "/workloads/examples/";
const std::string kHazards = std::string(LPUSIM_SOURCE_DIR) + "/tests/data/hazards/";

RunRequest request(const std::string& file, SimMode mode, std::vector<std::string> dumps = {},
                   Scheduler scheduler = Scheduler::EventDriven) {
  RunRequest r;
  r.program.clear();
  r.program_file = file;
  r.mode = mode;
  r.dumps = std::move(dumps);
  r.scheduler = scheduler;
  return r;
}

/// Queue statistics without the chip prefix ("chip1/mem.w0" -> "mem.w0"), to compare a chip
/// in a system with the same program run alone.
nlohmann::json unqualified(const nlohmann::json& queues, int chip) {
  nlohmann::json out = nlohmann::json::object();
  const std::string prefix = fmt::format("chip{}/", chip);
  for (const auto& [name, stats] : queues.items()) {
    CHECK(name.rfind(prefix, 0) == 0);
    out[name.substr(name.rfind(prefix, 0) == 0 ? prefix.size() : 0)] = stats;
  }
  return out;
}
}  // namespace

TEST_CASE("two chips in one kernel each run their own program in exactly the cycles it takes alone",
          "[system]") {
  // gemv320.s (155 cycles, derived in its comments) on chip 0 and softmax.s (851) on chip 1:
  // different lengths, units and instruction mixes. With no links nothing passes between
  // the chips, so each must match its own run alone to the cycle, queue by queue, value by
  // value.
  for (const SimMode mode : {SimMode::Functional, SimMode::TimingOnly}) {
    INFO((mode == SimMode::Functional ? "functional" : "timing-only"));
    const bool functional = mode == SimMode::Functional;
    const RunRequest gemv = request(kExamples + "gemv320.s", mode, functional ? std::vector<std::string>{"y"} : std::vector<std::string>{});
    const RunRequest softmax = request(kExamples + "softmax.s", mode, functional ? std::vector<std::string>{"y"} : std::vector<std::string>{});
    const RunOutcome gemv_alone = run_forked(gemv);
    const RunOutcome softmax_alone = run_forked(softmax);
    REQUIRE(gemv_alone.error.empty());
    REQUIRE(softmax_alone.error.empty());
    CHECK(gemv_alone.total_cycles == 155);
    CHECK(softmax_alone.total_cycles == 851);

    const SystemOutcome both = run_system_forked({gemv, softmax});
    REQUIRE(both.error.empty());
    REQUIRE(both.chips.size() == 2);
    const RunOutcome& chip0 = both.chips[0];
    const RunOutcome& chip1 = both.chips[1];
    CHECK(chip0.hazard_kinds.empty());
    CHECK(chip1.hazard_kinds.empty());
    CHECK(chip0.total_cycles == gemv_alone.total_cycles);
    CHECK(chip1.total_cycles == softmax_alone.total_cycles);
    CHECK(chip0.instructions == gemv_alone.instructions);
    CHECK(chip1.instructions == softmax_alone.instructions);
    CHECK(unqualified(chip0.queues, 0) == gemv_alone.queues);
    CHECK(unqualified(chip1.queues, 1) == softmax_alone.queues);
    CHECK(chip0.result.stream_writes == gemv_alone.result.stream_writes);
    CHECK(chip1.result.stream_reads == softmax_alone.result.stream_reads);
    if (functional) {
      CHECK(chip0.dumps.at("y") == gemv_alone.dumps.at("y"));
      CHECK(chip1.dumps.at("y") == softmax_alone.dumps.at("y"));
    }
    // The system's totals: the later chip's end, the sum of the instructions; no links, so
    // one unbounded lookahead window holds the whole run.
    CHECK(both.result.total_cycles.value() == 851);
    CHECK(both.result.instructions == gemv_alone.instructions + softmax_alone.instructions);
    CHECK_FALSE(both.result.lookahead);
    CHECK(both.result.windows == 1);
  }
}

TEST_CASE("the clocked reference runs two chips to the same cycles and stops only when both are idle",
          "[system][clocked]") {
  // vadd.s ends at cycle 28, gemv1024x512.s at 279 (both derived in their comments): if the first chip to go idle stopped
  // the clock, chip 1 would stop short of its cycles and instructions.
  const RunRequest vadd = request(kExamples + "vadd.s", SimMode::TimingOnly, {}, Scheduler::Clocked);
  const RunRequest gemv = request(kExamples + "gemv1024x512.s", SimMode::TimingOnly, {}, Scheduler::Clocked);
  const SystemOutcome clocked = run_system_forked({vadd, gemv});
  REQUIRE(clocked.error.empty());
  RunRequest vadd_event = vadd, gemv_event = gemv;
  vadd_event.scheduler = gemv_event.scheduler = Scheduler::EventDriven;
  const SystemOutcome event = run_system_forked({vadd_event, gemv_event});
  REQUIRE(event.error.empty());
  for (std::size_t c = 0; c < 2; ++c) {
    INFO("chip " << c);
    CHECK(clocked.chips[c].hazard_kinds.empty());
    CHECK(clocked.chips[c].total_cycles == event.chips[c].total_cycles);
    CHECK(clocked.chips[c].instructions == event.chips[c].instructions);
    CHECK(clocked.chips[c].queues == event.chips[c].queues);
  }
  CHECK(clocked.chips[0].total_cycles == 28);
  CHECK(clocked.chips[1].total_cycles == 279);
  // One process per queue of each chip (144 on tsp-v1) ticks every cycle, and one watcher:
  // far more activations than the event-driven dispatcher's two.
  CHECK(event.result.scheduler_wakes == 2);
  CHECK(clocked.result.scheduler_wakes > 2 * 144 * 100);
}

TEST_CASE("a system refuses chips on different schedulers", "[system][errors]") {
  const SystemOutcome o = run_system_forked({request(kExamples + "vadd.s", SimMode::TimingOnly),
                                             request(kExamples + "vadd.s", SimMode::TimingOnly, {}, Scheduler::Clocked)});
  CHECK(o.error == "every chip of a system runs on the same scheduler (event-driven or clocked)");
}

TEST_CASE("eight chips run eight programs, and a hazard on chip 3 is reported with its chip's name",
          "[system][hazards]") {
  // Seven copies of vadd.s (28 cycles each) and, on chip 3, a sync that no notify releases.
  std::vector<RunRequest> chips(8, request(kExamples + "vadd.s", SimMode::Functional, {"c"}));
  chips[3] = request(kHazards + "deadlock.s", SimMode::Functional);
  const RunOutcome vadd_alone = run_forked(chips[0]);
  const SystemOutcome o = run_system_forked(chips);
  REQUIRE(o.error.empty());
  REQUIRE(o.chips.size() == 8);
  for (int c = 0; c < 8; ++c) {
    INFO("chip " << c);
    if (c == 3) continue;
    CHECK(o.chips[c].hazard_kinds.empty());
    CHECK(o.chips[c].total_cycles == 28);
    CHECK(o.chips[c].instructions == vadd_alone.instructions);
    CHECK(o.chips[c].dumps.at("c") == vadd_alone.dumps.at("c"));
    CHECK(o.chips[c].queues.contains(fmt::format("chip{}/vxm.alu0", c)));
  }
  const RunOutcome& chip3 = o.chips[3];
  REQUIRE(chip3.hazard_kinds == std::vector<std::string>{"deadlock"});
  const Hazard& h = chip3.result.hazards.front();
  CHECK(h.queue == "chip3/mem.w1");
  CHECK(h.message == "chip3/mem.w1 waits at 'sync' (line 4) since cycle 0 for a notify that never comes");
  CHECK_THAT(hazard_report(chip3.result), Catch::Matchers::Contains("[deadlock] cycle 0, chip3/mem.w1: chip3/mem.w1 waits"));
}

TEST_CASE("a system's trace has a process per chip and chip-qualified tracks", "[system][trace]") {
  RunRequest vadd = request(kExamples + "vadd.s", SimMode::TimingOnly);
  vadd.trace = true;
  RunRequest chain = request(kExamples + "vxm_chain.s", SimMode::TimingOnly);
  chain.trace = true;
  const SystemOutcome o = run_system_forked({vadd, chain});
  REQUIRE(o.error.empty());
  std::map<int, std::string> processes;
  std::map<int, std::uint64_t> slices;
  std::set<std::string> tracks;
  for (const auto& e : o.trace["traceEvents"]) {
    if (e["ph"] == "X") ++slices[e["pid"].get<int>()];
    if (e["ph"] == "M" && e["name"] == "process_name") processes[e["pid"].get<int>()] = e["args"]["name"];
    if (e["ph"] == "M" && e["name"] == "thread_name") tracks.insert(e["args"]["name"].get<std::string>());
  }
  REQUIRE(processes.size() == 2);
  CHECK_THAT(processes[1], Catch::Matchers::StartsWith("chip0 (tsp-v1: "));
  CHECK_THAT(processes[2], Catch::Matchers::StartsWith("chip1 (tsp-v1: "));
  // Every issued instruction is one slice, in its chip's process.
  CHECK(slices[1] == o.chips[0].instructions);
  CHECK(slices[2] == o.chips[1].instructions);
  CHECK(tracks.count("chip0/vxm.alu0") == 1);
  CHECK(tracks.count("chip1/vxm.alu0") == 1);
  CHECK(tracks.count("vxm.alu0") == 0);
}

TEST_CASE("stats are a tree system -> chip -> unit -> queue holding every field of the results", "[system][stats]") {
  const SystemOutcome o = run_system_forked(
      {request(kExamples + "vadd.s", SimMode::TimingOnly), request(kExamples + "vxm_chain.s", SimMode::TimingOnly)});
  REQUIRE(o.error.empty());
  // The reports need each chip's configuration and bound program: plain C++, built here.
  const BoundProgram vadd = bind_program(load_program(kExamples + "vadd.s"), tsp_v1());
  const BoundProgram chain = bind_program(load_program(kExamples + "vxm_chain.s"), tsp_v1());
  const nlohmann::json stats = stats_json({ReportedChip{tsp_v1(), vadd}, ReportedChip{tsp_v1(), chain}}, o.result);
  CHECK(stats.at("stats_format") == 2);
  const nlohmann::json& system = stats.at("system");
  CHECK(system.at("chip_count") == 2);
  CHECK(system.at("total_cycles") == 50);  // vxm_chain's 50 cycles outlast vadd's 28
  // Every field the codec writes is in its node, with the codec's value (see stats.hpp for
  // the few that become the tree or have files of their own).
  const nlohmann::json system_fields = o.result;
  for (const auto& [key, value] : system_fields.items())
    if (key != "chips") CHECK(system.at(key) == value);
  REQUIRE(system.at("chips").size() == 2);
  for (int c = 0; c < 2; ++c) {
    INFO("chip " << c);
    const nlohmann::json& chip = system.at("chips").at(fmt::format("chip{}", c));
    const SimResult& result = o.result.chips[static_cast<std::size_t>(c)];
    const nlohmann::json chip_fields = result;
    for (const auto& [key, value] : chip_fields.items())
      if (key != "queues" && key != "trace" && key != "dumps") CHECK(chip.at(key) == value);
    CHECK_FALSE(chip.contains("trace"));
    CHECK(chip.at("config") == "tsp-v1");
    const nlohmann::json& units = chip.at("units");
    CHECK(units.size() == 5);  // mem, vxm, mxm, sxm, c2c
    // Each queue of the result is one leaf, under its unit, keyed by its name past the unit.
    std::size_t leaves = 0;
    for (const auto& [unit, node] : units.items()) leaves += node.at("queues").size();
    CHECK(leaves == result.queues.size());
    for (const auto& q : result.queues) {
      INFO(q.name);
      const std::string key = q.name.substr(q.name.find('.') + 1);
      const nlohmann::json& leaf = units.at(unit_name(q.unit)).at("queues").at(key);
      const nlohmann::json queue_fields = q;
      for (const auto& [field, value] : queue_fields.items())
        if (field != "name" && field != "unit") CHECK(leaf.at(field) == value);
      CHECK(leaf.contains("busy_percent"));
    }
  }
  CHECK(system.at("chips").at("chip1").at("units").at("vxm").at("queues").contains("alu2"));
  CHECK(system.at("chips").at("chip0").at("units").at("mem").at("instructions") == 3);  // vadd: 2 reads, 1 write
}
