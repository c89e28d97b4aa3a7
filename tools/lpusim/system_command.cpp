// `lpusim system SYSTEM`: loads a system configuration (a bundled name from models/systems/ or
// a JSON file), validates it, and prints what it holds: chips, links per class, each class's
// bandwidth and the cycles one 320-byte vector takes on it, and route lengths. `--route A B`
// prints the static route between two chips.
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arch/config/system_config.hpp"
#include "arch/core/error.hpp"
#include "commands.hpp"

namespace lpusim::cli {

std::string resolve_system_path(const std::string& system) {
  const bool looks_like_path = system.find('/') != std::string::npos ||
                               (system.size() > 5 && system.compare(system.size() - 5, 5, ".json") == 0);
  if (looks_like_path) return system;
  const char* env = std::getenv("LPUSIM_SYSTEMS_DIR");
  const std::string dir = env ? env : LPUSIM_SYSTEMS_DIR;
  const std::string path = dir + "/" + system + ".json";
  if (!std::filesystem::exists(path))
    throw InputError(fmt::format("--system {}: no bundled system of that name in {} (give a path to a system JSON file)",
                                 system, dir));
  return path;
}

SystemConfig load_system(const std::string& system) {
  // A system file names its chip by bundled name, or by a path relative to the system file.
  auto resolve_chip = [](const std::string& chip, const std::string& system_file) {
    const bool looks_like_path = chip.find('/') != std::string::npos ||
                                 (chip.size() > 5 && chip.compare(chip.size() - 5, 5, ".json") == 0);
    if (!looks_like_path) return resolve_chip_path(chip);
    const std::filesystem::path p(chip);
    return p.is_absolute() ? chip : (std::filesystem::path(system_file).parent_path() / p).string();
  };
  return load_system_config(resolve_system_path(system), resolve_chip);
}

namespace {

struct SystemArgs {
  std::string system;
  std::vector<int> route;
  bool json = false;
};

int run(const SystemArgs& args) {
  const SystemConfig s = load_system(args.system);
  const double vector_bytes = s.chip.vector_bytes();
  std::map<int, int> links_per_class;
  for (const auto& l : s.links) ++links_per_class[l.link_class];
  // Route lengths from chip 0 to every chip: every standard topology looks the same from
  // every chip, and this stays linear in the system's size.
  int max_hops = 0;
  double hop_sum = 0;
  for (int c = 1; c < s.chips; ++c) {
    const auto hops = static_cast<int>(s.route(ChipId(0), ChipId(c)).size());
    max_hops = std::max(max_hops, hops);
    hop_sum += hops;
  }
  nlohmann::json j;
  j["system"] = s.name;
  j["file"] = s.file;
  j["topology"] = topology_kind_name(s.kind);
  j["chip"] = s.chip.name;
  j["chips"] = s.chips;
  j["links"] = s.links.size();
  j["hop_margin_cycles"] = s.hop_margin.value();
  j["max_hops_from_chip0"] = max_hops;
  j["mean_hops_from_chip0"] = s.chips > 1 ? hop_sum / (s.chips - 1) : 0.0;
  for (std::size_t i = 0; i < s.link_classes.size(); ++i) {
    const auto& c = s.link_classes[i];
    j["link_classes"][c.name] = {{"links", links_per_class[static_cast<int>(i)]},
                                 {"payload_gb_per_s", c.payload_bytes_per_second() / 1e9},
                                 {"vector_serialization_cycles", c.serialization(s.chip.vector_bytes(), s.chip.clock_mhz).value()},
                                 {"latency_cycles", c.latency.value()}};
  }
  std::vector<Hop> route;
  if (!args.route.empty()) {
    for (int c : args.route)
      if (c < 0 || c >= s.chips)
        throw InputError(fmt::format("--route {} {}: chip {} does not exist (the system has {} chips, 0..{})", args.route[0],
                                     args.route[1], c, s.chips, s.chips - 1));
    route = s.route(ChipId(args.route[0]), ChipId(args.route[1]));
    for (const auto& h : route) j["route"].push_back({{"link", h.link.value()}, {"from", h.from.value()}, {"to", h.to.value()}});
  }
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("system {} ({}): {} x {}, {} links\n", s.name, topology_kind_name(s.kind), s.chips, s.chip.name,
                           s.links.size());
  for (std::size_t i = 0; i < s.link_classes.size(); ++i) {
    const auto& c = s.link_classes[i];
    std::cout << fmt::format("  {:<8} {:>6} links, {} lanes x {} Gbps x {:.4f} = {:.2f} GB/s per direction; "
                             "a {:.0f}-byte vector holds a link {} cycles; latency {} cycles\n",
                             c.name, links_per_class[static_cast<int>(i)], c.lanes, c.lane_gbps, c.coding_efficiency,
                             c.payload_bytes_per_second() / 1e9, vector_bytes,
                             c.serialization(s.chip.vector_bytes(), s.chip.clock_mhz).value(), c.latency.value());
  }
  std::cout << fmt::format("  routes   from chip 0: at most {} hops, {:.2f} on average; hop margin {} cycles\n", max_hops,
                           s.chips > 1 ? hop_sum / (s.chips - 1) : 0.0, s.hop_margin.value());
  if (!args.route.empty()) {
    std::string text = std::to_string(args.route[0]);
    for (const auto& h : route) text += fmt::format(" -(link {})-> {}", h.link.value(), h.to.value());
    std::cout << fmt::format("  route    {} ({} hops)\n", text, route.size());
  }
  return 0;
}

}  // namespace

Command add_system_command(CLI::App& app) {
  auto args = std::make_shared<SystemArgs>();
  auto* cmd = app.add_subcommand("system", "Validate a multi-chip system configuration and print its links and routes");
  cmd->add_option("system", args->system, "A bundled system (groq-node, groq-rack, dragonfly-8, ...) or a system JSON file")->required();
  cmd->add_option("--route", args->route, "Print the static route between two chips")->expected(2);
  cmd->add_flag("--json", args->json, "Print JSON");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
