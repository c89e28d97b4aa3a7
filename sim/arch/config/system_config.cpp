#include "arch/config/system_config.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

namespace {

// The standard topologies (docs/multichip.md, "Standard systems"). A GroqNode's 8 chips are
// fully connected by their local ports 0-6 (chip i reaches chip j on port j if j < i, else
// j - 1); ports 7-10 are each chip's 4 global ports, 32 per node, numbered by a node-level
// slot s = 0..31: port 7 + s / 8 of chip (s % 8 + s / 8) % 8, so that the links a node
// spends on one peer leave from different chips.
constexpr int kChipsPerNode = 8;
constexpr int kLocalPorts = kChipsPerNode - 1;
constexpr int kGlobalPortsPerChip = 4;
constexpr int kFirstGlobalPort = kLocalPorts;
constexpr int kGlobalSlotsPerNode = kChipsPerNode * kGlobalPortsPerChip;  // 32
constexpr int kNodesPerRack = 9;
// In a Dragonfly each node spends 2 links on each of the 8 other nodes of its rack (slots
// 0-15) and its 16 other global slots on other racks: 9 x 16 = 144 per rack, one to each of
// up to 144 other racks, hence at most 145 racks (10,440 chips).
constexpr int kDragonflyIntraRackLinksPerNodePair = 2;
constexpr int kDragonflyRackSlots = kNodesPerRack * (kGlobalSlotsPerNode - kDragonflyIntraRackLinksPerNodePair * (kNodesPerRack - 1));
constexpr int kMaxRacks = kDragonflyRackSlots + 1;  // 145

LinkEnd global_slot_end(int first_chip_of_node, int slot) {
  const int chip = (slot % kChipsPerNode + slot / kChipsPerNode) % kChipsPerNode;
  return LinkEnd{ChipId(first_chip_of_node + chip), PortIndex(kFirstGlobalPort + slot / kChipsPerNode)};
}

/// Index of `other` among the peers of `self` (0 .. count-2), skipping self.
int peer_index(int self, int other) { return other < self ? other : other - 1; }

class Builder {
 public:
  explicit Builder(SystemConfig& s) : s_(s) {
    s_.port_links.assign(static_cast<std::size_t>(s_.chips) * static_cast<std::size_t>(s_.chip.c2c_links), -1);
  }
  void add(LinkEnd a, LinkEnd b, int cls, const std::string& key) {
    check_end(a, key + ".a");
    check_end(b, key + ".b");
    if (a.chip == b.chip)
      throw InputError(fmt::format("{}: key '{}': chip {} is linked to itself", s_.file, key, a.chip.value()));
    claim(a, key + ".a");
    claim(b, key + ".b");
    s_.links.push_back(SystemLink{a, b, cls});
    keys_.push_back(key);
  }

