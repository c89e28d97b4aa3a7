#pragma once
// A multi-chip system: which chip, how many, the C2C links between their ports, the link
// classes (lanes, lane rate, coding efficiency, latency) and the static routes the compiler
// schedules messages along. Parsed from a system JSON file (models/systems/*.json, format in
// docs/multichip.md) into a validated, typed struct: an unknown key, a link to a chip that
// does not exist, a port used twice or a chip nothing reaches is one line and exit code 2.
//
// Standard topologies are generated from a few numbers (a GroqNode, a GroqRack, a Dragonfly
// of racks); a user's own system lists its links (and optionally its routes) explicitly.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "arch/config/chip_config.hpp"
#include "arch/core/types.hpp"

namespace lpusim {

/// A kind of cable: the SerDes lanes of a link, their rate, the line-coding/FEC efficiency and
/// the latency from the last bit leaving one chip to the vector being usable on the other.
struct LinkClass {
  std::string name;
  int lanes = 4;
  double lane_gbps = 28.0;
  double coding_efficiency = 64.0 / 66.0;
  Cycle latency{216};

  /// Payload bytes per second in one direction.
  double payload_bytes_per_second() const { return lanes * lane_gbps * 1e9 / 8.0 * coding_efficiency; }
  /// Cycles one direction of the link is busy sending `bytes` (rounded up), at `clock_mhz`.
  Cycle serialization(std::int64_t bytes, double clock_mhz) const;
};

struct LinkEnd {
  ChipId chip;
  PortIndex port;
};

/// A full-duplex link between two chips' ports; each direction is occupied separately.
struct SystemLink {
  LinkEnd a, b;
  int link_class = 0;  ///< index into SystemConfig::link_classes
};

/// One hop of a route: `link` from chip `from` to chip `to`.
struct Hop {
  LinkId link;
  ChipId from, to;
};

enum class TopologyKind { Single, Node, Rack, Dragonfly, Explicit };
const char* topology_kind_name(TopologyKind kind);

struct SystemConfig {
  std::string file;
  std::string name;
  std::string chip_name;  ///< as written in the file (a bundled chip name or a path)
  ChipConfig chip;
  std::vector<LinkClass> link_classes;
  /// Added by the compiler to every scheduled arrival: what is left of the skew between two
  /// chips' counters after the initial deskew (docs/multichip.md).
  Cycle hop_margin{0};
  TopologyKind kind = TopologyKind::Single;
  int chips = 1;
  int chips_per_node = 8;  ///< Node, Rack, Dragonfly
  int nodes_per_rack = 1;  ///< Rack, Dragonfly
  int racks = 1;           ///< Dragonfly
  std::vector<SystemLink> links;

  /// The link on a chip's port, or nullopt if the port is unconnected.
  std::optional<LinkId> link_at(ChipId chip, PortIndex port) const;
  /// The static route from `src` to `dst` (empty when src == dst). Deterministic: the same
  /// pair always gets the same hops.
  std::vector<Hop> route(ChipId src, ChipId dst) const;
  /// The chips directly linked to `chip`, by ascending port.
  std::vector<ChipId> neighbours(ChipId chip) const;
  /// The smallest link latency of the system (the dispatcher's lookahead); nullopt without links.
  std::optional<Cycle> min_link_latency() const;
  const LinkClass& link_class_of(LinkId link) const {
    return link_classes[static_cast<std::size_t>(links[static_cast<std::size_t>(link.value())].link_class)];
  }

  // Filled by the loader ----------------------------------------------------------------
  std::vector<int> port_links;  ///< chips x chip.c2c_links: link index or -1
  /// Explicit topologies: routes the file gives, by (src, dst); the rest are shortest paths.
  std::map<std::pair<int, int>, std::vector<ChipId>> explicit_routes;
};

/// Resolves the system file's "chip" value (a bundled chip name or a path relative to the
/// system file) to a chip configuration file path.
using ChipResolver = std::function<std::string(const std::string& chip, const std::string& system_file)>;

/// Loads and validates a system configuration. Throws InputError (exit code 2) with one line
/// naming the file, the key and what was expected.
SystemConfig load_system_config(const std::string& path, const ChipResolver& resolve_chip);
SystemConfig parse_system_config(const nlohmann::json& json, const std::string& file, const ChipResolver& resolve_chip);
/// A system of one chip and no links (what commands use without --system).
SystemConfig single_chip_system(const ChipConfig& chip);

}  // namespace lpusim
