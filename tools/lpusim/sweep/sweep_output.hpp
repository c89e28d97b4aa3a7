#pragma once
// The output folder of `lpusim explore` and `lpusim merge`: created and locked for one writer,
// the simulator's identity for the points' keys, and the plots drawn from results.csv.
#include <string>

namespace lpusim::cli::sweep {

/// A hash of this lpusim binary's bytes: part of every point's key, so that results of
/// another build are never reused.
std::string simulator_key();

/// Creates DIR if needed; InputError when it cannot be created or written.
void prepare_output_dir(const std::string& dir);

/// An exclusive lock on DIR/.lock while it lives: one explore or merge writes a folder at a time.
class OutputLock {
 public:
  explicit OutputLock(const std::string& dir);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

/// Draws DIR/results.csv into DIR/plots with tools/plot_sweep.py (PNG and SVG). A missing
/// python3 or matplotlib, or nothing to plot, is a warning on stderr, not a failure.
void draw_sweep_plots(const std::string& dir);

}  // namespace lpusim::cli::sweep