 private:
  void check_end(LinkEnd e, const std::string& key) const {
    if (e.chip.value() < 0 || e.chip.value() >= s_.chips)
      throw InputError(fmt::format("{}: key '{}': chip {} does not exist (the system has {} chips, 0..{})", s_.file, key,
                                   e.chip.value(), s_.chips, s_.chips - 1));
    if (e.port.value() < 0 || e.port.value() >= s_.chip.c2c_links)
      throw InputError(fmt::format("{}: key '{}': port {} does not exist (a {} has {} C2C ports, 0..{})", s_.file, key,
                                   e.port.value(), s_.chip.name, s_.chip.c2c_links, s_.chip.c2c_links - 1));
  }
  void claim(LinkEnd e, const std::string& key) {
    int& slot = s_.port_links[static_cast<std::size_t>(e.chip.value()) * static_cast<std::size_t>(s_.chip.c2c_links) +
                              static_cast<std::size_t>(e.port.value())];
    if (slot >= 0)
      throw InputError(fmt::format("{}: key '{}': chip {} port {} is already used by {}", s_.file, key, e.chip.value(),
                                   e.port.value(), keys_[static_cast<std::size_t>(slot)]));
    slot = static_cast<int>(s_.links.size());
  }
  SystemConfig& s_;
  std::vector<std::string> keys_;
};

void build_node_local_links(Builder& b, int first_chip, int local_class, const std::string& key) {
  for (int i = 0; i < kChipsPerNode; ++i)
    for (int j = i + 1; j < kChipsPerNode; ++j)
      b.add(LinkEnd{ChipId(first_chip + i), PortIndex(peer_index(i, j))},
            LinkEnd{ChipId(first_chip + j), PortIndex(peer_index(j, i))}, local_class, key);
}

/// Index of `other` among `count` peers counted from `self` onward: (other - self) mod count,
/// less one. Circulant (an assumption: the wiring is not published): every node (rack) links
/// to the one after it as node 0 does to node 1, so that identical pipeline stages on
/// consecutive nodes see the same links (docs/multichip.md, "Stage reuse").
int distance_index(int self, int other, int count) { return (other - self + count) % count - 1; }

/// Node n's slot for its link `t` to node m of the same rack (`nodes` nodes in the rack).
int node_pair_slot(int n, int m, int t, int nodes) { return t * (nodes - 1) + distance_index(n, m, nodes); }

void build_rack_links(Builder& b, int first_chip, int nodes, int links_per_pair, int global_class,
                      const std::string& key) {
  for (int n = 0; n < nodes; ++n)
    for (int m = n + 1; m < nodes; ++m)
      for (int t = 0; t < links_per_pair; ++t)
        b.add(global_slot_end(first_chip + n * kChipsPerNode, node_pair_slot(n, m, t, nodes)),
              global_slot_end(first_chip + m * kChipsPerNode, node_pair_slot(m, n, t, nodes)), global_class, key);
}

/// Where rack r's link `t` to rack s leaves: its rack-level slot q -> node, node slot.
LinkEnd rack_slot_end(int r, int s, int t, int racks) {
  const int q = t * (racks - 1) + distance_index(r, s, racks);
  const int node = q / (kGlobalSlotsPerNode - kDragonflyIntraRackLinksPerNodePair * (kNodesPerRack - 1));
  const int node_slot = kDragonflyIntraRackLinksPerNodePair * (kNodesPerRack - 1) +
                        q % (kGlobalSlotsPerNode - kDragonflyIntraRackLinksPerNodePair * (kNodesPerRack - 1));
  return global_slot_end((r * kNodesPerRack + node) * kChipsPerNode, node_slot);
}

int rack_links_per_pair(int racks) { return kDragonflyRackSlots / (racks - 1); }
int node_links_per_pair(const SystemConfig& s) {
  return s.kind == TopologyKind::Dragonfly ? kDragonflyIntraRackLinksPerNodePair
                                           : kGlobalSlotsPerNode / (s.nodes_per_rack - 1);
}

int find_class(const SystemConfig& s, const std::string& name) {
  for (std::size_t i = 0; i < s.link_classes.size(); ++i)
    if (s.link_classes[i].name == name) return static_cast<int>(i);
  return -1;
}

LinkClass parse_link_class(JsonObject o, const std::string& name) {
  LinkClass c;
  c.name = name;
  c.lanes = static_cast<int>(o.integer("lanes", 1, 64));
  c.lane_gbps = o.number("lane_gbps", 0.001, 10000.0);
  c.coding_efficiency = o.number("coding_efficiency", 0.01, 1.0);
  c.latency = Cycle(o.integer("latency_cycles", 1, 1 << 24));
  if (o.has("description")) (void)o.string("description");
  o.finish();
  return c;
}

LinkEnd parse_end(const nlohmann::json& v, const std::string& file, const std::string& key) {
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
    throw InputError(fmt::format("{}: key '{}': expected [chip, port] (two integers), got {}", file, key, describe_json(v)));
  const auto chip = v[0].get<std::int64_t>(), port = v[1].get<std::int64_t>();
  if (chip < 0 || chip > (1 << 24) || port < 0 || port > (1 << 16))
    throw InputError(fmt::format("{}: key '{}': chip and port must be non-negative integers, got {}", file, key, describe_json(v)));
  return LinkEnd{ChipId(static_cast<int>(chip)), PortIndex(static_cast<int>(port))};
}

void check_reachable(const SystemConfig& s) {
  std::vector<char> seen(static_cast<std::size_t>(s.chips), 0);
  std::deque<int> frontier{0};
  seen[0] = 1;
  int reached = 1;
  while (!frontier.empty()) {
    const int c = frontier.front();
    frontier.pop_front();
    for (ChipId n : s.neighbours(ChipId(c)))
      if (!seen[static_cast<std::size_t>(n.value())]) {
        seen[static_cast<std::size_t>(n.value())] = 1;
        ++reached;
        frontier.push_back(n.value());
      }
  }
  if (reached == s.chips) return;
  const auto missing = std::find(seen.begin(), seen.end(), 0) - seen.begin();
  throw InputError(fmt::format("{}: key 'topology': chip {} cannot be reached from chip 0 ({} of {} chips are "
                               "connected to chip 0 by links)", s.file, missing, reached, s.chips));
}

/// The link from `from` on `port` as a hop.
Hop hop_on(const SystemConfig& s, ChipId from, PortIndex port) {
  const auto link = s.link_at(from, port);
  if (!link) throw std::logic_error(fmt::format("system {}: chip {} port {} is not linked", s.name, from.value(), port.value()));
  const SystemLink& l = s.links[static_cast<std::size_t>(link->value())];
  return Hop{*link, from, l.a.chip == from ? l.b.chip : l.a.chip};
}

void local_hop(const SystemConfig& s, ChipId from, ChipId to, std::vector<Hop>& hops) {
  if (from == to) return;
  const int i = from.value() % kChipsPerNode, j = to.value() % kChipsPerNode;
  hops.push_back(hop_on(s, from, PortIndex(peer_index(i, j))));
}

/// Within one rack (or one node): local hop, or local + node-to-node + local.
void rack_route(const SystemConfig& s, ChipId from, ChipId to, std::vector<Hop>& hops) {
  const int node_a = from.value() / kChipsPerNode, node_b = to.value() / kChipsPerNode;
  if (node_a == node_b) return local_hop(s, from, to, hops);
  const int rack_first_node = node_a / s.nodes_per_rack * s.nodes_per_rack;
  const int n = node_a - rack_first_node, m = node_b - rack_first_node;
  const int per_pair = node_links_per_pair(s);
  // Spread traffic over the parallel node-to-node links by the chips' positions in their nodes.
  const int t = (from.value() % kChipsPerNode + to.value() % kChipsPerNode) % per_pair;
  const LinkEnd exit = global_slot_end(node_a * kChipsPerNode, node_pair_slot(n, m, t, s.nodes_per_rack));
  local_hop(s, from, exit.chip, hops);
  hops.push_back(hop_on(s, exit.chip, exit.port));
  local_hop(s, hops.back().to, to, hops);
}

std::vector<Hop> shortest_path(const SystemConfig& s, ChipId src, ChipId dst) {
  std::vector<int> parent(static_cast<std::size_t>(s.chips), -1);
  std::vector<Hop> via(static_cast<std::size_t>(s.chips));
  std::deque<int> frontier{src.value()};
  parent[static_cast<std::size_t>(src.value())] = src.value();
  while (!frontier.empty() && parent[static_cast<std::size_t>(dst.value())] < 0) {
    const int c = frontier.front();
    frontier.pop_front();
    for (int p = 0; p < s.chip.c2c_links; ++p) {
      if (!s.link_at(ChipId(c), PortIndex(p))) continue;
      const Hop h = hop_on(s, ChipId(c), PortIndex(p));
      const auto n = static_cast<std::size_t>(h.to.value());
      if (parent[n] >= 0) continue;
      parent[n] = c;
      via[n] = h;
      frontier.push_back(h.to.value());
    }
  }
  std::vector<Hop> hops;
  for (int c = dst.value(); c != src.value(); c = parent[static_cast<std::size_t>(c)]) hops.push_back(via[static_cast<std::size_t>(c)]);
  std::reverse(hops.begin(), hops.end());
  return hops;
}

}  // namespace

