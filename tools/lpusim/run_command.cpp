// `lpusim run PROGRAM.s --chip CHIP`: assemble, bind and simulate one program.
// `lpusim run --system SYSTEM P0.s P1.s ...`: one program per chip of a system (program i on
// chip i; chips beyond the last program are idle), the chips joined by the system's C2C links.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "models/system.hpp"
#include "commands.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "arch/core/output_file.hpp"
#include "engine/exec/sim_result_codec.hpp"
#include "engine/exec/tensor_io.hpp"
#include "engine/report/stats.hpp"
#include "engine/report/trace.hpp"

namespace lpusim::cli {

std::string resolve_chip_path(const std::string& chip) {
  const bool looks_like_path = chip.find('/') != std::string::npos || (chip.size() > 5 &&
                               chip.compare(chip.size() - 5, 5, ".json") == 0);
  if (looks_like_path) return chip;
  const char* env = std::getenv("LPUSIM_CHIPS_DIR");
  const std::string dir = env ? env : LPUSIM_CHIPS_DIR;
  const std::string path = dir + "/" + chip + ".json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw InputError(fmt::format("--chip {}: no bundled chip of that name in {} (give a path to a chip JSON file)", chip, dir));
  return path;
}

namespace {

struct RunArgs {
  std::vector<std::string> programs;
  std::string system;
  bool chip_given = false;
  std::string chip = "tsp-v1";
  std::string mode = "functional";
  std::string scheduler = "event-driven";
  std::vector<std::string> inputs;
  std::vector<std::string> dumps;
  std::string stats;
  std::string trace;
  bool no_check = false;
};

std::pair<std::string, std::string> split_assignment(const std::string& flag, const std::string& text, bool value_required) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    if (value_required) throw InputError(fmt::format("{} {}: expected NAME=FILE", flag, text));
    return {text, ""};
  }
  if (eq == 0 || eq + 1 == text.size()) throw InputError(fmt::format("{} {}: expected NAME=FILE", flag, text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

/// Where the resolved configuration goes beside the stats: out.json -> out.config.json.
std::string config_path_for(const std::string& stats) {
  const std::string ext = ".json";
  if (stats.size() > ext.size() && stats.compare(stats.size() - ext.size(), ext.size(), ext) == 0)
    return stats.substr(0, stats.size() - ext.size()) + ".config.json";
  return stats + ".config.json";
}

/// The resolved-configuration dump (as gem5 writes config beside its stats): the chip as
/// simulated, every parameter in the chip file's layout (`--chip` loads it back), and what
/// the run was.
nlohmann::json resolved_config_json(const ChipConfig& chip, const std::string& program, const SimOptions& options) {
  nlohmann::json j = chip_config_json(chip);
  j["description"] = fmt::format("the configuration lpusim run simulated, every parameter resolved from {}", chip.file);
  j["run"] = {{"program", program},
              {"mode", sim_mode_name(options.mode)},
              {"scheduler", scheduler_name(options.scheduler)},
              {"check", options.check}};
  return j;
}

/// --input/--dump in a system run name their chip: "K:NAME[=FILE]". Returns K and the rest.
std::pair<int, std::string> split_chip(const std::string& flag, const std::string& text, int chips) {
  const auto colon = text.find(':');
  std::size_t used = 0;
  int chip = -1;
  try {
    if (colon != std::string::npos) chip = std::stoi(text.substr(0, colon), &used);
  } catch (const std::exception&) {
    chip = -1;
  }
  if (colon == std::string::npos || used != colon || chip < 0)
    throw InputError(fmt::format("{} {}: with --system, expected CHIP:NAME (a chip number 0..{})", flag, text, chips - 1));
  if (chip >= chips)
    throw InputError(fmt::format("{} {}: chip {} does not exist (the system has {} chips, 0..{})", flag, text, chip,
                                 chips, chips - 1));
  return {chip, text.substr(colon + 1)};
}

int run(const RunArgs& args) {
  const bool several = !args.system.empty();
  if (!several && args.programs.size() != 1)
    throw InputError(fmt::format("lpusim run: {} programs given: several programs run on a system of chips "
                                 "(--system SYSTEM; program i runs on chip i)", args.programs.size()));
  if (several && args.chip_given)
    throw InputError("--chip and --system: the system file names its chip");
  std::optional<SystemConfig> system;
  if (several) {
    system = load_system(args.system);
    if (static_cast<int>(args.programs.size()) > system->chips)
      throw InputError(fmt::format("--system {}: {} programs for a system of {} chips", args.system,
                                   args.programs.size(), system->chips));
  }
  const ChipConfig chip = several ? system->chip : load_chip_config(resolve_chip_path(args.chip));
  const int chips = several ? system->chips : 1;
  std::vector<BoundProgram> bound;
  bound.reserve(static_cast<std::size_t>(chips));
  for (const auto& file : args.programs) bound.push_back(bind_program(load_program(file), chip));
  while (static_cast<int>(bound.size()) < chips) {  // idle chips: no queues
    bound.emplace_back();
    bound.back().file = "(idle)";
  }

  SimOptions common;
  common.mode = args.mode == "timing" ? SimMode::TimingOnly : SimMode::Functional;
  common.scheduler = args.scheduler == "clocked" ? Scheduler::Clocked : Scheduler::EventDriven;
  common.check = !args.no_check;
  common.trace = !args.trace.empty();
  std::vector<SimOptions> options(static_cast<std::size_t>(chips), common);
  auto chip_of = [&](const char* flag, const std::string& text) -> std::pair<int, std::string> {
    return several ? split_chip(flag, text, chips) : std::pair<int, std::string>{0, text};
  };
  for (const auto& text : args.inputs) {
    const auto [c, rest] = chip_of("--input", text);
    options[static_cast<std::size_t>(c)].inputs.push_back(split_assignment("--input", rest, true));
  }
  struct Dump {
    int chip;
    std::string name, file;
  };
  std::vector<Dump> dumps;
  for (const auto& text : args.dumps) {
    const auto [c, rest] = chip_of("--dump", text);
    const auto [name, file] = split_assignment("--dump", rest, false);
    dumps.push_back(Dump{c, name, file});
    options[static_cast<std::size_t>(c)].dumps.push_back(name);
  }
  // Refuse unwritable output paths before spending time on the run.
  const std::string config_dump = args.stats.empty() ? std::string() : config_path_for(args.stats);
  for (const auto& [flag, path] : {std::pair<const char*, std::string>{"--stats", args.stats},
                                   {"--stats", config_dump}, {"--trace", args.trace}}) {
    if (!path.empty()) require_writable_path(path, flag);
  }
  for (const auto& d : dumps)
    if (!d.file.empty()) require_writable_path(d.file, fmt::format("--dump {}=", d.name));

  std::vector<ChipRun> runs;
  std::vector<ReportedChip> reported;
  for (int c = 0; c < chips; ++c) {
    runs.push_back(ChipRun{chip, bound[static_cast<std::size_t>(c)], options[static_cast<std::size_t>(c)]});
    reported.push_back(ReportedChip{chip, bound[static_cast<std::size_t>(c)]});
  }
  const SystemResult result = simulate_system(runs, several ? &*system : nullptr);

  if (several)
    std::cout << fmt::format("system {}: {} chips, {} cycles, {} instructions, lookahead {} cycles, {} windows\n",
                             system->name, chips, result.total_cycles.value(), result.instructions,
                             result.lookahead ? std::to_string(result.lookahead->value()) : std::string("unbounded"),
                             result.windows);
  for (int c = 0; c < chips; ++c) {
    if (several && bound[static_cast<std::size_t>(c)].queues.empty()) continue;
    if (several) std::cout << fmt::format("chip {}: ", c);
    std::cout << summary_text(chip, bound[static_cast<std::size_t>(c)], result.chips[static_cast<std::size_t>(c)]);
  }
  if (several && static_cast<int>(args.programs.size()) < chips)
    std::cout << fmt::format("chips {}..{}: idle (no program)\n", args.programs.size(), chips - 1);
  if (!args.stats.empty()) {
    write_file_atomically(args.stats, stats_json(reported, result).dump(2) + "\n", "--stats");
    std::string programs;
    for (const auto& p : args.programs) programs += (programs.empty() ? "" : " ") + p;
    nlohmann::json j = resolved_config_json(chip, programs, common);
    if (several) j["description"] = fmt::format("{} (the chip of system {}, {})", j["description"].get<std::string>(),
                                                system->name, system->file);
    write_file_atomically(config_dump, j.dump(2) + "\n", "--stats");
  }
  if (!args.trace.empty()) write_file_atomically(args.trace, trace_json(reported, result).dump() + "\n", "--trace");
  for (const auto& d : dumps) {
    const std::string text = format_tensor(result.chips[static_cast<std::size_t>(d.chip)].dumps.at(d.name), chip.lanes());
    if (d.file.empty()) {
      std::cout << "tensor " << (several ? fmt::format("{}:", d.chip) : std::string()) << d.name << ":\n" << text;
    } else {
      write_file_atomically(d.file, text, fmt::format("--dump {}=", d.name));
    }
  }
  bool hazards = false;
  if (common.check)
    for (int c = 0; c < chips; ++c) {
      const SimResult& r = result.chips[static_cast<std::size_t>(c)];
      if (r.hazards.empty()) continue;
      hazards = true;
      if (several) std::cerr << fmt::format("chip {}:\n", c);
      std::cerr << hazard_report(r);
    }
  return hazards ? ScheduleError::exit_code : 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run an assembly program on a simulated chip");
  cmd->add_option("programs", args->programs, "Assembly file (.s); with --system, one per chip (program i on chip i)")
      ->required();
  auto* chip = cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_option("--system", args->system,
                  "Run the programs on a system of chips joined by C2C links: a bundled name (groq-node) or a "
                  "system JSON file; --input/--dump then take CHIP:NAME");
  cmd->add_option("--mode", args->mode, "functional (compute values) or timing (cycles only, same count)")
      ->check(CLI::IsMember({"functional", "timing"}))
      ->capture_default_str();
  cmd->add_option("--scheduler", args->scheduler,
                  "event-driven (the default) or clocked (the reference: every queue on every clock edge)")
      ->check(CLI::IsMember({"event-driven", "clocked"}))
      ->capture_default_str();
  cmd->add_option("--input", args->inputs, "NAME=FILE: load a tensor from a text or .bin file")->take_all();
  cmd->add_option("--dump", args->dumps, "NAME[=FILE]: print a tensor after the run (or write it to FILE)")->take_all();
  cmd->add_option("--stats", args->stats,
                  "Write stats JSON (system -> chip -> unit -> queue) to this file, and the resolved chip "
                  "configuration and run options beside it (out.json -> out.config.json)");
  cmd->add_option("--trace", args->trace, "Write a Chrome/Perfetto trace (one track per queue) to this file");
  cmd->add_flag("--no-check", args->no_check, "Do not fail on schedule hazards");
  return [args, chip] {
    args->chip_given = chip->count() > 0;
    return run(*args);
  };
}

}  // namespace lpusim::cli
