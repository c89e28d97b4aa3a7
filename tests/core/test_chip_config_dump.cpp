// The resolved-configuration dump (chip_config_json): written in the chip file's own layout,
// it loads back to an equal ChipConfig, for the bundled chip and for one whose every
// parameter differs from it; the `run` record it carries is checked like any other key.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

using namespace lpusim;

namespace {
// A field added to ChipConfig must be written by chip_config_json and compared below.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(ChipConfig) == 1008, "ChipConfig changed: write the new field in chip_config_json and compare it here");
#endif

void same(const ChipConfig& a, const ChipConfig& b) {
  CHECK(a.name == b.name);
  CHECK(a.clock_mhz == b.clock_mhz);
  CHECK(a.superlanes == b.superlanes);
  CHECK(a.lanes_per_superlane == b.lanes_per_superlane);
  CHECK(a.superlane_skew == b.superlane_skew);
  CHECK(a.streams_per_direction == b.streams_per_direction);
  CHECK(a.stream_hop == b.stream_hop);
  CHECK(a.mem_slices_per_hemisphere == b.mem_slices_per_hemisphere);
  CHECK(a.mem_slice_words == b.mem_slice_words);
  CHECK(a.mem_reads_per_slice_per_cycle == b.mem_reads_per_slice_per_cycle);
  CHECK(a.mem_writes_per_slice_per_cycle == b.mem_writes_per_slice_per_cycle);
  CHECK(a.mxm_planes == b.mxm_planes);
  CHECK(a.mxm_rows == b.mxm_rows);
  CHECK(a.mxm_cols == b.mxm_cols);
  CHECK(a.mxm_queues_per_hemisphere == b.mxm_queues_per_hemisphere);
  CHECK(a.mxm_fp16_rate_divisor == b.mxm_fp16_rate_divisor);
  CHECK(a.mxm_fp8_rate_divisor == b.mxm_fp8_rate_divisor);
  CHECK(a.mxm_max_weight_streams == b.mxm_max_weight_streams);
  CHECK(a.mxm_accumulator_slots == b.mxm_accumulator_slots);
  CHECK(a.vxm_alus == b.vxm_alus);
  CHECK(a.sxm_queues_per_hemisphere == b.sxm_queues_per_hemisphere);
  CHECK(a.c2c_links == b.c2c_links);
  CHECK(a.c2c_link_gbps == b.c2c_link_gbps);
  CHECK(a.c2c_latency == b.c2c_latency);
  CHECK(a.host_link_latency_us == b.host_link_latency_us);
  CHECK(a.host_link_gbytes_per_s == b.host_link_gbytes_per_s);
  for (std::size_t i = 0; i < a.timing.size(); ++i) {
    INFO("opcode " << i);
    CHECK(a.timing[i].skew == b.timing[i].skew);
    CHECK(a.timing[i].func == b.timing[i].func);
  }
}
}  // namespace

TEST_CASE("the resolved chip configuration loads back to an equal configuration", "[config][dump]") {
  const ChipConfig bundled = load_chip_config(LPUSIM_TSP_V1);
  same(parse_chip_config(chip_config_json(bundled), "dump.json"), bundled);

  // Every parameter moved off its tsp-v1 value (keeping the loader's cross-checks happy), so
  // that a dump writing a constant or a wrong key's value cannot pass.
  nlohmann::json j = load_user_json(LPUSIM_TSP_V1);
  j["name"] = "other";
  j["clock_mhz"] = 1234.5;
  j["lanes"] = {{"superlanes", 10}, {"lanes_per_superlane", 32}, {"superlane_skew_cycles", 2}};
  j["streams"] = {{"per_direction", 40}, {"hop_cycles", 3}};
  j["mem"] = {{"slices_per_hemisphere", 30}, {"words_per_slice", 4096}, {"reads_per_slice_per_cycle", 2},
              {"writes_per_slice_per_cycle", 3}};
  j["mxm"] = {{"planes", 6}, {"rows", 300}, {"cols", 310}, {"queues_per_hemisphere", 9}, {"fp16_rate_divisor", 2},
              {"fp8_rate_divisor", 3}, {"max_weight_streams", 20}, {"accumulator_slots", 48}};
  j["vxm"] = {{"alus", 12}};
  j["sxm"] = {{"queues_per_hemisphere", 10}};
  j["c2c"] = {{"links", 8}, {"link_gbps", 56.5}, {"latency_cycles", 300}};
  j["host_link"] = {{"latency_us", 7.5}, {"gbytes_per_s", 12.0}};
  int k = 0;
  for (auto& [key, entry] : j["timing"].items()) {
    entry["skew_cycles"] = k % 3;
    entry["func_cycles"] = 5 + k++;
  }
  const ChipConfig other = parse_chip_config(j, "other.json");
  CHECK(other.clock_mhz == 1234.5);
  CHECK(other.mxm_fp8_rate_divisor == 3);
  same(parse_chip_config(chip_config_json(other), "dump.json"), other);
}

TEST_CASE("a configuration may carry the run it was dumped from, checked like any key", "[config][dump]") {
  nlohmann::json j = chip_config_json(load_chip_config(LPUSIM_TSP_V1));
  j["run"] = {{"program", "vadd.s"}, {"mode", "timing"}, {"scheduler", "clocked"}, {"check", true}};
  CHECK(parse_chip_config(j, "dump.json").name == "tsp-v1");
  j["run"]["mode"] = "fast";
  CHECK_THROWS_WITH(parse_chip_config(j, "dump.json"), Catch::Matchers::Contains("run.mode") &&
                                                           Catch::Matchers::Contains("\"functional\" or \"timing\""));
  j["run"]["mode"] = "timing";
  j["run"]["seed"] = 1;
  CHECK_THROWS_WITH(parse_chip_config(j, "dump.json"), Catch::Matchers::Contains("run.seed"));
}
