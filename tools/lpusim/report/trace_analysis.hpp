#pragma once
// What `lpusim report` says about a trace: the busiest queues, the longest idle gaps, an
// inferred critical path and a per-unit utilisation timeline.
#include <cstdint>
#include <string>
#include <vector>

#include "report/trace_reader.hpp"

namespace lpusim::cli::report {

struct QueueActivity {
  int queue = 0;
  std::int64_t instructions = 0;     ///< slices: issue slots used
  std::int64_t in_flight_cycles = 0; ///< cycles with at least one of its instructions between issue and result
  std::int64_t first_issue = 0, last_end = 0;
};

struct IdleGap {
  int queue = -1;  ///< -1: the whole chip (no queue has anything in flight)
  std::int64_t start = 0, end = 0;
  std::int64_t length() const { return end - start; }
};

/// A step of the critical path: a slice, and the cycles between the previous step's result and its issue.
struct PathStep {
  std::size_t slice = 0;
  std::int64_t wait = 0;
};

struct UnitTimeline {
  std::string group;                ///< MEM west, VXM, ...
  int queues = 0;                   ///< queues of the group in the trace
  std::vector<double> utilisation;  ///< per bin: in-flight queue-cycles / (queues x bin cycles)
  double average = 0;               ///< over the whole span
};

struct TraceAnalysis {
  std::int64_t span = 0;  ///< cycles from 0 to the last result
  std::vector<QueueActivity> queues;  ///< busiest first (issue slots, then in-flight cycles)
  std::vector<IdleGap> queue_gaps;    ///< longest first, inside each queue's first issue .. last result
  std::vector<IdleGap> chip_gaps;     ///< longest first
  std::int64_t chip_idle_cycles = 0;
  std::vector<PathStep> critical_path;  ///< in time order
  std::int64_t bin_cycles = 1;
  std::vector<UnitTimeline> timeline;   ///< in floorplan order (the trace's process ids)
};

/// `max_gaps` gaps are kept of each kind; the timeline has at most `max_bins` bins.
TraceAnalysis analyse_trace(const Trace& trace, std::size_t max_gaps = 10, std::int64_t max_bins = 400);

}  // namespace lpusim::cli::report
