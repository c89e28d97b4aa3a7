#pragma once
// Runs the points of a sweep: each as a child process of this binary (`lpusim estimate ...
// --chip OUT/chips/KEY.json --json`), up to `jobs` at once, with a progress bar on a terminal
// and one line per point otherwise. Finished points are cached under OUT/points/, so a
// rerun computes only what is missing.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sweep/sweep_results.hpp"
#include "sweep/sweep_spec.hpp"

namespace lpusim::cli::sweep {

struct RunnerOptions {
  std::string out_dir;
  int jobs = 1;
  std::string label;  ///< what the progress lines call this run ("example", "example shard 1/4")
};

struct RunSummary {
  std::map<int, PointOutcome> outcomes;  ///< by point index, for every point run or cached
  int cached = 0;                        ///< found in OUT/points from an earlier run
  int computed = 0;
  std::set<int> computed_points;         ///< the points run now (not from the cache)
  bool interrupted = false;              ///< SIGINT/SIGTERM/SIGHUP: outcomes hold what finished
  double wall_seconds = 0;
};

/// Runs `selected` (point indices of `spec`). Writes each derived chip to OUT/chips/KEY.json.
RunSummary run_points(const SweepSpec& spec, const std::vector<int>& selected, const RunnerOptions& options);

}  // namespace lpusim::cli::sweep
