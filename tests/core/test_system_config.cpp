// Multi-chip system configurations: the standard topologies have the link counts their
// construction implies, every port is used at most once, and every static route is a chain
// of existing links ending at its destination.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "arch/config/json_input.hpp"
#include "arch/config/system_config.hpp"
#include "arch/core/error.hpp"

using namespace lpusim;

namespace {
SystemConfig bundled(const std::string& name) {
  const auto resolve = [](const std::string& chip, const std::string&) {
    return std::string(LPUSIM_SOURCE_DIR) + "/models/chips/" + chip + ".json";
  };
  return load_system_config(std::string(LPUSIM_SOURCE_DIR) + "/models/systems/" + name + ".json", resolve);
}

/// Checks a route hop by hop; returns its length.
int check_route(const SystemConfig& s, int src, int dst) {
  const auto hops = s.route(ChipId(src), ChipId(dst));
  ChipId at(src);
  for (const auto& h : hops) {
    REQUIRE(h.from == at);
    const SystemLink& l = s.links[static_cast<std::size_t>(h.link.value())];
    const bool forward = l.a.chip == h.from && l.b.chip == h.to;
    const bool backward = l.b.chip == h.from && l.a.chip == h.to;
    REQUIRE((forward || backward));
    at = h.to;
  }
  REQUIRE(at == ChipId(dst));
  return static_cast<int>(hops.size());
}

void check_ports_unique(const SystemConfig& s) {
  std::set<std::pair<int, int>> used;
  for (const auto& l : s.links) {
    REQUIRE(used.insert({l.a.chip.value(), l.a.port.value()}).second);
    REQUIRE(used.insert({l.b.chip.value(), l.b.port.value()}).second);
    REQUIRE(l.a.port.value() < s.chip.c2c_links);
    REQUIRE(l.b.port.value() < s.chip.c2c_links);
  }
}
}  // namespace

TEST_CASE("a GroqNode is 8 chips fully connected by local links, every route one hop") {
  const SystemConfig s = bundled("groq-node");
  REQUIRE(s.chips == 8);
  REQUIRE(s.links.size() == 28);  // 8 x 7 / 2
  check_ports_unique(s);
  for (int a = 0; a < 8; ++a) {
    REQUIRE(s.neighbours(ChipId(a)).size() == 7);
    for (int b = 0; b < 8; ++b) REQUIRE(check_route(s, a, b) == (a == b ? 0 : 1));
  }
  REQUIRE(s.min_link_latency() == Cycle(216));
}

TEST_CASE("a GroqRack is 9 nodes, node pairs joined by 4 links from different chips, routes at most 3 hops") {
  const SystemConfig s = bundled("groq-rack");
  REQUIRE(s.chips == 72);
  // 9 nodes x 28 local links + 36 node pairs x 4 global links.
  REQUIRE(s.links.size() == 9 * 28 + 36 * 4);
  check_ports_unique(s);
  // The 4 links between nodes 0 and 1 leave node 0 from 4 different chips.
  std::set<int> exits;
  for (const auto& l : s.links)
    if (l.a.chip.value() / 8 == 0 && l.b.chip.value() / 8 == 1) exits.insert(l.a.chip.value());
  REQUIRE(exits.size() == 4);
  int longest = 0;
  for (int a = 0; a < 72; a += 5)
    for (int b = 0; b < 72; ++b) longest = std::max(longest, check_route(s, a, b));
  REQUIRE(longest == 3);  // local hop to the exit chip, the node-to-node link, local hop to the target
}