const char* topology_kind_name(TopologyKind kind) {
  switch (kind) {
    case TopologyKind::Single: return "single chip";
    case TopologyKind::Node: return "node";
    case TopologyKind::Rack: return "rack";
    case TopologyKind::Dragonfly: return "dragonfly";
    case TopologyKind::Explicit: return "explicit";
  }
  return "?";
}

Cycle LinkClass::serialization(std::int64_t bytes, double clock_mhz) const {
  const double seconds = static_cast<double>(bytes) / payload_bytes_per_second();
  return Cycle(static_cast<std::int64_t>(std::ceil(seconds * clock_mhz * 1e6 - 1e-9)));
}

std::optional<LinkId> SystemConfig::link_at(ChipId c, PortIndex port) const {
  if (c.value() < 0 || c.value() >= chips || port.value() < 0 || port.value() >= chip.c2c_links) return std::nullopt;
  const int l = port_links[static_cast<std::size_t>(c.value()) * static_cast<std::size_t>(chip.c2c_links) +
                           static_cast<std::size_t>(port.value())];
  if (l < 0) return std::nullopt;
  return LinkId(l);
}

std::vector<ChipId> SystemConfig::neighbours(ChipId c) const {
  std::vector<ChipId> out;
  for (int p = 0; p < chip.c2c_links; ++p)
    if (const auto l = link_at(c, PortIndex(p))) {
      const SystemLink& link = links[static_cast<std::size_t>(l->value())];
      out.push_back(link.a.chip == c ? link.b.chip : link.a.chip);
    }
  return out;
}

