#pragma once
// `lpusim explore SWEEP --emit-slurm DIR`: an sbatch job array (one shard of the sweep per
// array task) and a merge job that runs after every task succeeded, with a submit script.
#include <string>
#include <vector>

#include "sweep/sweep_spec.hpp"

namespace lpusim::cli::sweep {

struct SlurmOptions {
  std::string dir;                          ///< where the scripts, shard outputs and results go
  int shards = 0;                           ///< array tasks (0: min(points, 8))
  int jobs = 1;                             ///< --jobs (and CPUs) per array task
  std::vector<std::string> sbatch_options;  ///< extra #SBATCH lines, e.g. --partition=main
  bool plots = true;                        ///< the merge job draws the plots
};

struct SlurmScripts {
  std::string array_script, merge_script, submit_script, results_dir;
  int shards = 0;
};

/// Writes DIR/array.sbatch, DIR/merge.sbatch and DIR/submit.sh (which submits both, the
/// merge with --dependency=afterok on the array) and returns their paths.
SlurmScripts emit_slurm_scripts(const SweepSpec& spec, const SlurmOptions& options, const std::string& lpusim);

}  // namespace lpusim::cli::sweep