TEST_CASE("Dragonfly: racks joined by 144 global links each, 145 racks make 10440 chips") {
  const SystemConfig two = bundled("dragonfly-2");
  REQUIRE(two.chips == 144);
  // per rack: 9 x 28 local + 36 pairs x 2 intra-rack global; between the 2 racks all 144 slots.
  REQUIRE(two.links.size() == 2 * (9 * 28 + 36 * 2) + 144);
  check_ports_unique(two);
  int longest = 0;
  for (int b = 0; b < two.chips; ++b) longest = std::max(longest, check_route(two, 0, b));
  for (int b = 0; b < two.chips; ++b) longest = std::max(longest, check_route(two, 77, b));
  // rack route (<= 3) + the rack-to-rack link + rack route (<= 3)
  REQUIRE(longest <= 7);
  REQUIRE(longest >= 4);

  const SystemConfig big = bundled("dragonfly-145");
  REQUIRE(big.chips == 10440);
  // one link between every pair of racks
  REQUIRE(big.links.size() == static_cast<std::size_t>(145 * (9 * 28 + 36 * 2) + 145 * 144 / 2));
  check_ports_unique(big);
  for (int b : {1, 8, 71, 72, 5000, 10439}) REQUIRE(check_route(big, 0, b) <= 7);
  for (int b : {0, 3, 9999}) REQUIRE(check_route(big, 10439, b) <= 7);
}

TEST_CASE("a user's explicit system: given routes are followed, others are shortest paths") {
  const SystemConfig s = bundled("example-ring4");
  REQUIRE(s.chips == 4);
  REQUIRE(s.hop_margin == Cycle(2));
  REQUIRE(check_route(s, 0, 2) == 2);
  REQUIRE(s.route(ChipId(0), ChipId(2))[0].to == ChipId(1));  // the file's route goes through chip 1
  REQUIRE(check_route(s, 0, 3) == 1);
  REQUIRE(check_route(s, 1, 3) == 2);
}

TEST_CASE("link classes: bandwidth and the serialisation of one vector") {
  LinkClass c;
  c.lanes = 4;
  c.lane_gbps = 28;
  c.coding_efficiency = 64.0 / 66.0;
  // 4 x 28e9 / 8 x 64/66 = 13.58 GB/s
  REQUIRE(c.payload_bytes_per_second() == Approx(13.5757e9).epsilon(1e-4));
  // 320 B / 13.58 GB/s = 23.57 ns = 21.2 cycles at 900 MHz -> 22 (the reference: 21-25, B)
  REQUIRE(c.serialization(320, 900.0) == Cycle(22));
  // exactly 2 cycles' worth is 2 cycles, not 3
  c.lanes = 1;
  c.lane_gbps = 8;
  c.coding_efficiency = 1.0;  // 1 GB/s, 1 byte per ns
  REQUIRE(c.serialization(2, 1000.0) == Cycle(2));
}

TEST_CASE("system files: bad links and routes are one-line input errors") {
  const auto resolve = [](const std::string& chip, const std::string&) {
    return std::string(LPUSIM_SOURCE_DIR) + "/models/chips/" + chip + ".json";
  };
  auto error_of = [&](const std::string& text) {
    try {
      (void)parse_system_config(parse_user_json(text, "sys.json"), "sys.json", resolve);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string head =
      R"({"name": "s", "chip": "tsp-v1", "hop_margin_cycles": 0, "link_classes": {"c": {"lanes": 4, "lane_gbps": 28,
          "coding_efficiency": 1, "latency_cycles": 100}}, "topology": )";
  REQUIRE(error_of(head + R"({"kind": "explicit", "chips": 2, "links": [{"a": [0, 0], "b": [2, 0], "class": "c"}]}})") ==
          "sys.json: key 'topology.links[0].b': chip 2 does not exist (the system has 2 chips, 0..1)");
  REQUIRE(error_of(head + R"({"kind": "explicit", "chips": 3, "links": [{"a": [0, 0], "b": [1, 0], "class": "c"},
          {"a": [2, 0], "b": [1, 0], "class": "c"}]}})") ==
          "sys.json: key 'topology.links[1].b': chip 1 port 0 is already used by topology.links[0]");
  REQUIRE(error_of(head + R"({"kind": "explicit", "chips": 3, "links": [{"a": [0, 0], "b": [1, 0], "class": "c"}]}})") ==
          "sys.json: key 'topology': chip 2 cannot be reached from chip 0 (2 of 3 chips are connected to chip 0 by links)");
  REQUIRE(error_of(head + R"({"kind": "explicit", "chips": 2, "links": [{"a": [0, 0], "b": [1, 0], "class": "c"}]}})") ==
          "(no error)");
}
