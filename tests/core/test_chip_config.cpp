#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

using namespace lpusim;
using nlohmann::json;

namespace {
json valid_config() { return load_user_json(LPUSIM_TSP_V1); }

std::string error_of(const json& j) {
  try {
    (void)parse_chip_config(j, "chip.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of_text(const std::string& text) {
  try {
    (void)parse_chip_config(parse_user_json(text, "chip.json"), "chip.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

void collect_leaf_keys(const json& j, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) collect_leaf_keys(*it, key, out);
    else out.push_back(key);
  }
}
}  // namespace

TEST_CASE("tsp-v1 loads with the reference's numbers", "[config]") {
  const ChipConfig c = load_chip_config(LPUSIM_TSP_V1);
  CHECK(c.name == "tsp-v1");
  CHECK(c.clock_mhz == 900.0);
  CHECK(c.lanes() == 320);                // 20 superlanes x 16 lanes
  CHECK(c.vector_bytes() == 320);
  CHECK(c.streams_per_direction == 32);
  CHECK(c.sram_bytes() == 230686720);     // 88 slices x 8192 words x 320 B = 220 MiB
  CHECK(c.positions() == 93);             // MXM SXM 44xMEM VXM 44xMEM SXM MXM
  CHECK(c.vxm_position() == Position(46));
  CHECK(c.mem_position(Hemisphere::West, SliceIndex(0)) == Position(45));
  CHECK(c.mem_position(Hemisphere::West, SliceIndex(43)) == Position(2));
  CHECK(c.mem_position(Hemisphere::East, SliceIndex(0)) == Position(47));
  CHECK(c.mem_position(Hemisphere::East, SliceIndex(43)) == Position(90));
  CHECK(c.skew_tail() == Cycle(19));      // a full-width op ends 19 cycles after superlane 0
  // 144 queues: 2 x (6 MXM + 14 SXM + 44 MEM) + 16 VXM.
  CHECK(2 * (c.mxm_queues_per_hemisphere + c.sxm_queues_per_hemisphere + c.mem_slices_per_hemisphere) + c.vxm_alus == 144);
  CHECK(c.timing_of(Opcode::Read).func == Cycle(2));
}

TEST_CASE("malformed chip configs give one line naming file, key and expectation", "[config][errors]") {
  SECTION("unknown top-level key") {
    json j = valid_config();
    j["clock_ghz"] = 1;
    CHECK(error_of(j) == "chip.json: key 'clock_ghz': unknown key");
  }
  SECTION("unknown nested key") {
    json j = valid_config();
    j["mem"]["slice_count"] = 44;
    CHECK(error_of(j) == "chip.json: key 'mem.slice_count': unknown key");
  }
  SECTION("wrong type") {
    json j = valid_config();
    j["lanes"]["superlanes"] = "20";
    CHECK(error_of(j) == "chip.json: key 'lanes.superlanes': expected an integer in [1, 256], got string \"20\"");
  }
  SECTION("fraction where an integer is needed") {
    json j = valid_config();
    j["mem"]["words_per_slice"] = 8192.5;
    CHECK_THAT(error_of(j), Catch::Matchers::StartsWith("chip.json: key 'mem.words_per_slice': expected an integer"));
  }
  SECTION("out of range") {
    json j = valid_config();
    j["streams"]["per_direction"] = 0;
    CHECK(error_of(j) == "chip.json: key 'streams.per_direction': expected an integer in [1, 1024], got 0");
  }
  SECTION("negative clock") {
    json j = valid_config();
    j["clock_mhz"] = -900;
    CHECK(error_of(j) == "chip.json: key 'clock_mhz': expected a number in [1, 100000], got -900");
  }
  SECTION("huge value") {
    json j = valid_config();
    j["mem"]["words_per_slice"] = 18446744073709551615ULL;
    CHECK_THAT(error_of(j), Catch::Matchers::StartsWith("chip.json: key 'mem.words_per_slice': expected an integer in [1, 16777216]"));
  }
  SECTION("missing key") {
    json j = valid_config();
    j["vxm"].erase("alus");
    CHECK(error_of(j) == "chip.json: key 'vxm.alus': missing (required)");
  }
  SECTION("missing timing entry") {
    json j = valid_config();
    j["timing"].erase("vxm.add");
    CHECK(error_of(j) == "chip.json: key 'timing.vxm.add': missing (required)");
  }
  SECTION("timing for an unknown opcode") {
    json j = valid_config();
    j["timing"]["vxm.fma"] = {{"skew_cycles", 0}, {"func_cycles", 3}};
    CHECK(error_of(j) == "chip.json: key 'timing.vxm.fma': unknown key");
  }
  SECTION("result before operands") {
    json j = valid_config();
    j["timing"]["vxm.mul"]["skew_cycles"] = 3;
    CHECK_THAT(error_of(j), Catch::Matchers::StartsWith("chip.json: key 'timing.vxm.mul': expected func_cycles (3) greater than skew_cycles (3)"));
  }
  SECTION("section of the wrong type") {
    json j = valid_config();
    j["mem"] = 44;
    CHECK(error_of(j) == "chip.json: key 'mem': expected an object, got number 44");
  }
  SECTION("top level not an object") {
    CHECK(error_of(json::array()) == "chip.json: top level: expected an object, got array []");
  }
  SECTION("odd MXM plane count") {
    json j = valid_config();
    j["mxm"]["planes"] = 3;
    CHECK_THAT(error_of(j), Catch::Matchers::StartsWith("chip.json: key 'mxm.planes': expected an even number"));
  }
  SECTION("invalid JSON names line and column") {
    CHECK_THAT(error_of_text("{\n  \"name\": \"x\",\n  \"clock_mhz\": ,\n}"), Catch::Matchers::StartsWith("chip.json:3:16: invalid JSON"));
  }
  SECTION("empty file") { CHECK(error_of_text("  \n") == "chip.json: file is empty, expected a JSON object"); }
  SECTION("deep nesting") {
    CHECK(error_of_text(std::string(100000, '[') + std::string(100000, ']')) == "chip.json: JSON nested deeper than 32 levels");
  }
  SECTION("not a file") {
    CHECK_THROWS_WITH(load_chip_config("/nonexistent.json"), "/nonexistent.json: file not found");
    CHECK_THROWS_WITH(load_chip_config("/tmp"), "/tmp: is a directory, expected a file");
  }
}

TEST_CASE("docs/chip-config.md documents every key of tsp-v1.json", "[config][docs]") {
  std::ifstream in(std::string(LPUSIM_SOURCE_DIR) + "/docs/chip-config.md");
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string doc = buffer.str();
  std::vector<std::string> keys;
  collect_leaf_keys(valid_config(), "", keys);
  for (const auto& key : keys) {
    if (key.rfind("timing.", 0) == 0) continue;  // timing entries are documented per opcode below
    INFO(key);
    CHECK(doc.find("`" + key + "`") != std::string::npos);
  }
  // Keep the config alive: a range-for over items() of a temporary's member reads freed memory.
  const auto config = valid_config();
  for (const auto& [name, entry] : config["timing"].items()) {
    INFO(name);
    CHECK(doc.find("`" + name + "`") != std::string::npos);
  }
}

TEST_CASE("lpu-gen2 gives the published gen-2 figures its documentation derives", "[config][docs]") {
  const std::string path = std::string(LPUSIM_SOURCE_DIR) + "/models/chips/lpu-gen2.json";
  const ChipConfig c = load_chip_config(path);
  CHECK(c.name == "lpu-gen2");
  // ~500 MB SRAM (B): 2 x 44 x 17,760 x 320 B = 500,121,600 B.
  CHECK(c.sram_bytes() == 500121600);
  // ~1.2 PFLOPS fp8 (B): 4 planes x 320 x 320 MACs x 2 FLOP x 1.5 GHz = 1.2288e15, fp8 at the
  // int8 rate (one abc per cycle per plane).
  const double fp8_flops = 2.0 * c.mxm_planes * c.mxm_rows * c.mxm_cols * c.clock_mhz * 1e6;
  CHECK(fp8_flops == Approx(1.2288e15));
  CHECK(fp8_flops == Approx(1.2e15).epsilon(0.03));
  // 96 links at 112 Gb/s (B): 10.75 Tb/s = 1.344 TB/s each way, ~2.7 TB/s both ("~2.5 TB/s").
  CHECK(c.c2c_links == 96);
  CHECK(c.c2c_links * c.c2c_link_gbps / 8.0 / 1000.0 == Approx(1.344));
  // The modelled slice bandwidth, stated in the docs as 56% of the published 150 TB/s.
  const double slice_bytes_per_s = 2.0 * c.mem_slices_per_hemisphere * 2 * c.vector_bytes() * c.clock_mhz * 1e6;
  CHECK(slice_bytes_per_s / 1e12 == Approx(84.48));

  std::ifstream in(std::string(LPUSIM_SOURCE_DIR) + "/docs/chip-config.md");
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string doc = buffer.str();
  const std::string section = doc.substr(doc.find("## `lpu-gen2`"));
  std::vector<std::string> keys;
  collect_leaf_keys(load_user_json(path), "", keys);
  for (const auto& key : keys) {
    if (key.rfind("timing.", 0) == 0 || key == "name" || key == "description") continue;  // timing: one row for all
    INFO(key);
    CHECK(section.find("`" + key + "`") != std::string::npos);
  }
}
