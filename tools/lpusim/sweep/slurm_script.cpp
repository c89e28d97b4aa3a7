#include "sweep/slurm_script.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "sweep/sweep_results.hpp"

namespace lpusim::cli::sweep {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string job_name(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out;
}

}  // namespace

SlurmScripts emit_slurm_scripts(const SweepSpec& spec, const SlurmOptions& options, const std::string& lpusim) {
  const int points = static_cast<int>(spec.points.size());
  SlurmScripts s;
  s.shards = options.shards > 0 ? options.shards : std::min(points, 8);
  if (s.shards > points)
    throw InputError(fmt::format("--shards {}: more shards than the sweep's {} points", options.shards, points));
  std::error_code ec;
  fs::create_directories(fs::path(options.dir) / "logs", ec);
  if (ec) throw InputError(fmt::format("--emit-slurm {}: cannot create this folder ({})", options.dir, ec.message()));
  const std::string dir = fs::absolute(options.dir).lexically_normal().string();
  const std::string sweep = fs::absolute(spec.file).lexically_normal().string();
  const std::string name = job_name(spec.name);
  std::string extra;
  for (const auto& o : options.sbatch_options) extra += fmt::format("#SBATCH {}\n", o);

  s.array_script = dir + "/array.sbatch";
  s.merge_script = dir + "/merge.sbatch";
  s.submit_script = dir + "/submit.sh";
  s.results_dir = dir + "/results";
  const std::string header = fmt::format(
      "# Written by lpusim explore --emit-slurm for {} ({} points, sweep key {}).\n", sweep, points, spec.sweep_key);

  write_file_atomically(s.array_script, fmt::format(
      "#!/bin/bash\n{}"
      "# One array task per shard: task I runs the points whose index is I modulo {}.\n"
      "#SBATCH --job-name=lpusim-{}\n"
      "#SBATCH --array=0-{}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task={}\n"
      "#SBATCH --output={}/logs/shard_%a.out\n"
      "{}"
      "set -euo pipefail\n"
      "exec {} explore {} --shard \"$SLURM_ARRAY_TASK_ID/{}\" --out {}/shards/\"$SLURM_ARRAY_TASK_ID\" --jobs {} --no-plots\n",
      header, s.shards, name, s.shards - 1, options.jobs, dir, extra, shell_quote(lpusim), shell_quote(sweep), s.shards,
      shell_quote(dir), options.jobs));

  write_file_atomically(s.merge_script, fmt::format(
      "#!/bin/bash\n{}"
      "# Submitted by submit.sh with --dependency=afterok on the array: runs once every shard is done.\n"
      "#SBATCH --job-name=lpusim-{}-merge\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --output={}/logs/merge.out\n"
      "{}"
      "set -euo pipefail\n"
      "shards=()\n"
      "for ((i = 0; i < {}; i++)); do shards+=({}/shards/\"$i\"); done\n"
      "exec {} merge --out {}{} \"${{shards[@]}}\"\n",
      header, name, dir, extra, s.shards, shell_quote(dir), shell_quote(lpusim), shell_quote(s.results_dir),
      options.plots ? "" : " --no-plots"));

  write_file_atomically(s.submit_script, fmt::format(
      "#!/bin/bash\n{}"
      "# Submits the array of {} shards, then the merge job to run after all of them succeeded.\n"
      "# Prints the two job ids (array first) on one line.\n"
      "set -euo pipefail\n"
      "array=$(sbatch --parsable {})\n"
      "array=${{array%%;*}}\n"
      "merge=$(sbatch --parsable --dependency=afterok:\"$array\" --kill-on-invalid-dep=yes {})\n"
      "merge=${{merge%%;*}}\n"
      "echo \"$array $merge\"\n",
      header, s.shards, shell_quote(s.array_script), shell_quote(s.merge_script)));
  for (const auto& f : {s.array_script, s.merge_script, s.submit_script}) chmod(f.c_str(), 0755);
  return s;
}

}  // namespace lpusim::cli::sweep
