#pragma once
// Sweep results: what one point's estimate gave (cached under OUT/points/KEY.json, so a
// rerun resumes), the row it becomes, and results.csv / results.json. Both files are written
// from the rows alone, by the same code for `explore` and `merge`, so a merged sharded run
// writes the same bytes as an unsharded one.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_spec.hpp"

namespace lpusim::cli::sweep {

/// The outcome of one point.
struct PointOutcome {
  std::string key;
  bool ok = false;
  std::string reason;        ///< why it failed (one line)
  nlohmann::json metrics;    ///< the numbers of an ok point (see metric_columns())
  bool final = true;         ///< false: a crash or interruption, retried on the next run
  double host_seconds = 0;   ///< wall time of its estimate (not in the results: they stay deterministic)
  std::int64_t peak_rss_bytes = 0;
};

/// The metric columns of a results row, in order.
const std::vector<std::string>& metric_columns();

/// Reads the numbers of an `lpusim estimate --json` output. Returns the metrics, or an empty
/// optional and the field it could not find in `missing`.
std::optional<nlohmann::json> metrics_from_estimate(const nlohmann::json& estimate, std::string& missing);

/// OUT/points/KEY.json: the cached outcome of a finished point, if any (and final).
std::optional<PointOutcome> read_cached_outcome(const std::string& out_dir, const std::string& key);
void write_cached_outcome(const std::string& out_dir, const PointOutcome& outcome);

/// A results row: point, key, model, parameters (by column name without "param:"), status,
/// reason, and the metrics (null for a failed point).
nlohmann::json make_row(const SweepSpec& spec, const SweepPoint& point, const PointOutcome& outcome);

struct ResultsFile {
  nlohmann::json sweep;              ///< file, name, key, points; shard {index, count} for a shard
  std::vector<std::string> columns;  ///< the CSV header
  std::vector<nlohmann::json> rows;  ///< by point index
};

/// The CSV header for a sweep: point, key, model, param:..., status, reason, metrics.
std::vector<std::string> results_columns(const std::vector<std::string>& parameter_columns);

/// Writes DIR/results.csv and DIR/results.json (each through a temporary file and a rename).
void write_results(const std::string& dir, const ResultsFile& results);
/// Reads DIR/results.json as written by write_results (InputError naming the file otherwise).
ResultsFile read_results(const std::string& dir);

/// Writes `text` to `path` through PATH.tmp and a rename (InputError when it cannot).
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace lpusim::cli::sweep
