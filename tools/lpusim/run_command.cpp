// `lpusim run PROGRAM.s --chip CHIP`: assemble, bind and simulate one program.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "models/system.hpp"
#include "commands.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
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
  if (!std::filesystem::exists(path))
    throw InputError(fmt::format("--chip {}: no bundled chip of that name in {} (give a path to a chip JSON file)", chip, dir));
  return path;
}

namespace {

struct RunArgs {
  std::string program;
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

int run(const RunArgs& args) {
  const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
  const Program program = load_program(args.program);
  const BoundProgram bound = bind_program(program, chip);

  SimOptions options;
  options.mode = args.mode == "timing" ? SimMode::TimingOnly : SimMode::Functional;
  options.scheduler = args.scheduler == "clocked" ? Scheduler::Clocked : Scheduler::EventDriven;
  options.check = !args.no_check;
  for (const auto& text : args.inputs) options.inputs.push_back(split_assignment("--input", text, true));
  std::vector<std::pair<std::string, std::string>> dumps;
  for (const auto& text : args.dumps) {
    dumps.push_back(split_assignment("--dump", text, false));
    options.dumps.push_back(dumps.back().first);
  }
  // Refuse unwritable output paths before spending time on the run.
  const std::string config_dump = args.stats.empty() ? std::string() : config_path_for(args.stats);
  for (const auto& [flag, path] : {std::pair<const char*, std::string>{"--stats", args.stats},
                                   {"--stats", config_dump}, {"--trace", args.trace}}) {
    if (path.empty()) continue;
    std::ofstream probe(path, std::ios::app);
    if (!probe) throw InputError(fmt::format("{} {}: cannot write this file", flag, path));
  }
  options.trace = !args.trace.empty();

  const SystemResult system = simulate_system({ChipRun{chip, bound, options}});
  const SimResult& result = system.chips.front();
  const std::vector<ReportedChip> reported = {ReportedChip{chip, bound}};

  std::cout << summary_text(chip, bound, result);
  if (!args.stats.empty()) {
    std::ofstream out(args.stats);
    out << stats_json(reported, system).dump(2) << "\n";
    if (!out) throw InputError(fmt::format("--stats {}: write failed", args.stats));
    std::ofstream config(config_dump);
    config << resolved_config_json(chip, args.program, options).dump(2) << "\n";
    if (!config) throw InputError(fmt::format("--stats {}: writing {} failed", args.stats, config_dump));
  }
  if (!args.trace.empty()) {
    std::ofstream out(args.trace);
    out << trace_json(reported, system).dump() << "\n";
    if (!out) throw InputError(fmt::format("--trace {}: write failed", args.trace));
  }
  for (const auto& [name, file] : dumps) {
    const std::string text = format_tensor(result.dumps.at(name), chip.lanes());
    if (file.empty()) {
      std::cout << "tensor " << name << ":\n" << text;
    } else {
      std::ofstream out(file);
      out << text;
      if (!out) throw InputError(fmt::format("--dump {}={}: cannot write this file", name, file));
    }
  }
  if (options.check && !result.hazards.empty()) {
    std::cerr << hazard_report(result);
    return ScheduleError::exit_code;
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run an assembly program on a simulated chip");
  cmd->add_option("program", args->program, "Assembly file (.s)")->required();
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
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
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