std::optional<Cycle> SystemConfig::min_link_latency() const {
  std::optional<Cycle> best;
  for (const auto& l : links) {
    const Cycle c = link_classes[static_cast<std::size_t>(l.link_class)].latency;
    if (!best || c < *best) best = c;
  }
  return best;
}

std::vector<Hop> SystemConfig::route(ChipId src, ChipId dst) const {
  if (src.value() < 0 || src.value() >= chips || dst.value() < 0 || dst.value() >= chips)
    throw std::out_of_range(fmt::format("route {} -> {}: the system has {} chips", src.value(), dst.value(), chips));
  std::vector<Hop> hops;
  if (src == dst) return hops;
  switch (kind) {
    case TopologyKind::Single: break;
    case TopologyKind::Node:
      local_hop(*this, src, dst, hops);
      break;
    case TopologyKind::Rack:
      rack_route(*this, src, dst, hops);
      break;
    case TopologyKind::Dragonfly: {
      const int chips_per_rack = kChipsPerNode * nodes_per_rack;
      const int r = src.value() / chips_per_rack, s = dst.value() / chips_per_rack;
      if (r == s) {
        rack_route(*this, src, dst, hops);
        break;
      }
      const int t = (src.value() + dst.value()) % rack_links_per_pair(racks);
      const LinkEnd exit = rack_slot_end(r, s, t, racks);
      rack_route(*this, src, exit.chip, hops);
      hops.push_back(hop_on(*this, exit.chip, exit.port));
      rack_route(*this, hops.back().to, dst, hops);
      break;
    }
    case TopologyKind::Explicit: {
      const auto it = explicit_routes.find({src.value(), dst.value()});
      if (it == explicit_routes.end()) return shortest_path(*this, src, dst);
      ChipId at = src;
      for (ChipId next : it->second) {
        // The loader checked that consecutive chips are linked; take the lowest such port.
        for (int p = 0; p < chip.c2c_links; ++p) {
          if (!link_at(at, PortIndex(p))) continue;
          const Hop h = hop_on(*this, at, PortIndex(p));
          if (h.to == next) {
            hops.push_back(h);
            break;
          }
        }
        at = next;
      }
      break;
    }
  }
  return hops;
}

SystemConfig single_chip_system(const ChipConfig& chip) {
  SystemConfig s;
  s.file = chip.file;
  s.name = chip.name;
  s.chip_name = chip.name;
  s.chip = chip;
  s.kind = TopologyKind::Single;
  s.chips = 1;
  s.port_links.assign(static_cast<std::size_t>(chip.c2c_links), -1);
  return s;
}

