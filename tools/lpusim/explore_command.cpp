// `lpusim explore SWEEP.json`: run every point of a chip-parameter sweep (each an `lpusim
// estimate` in a child process), write results.csv and results.json, draw the plots.
// `--shard I/N` runs a deterministic slice for `lpusim merge`; `--emit-slurm DIR` writes the
// scripts that run the shards as a Slurm job array. The sweep format is in docs/sweeps.md.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "commands.hpp"
#include "external_command.hpp"
#include "sweep/slurm_script.hpp"
#include "sweep/sweep_results.hpp"
#include "sweep/sweep_runner.hpp"
#include "sweep/sweep_output.hpp"
#include "sweep/sweep_spec.hpp"
#include "arch/config/json_input.hpp"

namespace lpusim::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ExploreArgs {
  std::string sweep;
  std::string out;
  int jobs = 1;
  std::string shard;
  std::string emit_slurm;
  int shards = 0;
  std::vector<std::string> sbatch_options;
  bool no_plots = false;
  bool list = false;
};

std::pair<int, int> parse_shard(const std::string& text, int points) {
  static const std::regex pattern("([0-9]{1,9})/([0-9]{1,9})");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) throw InputError(fmt::format("--shard {}: expected I/N, e.g. 0/4", text));
  const int index = std::stoi(m[1]), count = std::stoi(m[2]);
  if (count < 1 || index >= count) throw InputError(fmt::format("--shard {}: expected 0 <= I < N", text));
  if (count > points) throw InputError(fmt::format("--shard {}: more shards than the sweep's {} points", text, points));
  return {index, count};
}

int run(const ExploreArgs& args) {
  const sweep::SweepSpec spec = sweep::load_sweep(args.sweep, sweep::simulator_key());
  const int total = static_cast<int>(spec.points.size());

  if (args.list) {
    const auto columns = spec.parameter_columns();
    for (const auto& p : spec.points) {
      std::string line = fmt::format("{} {} {}", p.index, p.key, spec.models[static_cast<std::size_t>(p.model)].name);
      const auto values = spec.parameter_values(p);
      for (std::size_t i = 0; i < columns.size(); ++i) line += fmt::format(" {}={}", columns[i].substr(6), values[i].dump());
      const auto& chip = spec.chips[static_cast<std::size_t>(p.chip)];
      std::cout << line << (chip.error.empty() ? "" : " (" + chip.error + ")") << "\n";
    }
    return 0;
  }
  if (!args.emit_slurm.empty()) {
    if (!args.shard.empty()) throw InputError("--emit-slurm and --shard: the scripts choose the shards themselves");
    sweep::SlurmOptions options;
    options.dir = args.emit_slurm;
    options.shards = args.shards;
    options.jobs = args.jobs;
    options.sbatch_options = args.sbatch_options;
    options.plots = !args.no_plots;
    const auto s = sweep::emit_slurm_scripts(spec, options, self_executable());
    std::cout << fmt::format("explore {}: {} points in {} shards for Slurm\n", spec.name, total, s.shards);
    std::cout << fmt::format("  array    {} (tasks 0-{}, --jobs {} each)\n", s.array_script, s.shards - 1, args.jobs);
    std::cout << fmt::format("  merge    {} (after every task succeeded; results in {})\n", s.merge_script, s.results_dir);
    std::cout << fmt::format("  submit   {}\n", s.submit_script);
    return 0;
  }

  int shard_index = 0, shard_count = 1;
  if (!args.shard.empty()) std::tie(shard_index, shard_count) = parse_shard(args.shard, total);
  const std::string out = args.out.empty() ? "sweep-" + spec.name : args.out;
  sweep::prepare_output_dir(out);
  sweep::OutputLock lock(out);
  std::vector<int> selected;
  for (const auto& p : spec.points)
    if (p.index % shard_count == shard_index) selected.push_back(p.index);

  sweep::RunnerOptions options;
  options.out_dir = out;
  options.jobs = args.jobs;
  options.label = shard_count > 1 ? fmt::format("explore {} shard {}/{}", spec.name, shard_index, shard_count)
                                  : fmt::format("explore {}", spec.name);
  // Provenance: the sweep as given, beside its results.
  sweep::write_file_atomically(out + "/sweep.json", read_user_text_file(args.sweep));
  const sweep::RunSummary summary = sweep::run_points(spec, selected, options);
  if (summary.interrupted) {
    std::cerr << fmt::format("lpusim: explore interrupted: {} of {} points done (kept in {}/points); run the same command "
                             "again to resume\n",
                             summary.outcomes.size(), selected.size(), out);
    return 130;
  }

  sweep::ResultsFile results;
  results.sweep = json{{"file", fs::absolute(spec.file).lexically_normal().string()}, {"name", spec.name},
                       {"key", spec.sweep_key}, {"points", total}};
  if (shard_count > 1) results.sweep["shard"] = json{{"index", shard_index}, {"count", shard_count}};
  results.columns = sweep::results_columns(spec.parameter_columns());
  int ok = 0;
  double host_seconds = 0;  // of the estimates run now
  for (int index : selected) {
    const auto& outcome = summary.outcomes.at(index);
    ok += outcome.ok ? 1 : 0;
    if (summary.computed_points.count(index)) host_seconds += outcome.host_seconds;
    results.rows.push_back(sweep::make_row(spec, spec.points[static_cast<std::size_t>(index)], outcome));
  }
  sweep::write_results(out, results);
  const int failed = static_cast<int>(selected.size()) - ok;
  std::cout << fmt::format("{}: {} points, {} ok, {} failed; {} computed now, {} from earlier runs; {:.1f} s wall, {:.1f} s of "
                           "estimates run now\n",
                           options.label, selected.size(), ok, failed, summary.computed, summary.cached, summary.wall_seconds,
                           host_seconds);
  std::cout << fmt::format("  results  {0}/results.csv, {0}/results.json\n", out);
  if (shard_count == 1 && !args.no_plots) sweep::draw_sweep_plots(out);
  return 0;
}

}  // namespace

Command add_explore_command(CLI::App& app) {
  auto args = std::make_shared<ExploreArgs>();
  auto* cmd = app.add_subcommand("explore", "Sweep chip parameters, models and scenarios (docs/sweeps.md)");
  cmd->add_option("sweep", args->sweep, "Sweep file (JSON)")->required();
  cmd->add_option("--out", args->out, "Output folder (default: sweep-NAME); rerunning with it resumes");
  cmd->add_option("--jobs", args->jobs, "Points run at once (each a child process)")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--shard", args->shard, "I/N: run only the points whose index is I modulo N (combine with lpusim merge)");
  cmd->add_option("--emit-slurm", args->emit_slurm, "Write a Slurm job array (one shard per task) and a merge job to this folder");
  cmd->add_option("--shards", args->shards, "With --emit-slurm: array tasks (default: min(points, 8))")->check(CLI::Range(1, 100000));
  cmd->add_option("--sbatch-option", args->sbatch_options, "With --emit-slurm: an extra #SBATCH line, e.g. --partition=main")
      ->take_all();
  cmd->add_flag("--no-plots", args->no_plots, "Do not draw the plots");
  cmd->add_flag("--list", args->list, "Print the points (index, key, model, parameters) and exit");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
