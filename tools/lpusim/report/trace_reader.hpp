#pragma once
// Reads a Chrome/Perfetto trace written by `lpusim run --trace` (engine/report/trace.hpp):
// the queue tracks (thread names grouped by unit and hemisphere) and one slice per issued
// instruction with its issue cycle and duration. Streams the file through a SAX parser, so
// memory stays at ~32 bytes per slice whatever the file's size.
#include <cstdint>
#include <string>
#include <vector>

namespace lpusim::cli::report {

struct TraceQueue {
  std::string name;   ///< mem.w0, vxm.alu3, ...
  std::string group;  ///< MEM west, VXM, ... (the trace's process name)
  int group_id = 0;   ///< the trace's pid (floorplan order)
};

struct TraceSlice {
  std::int64_t issue = 0;     ///< cycle
  std::int64_t duration = 1;  ///< cycles (d_func)
  std::int32_t queue = 0;     ///< index into Trace::queues
  std::int32_t op = 0;        ///< index into Trace::ops
  std::int64_t end() const { return issue + duration; }
};

struct Trace {
  std::string file;
  std::string chip, program;
  double clock_mhz = 0;
  std::vector<TraceQueue> queues;
  std::vector<std::string> ops;  ///< mnemonics
  std::vector<TraceSlice> slices;
  std::int64_t ignored_events = 0;  ///< events of other phases (B/E, counters, ...)
};

/// Largest trace file accepted.
constexpr std::uintmax_t kMaxTraceBytes = std::uintmax_t{8} << 30;

/// Reads and checks a trace. InputError (exit 2) naming the file and the event for anything
/// malformed: not JSON, no traceEvents, an X event without pid/tid/ts, a negative cycle.
Trace read_trace(const std::string& path);

}  // namespace lpusim::cli::report