SystemConfig parse_system_config(const nlohmann::json& json, const std::string& file, const ChipResolver& resolve_chip) {
  SystemConfig s;
  s.file = file;
  JsonObject root(json, file, "");
  s.name = root.string("name");
  if (s.name.empty()) root.fail("name", "expected a non-empty string");
  if (root.has("description")) (void)root.string("description");
  s.chip_name = root.string("chip");
  if (s.chip_name.empty()) root.fail("chip", "expected a bundled chip name or a chip JSON file");
  s.chip = load_chip_config(resolve_chip(s.chip_name, file));
  s.hop_margin = Cycle(root.integer("hop_margin_cycles", 0, 1 << 20));
  {
    auto classes = root.object("link_classes");
    for (const auto& name : classes.keys()) s.link_classes.push_back(parse_link_class(classes.object(name), name));
    classes.finish();
    if (s.link_classes.empty()) root.fail("link_classes", "expected at least one link class");
  }
  auto topology = root.object("topology");
  root.finish();  // an unknown top-level key is reported before any topology is built
  const std::string kind = topology.string("kind");
  auto need_class = [&](const std::string& name) {
    const int c = find_class(s, name);
    if (c < 0) root.fail("link_classes", fmt::format("a '{}' topology needs a link class named '{}'", kind, name));
    return c;
  };
  auto need_ports = [&] {
    if (s.chip.c2c_links < kFirstGlobalPort + kGlobalPortsPerChip)
      root.fail("chip", fmt::format("a '{}' topology needs chips with at least {} C2C ports (7 local, 4 global); {} has {}",
                                    kind, kFirstGlobalPort + kGlobalPortsPerChip, s.chip.name, s.chip.c2c_links));
  };
  if (kind == "node") {
    s.kind = TopologyKind::Node;
    s.chips = kChipsPerNode;
    need_ports();
    Builder b(s);
    build_node_local_links(b, 0, need_class("local"), "topology");
  } else if (kind == "rack") {
    s.kind = TopologyKind::Rack;
    s.nodes_per_rack = static_cast<int>(topology.integer("nodes", 2, kNodesPerRack));
    s.chips = kChipsPerNode * s.nodes_per_rack;
    need_ports();
    Builder b(s);
    const int local = need_class("local"), global = need_class("global");
    for (int n = 0; n < s.nodes_per_rack; ++n) build_node_local_links(b, n * kChipsPerNode, local, "topology");
    build_rack_links(b, 0, s.nodes_per_rack, kGlobalSlotsPerNode / (s.nodes_per_rack - 1), global, "topology");
  } else if (kind == "dragonfly") {
    s.kind = TopologyKind::Dragonfly;
    s.racks = static_cast<int>(topology.integer("racks", 2, kMaxRacks));
    s.nodes_per_rack = kNodesPerRack;
    s.chips = kChipsPerNode * kNodesPerRack * s.racks;
    need_ports();
    Builder b(s);
    const int local = need_class("local"), global = need_class("global");
    const int chips_per_rack = kChipsPerNode * kNodesPerRack;
    for (int r = 0; r < s.racks; ++r) {
      for (int n = 0; n < kNodesPerRack; ++n) build_node_local_links(b, (r * kNodesPerRack + n) * kChipsPerNode, local, "topology");
      build_rack_links(b, r * chips_per_rack, kNodesPerRack, kDragonflyIntraRackLinksPerNodePair, global, "topology");
    }
    for (int r = 0; r < s.racks; ++r)
      for (int q = r + 1; q < s.racks; ++q)
        for (int t = 0; t < rack_links_per_pair(s.racks); ++t)
          b.add(rack_slot_end(r, q, t, s.racks), rack_slot_end(q, r, t, s.racks), global, "topology");
  } else if (kind == "explicit") {
    s.kind = TopologyKind::Explicit;
    s.chips = static_cast<int>(topology.integer("chips", 1, 1 << 16));
    const auto& links = topology.raw("links");
    if (!links.is_array()) topology.fail("links", fmt::format("expected an array of links, got {}", describe_json(links)));
    Builder b(s);
    for (std::size_t i = 0; i < links.size(); ++i) {
      const std::string key = fmt::format("topology.links[{}]", i);
      JsonObject link(links[i], file, key);
      const LinkEnd a = parse_end(link.raw("a"), file, key + ".a");
      const LinkEnd e = parse_end(link.raw("b"), file, key + ".b");
      const std::string cls = link.string("class");
      const int c = find_class(s, cls);
      if (c < 0) link.fail("class", fmt::format("no link class named '{}' in link_classes", cls));
      link.finish();
      b.add(a, e, c, key);
    }
    if (topology.has("routes")) {
      const auto& routes = topology.raw("routes");
      if (!routes.is_array()) topology.fail("routes", fmt::format("expected an array of routes, got {}", describe_json(routes)));
      for (std::size_t i = 0; i < routes.size(); ++i) {
        const std::string key = fmt::format("topology.routes[{}]", i);
        JsonObject route(routes[i], file, key);
        const auto from = static_cast<int>(route.integer("from", 0, s.chips - 1));
        const auto to = static_cast<int>(route.integer("to", 0, s.chips - 1));
        const auto& via = route.raw("via");
        if (!via.is_array()) route.fail("via", fmt::format("expected an array of chips, got {}", describe_json(via)));
        std::vector<ChipId> path;
        ChipId at(from);
        for (const auto& v : via) {
          if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= s.chips)
            route.fail("via", fmt::format("expected chips in [0, {}], got {}", s.chips - 1, describe_json(v)));
          path.push_back(ChipId(v.get<int>()));
        }
        path.push_back(ChipId(to));
        for (ChipId next : path) {
          const auto n = s.neighbours(at);
          if (std::find(n.begin(), n.end(), next) == n.end())
            route.fail("via", fmt::format("chips {} and {} are not linked, so the route {} -> {} cannot pass between them",
                                          at.value(), next.value(), from, to));
          at = next;
        }
        route.finish();
        if (from == to) route.fail("to", "a route needs two different chips");
        if (!s.explicit_routes.emplace(std::make_pair(from, to), path).second)
          route.fail("from", fmt::format("a second route {} -> {}", from, to));
      }
    }
  } else {
    topology.fail("kind", fmt::format("expected node, rack, dragonfly or explicit, got '{}'", one_line(kind)));
  }
  topology.finish();
  check_reachable(s);
  return s;
}

SystemConfig load_system_config(const std::string& path, const ChipResolver& resolve_chip) {
  return parse_system_config(load_user_json(path), path, resolve_chip);
}

}  // namespace lpusim
