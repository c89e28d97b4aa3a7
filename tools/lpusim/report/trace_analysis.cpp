#include "report/trace_analysis.hpp"

#include <algorithm>
#include <map>

namespace lpusim::cli::report {

namespace {

using Interval = std::pair<std::int64_t, std::int64_t>;  // [start, end)

/// Sorted, disjoint intervals covering the same cycles as `intervals`.
std::vector<Interval> merge(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end());
  std::vector<Interval> merged;
  for (const auto& iv : intervals) {
    if (!merged.empty() && iv.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, iv.second);
    } else {
      merged.push_back(iv);
    }
  }
  return merged;
}

void keep_longest(std::vector<IdleGap>& gaps, std::size_t max_gaps) {
  auto longer = [](const IdleGap& a, const IdleGap& b) {
    if (a.length() != b.length()) return a.length() > b.length();
    if (a.start != b.start) return a.start < b.start;
    return a.queue < b.queue;
  };
  const std::size_t n = std::min(max_gaps, gaps.size());
  std::partial_sort(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(n), gaps.end(), longer);
  gaps.resize(n);
}

/// Walks back from the slice whose result lands last: each step's predecessor is the slice
/// whose result landed last at or before the step's issue (on the same queue when several
/// land in that cycle). The trace records no data dependences, so this is the chain of work
/// that was finishing as each next instruction started: inferred from timing alone.
std::vector<PathStep> critical_path(const Trace& t) {
  const auto& s = t.slices;
  std::vector<std::size_t> by_end(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) by_end[i] = i;
  std::sort(by_end.begin(), by_end.end(), [&](std::size_t a, std::size_t b) {
    if (s[a].end() != s[b].end()) return s[a].end() < s[b].end();
    if (s[a].queue != s[b].queue) return s[a].queue < s[b].queue;
    return s[a].issue < s[b].issue;
  });
  std::vector<PathStep> path;
  std::size_t current = by_end.back();
  while (true) {
    const std::int64_t issue = s[current].issue;
    // The last slice (in end order) whose result lands at or before `issue`.
    auto it = std::upper_bound(by_end.begin(), by_end.end(), issue,
                               [&](std::int64_t cycle, std::size_t i) { return cycle < s[i].end(); });
    if (it == by_end.begin()) {
      path.push_back({current, issue});
      break;
    }
    --it;
    const std::int64_t end = s[*it].end();
    std::size_t predecessor = *it;
    for (auto back = it;; --back) {
      if (s[*back].end() != end) break;
      if (s[*back].queue == s[current].queue) {
        predecessor = *back;
        break;
      }
      if (back == by_end.begin()) break;
    }
    path.push_back({current, issue - end});
    current = predecessor;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

}  // namespace

TraceAnalysis analyse_trace(const Trace& t, std::size_t max_gaps, std::int64_t max_bins) {
  TraceAnalysis a;
  for (const auto& s : t.slices) a.span = std::max(a.span, s.end());

  std::vector<std::vector<Interval>> per_queue(t.queues.size());
  for (const auto& s : t.slices) per_queue[static_cast<std::size_t>(s.queue)].push_back({s.issue, s.end()});

  // Timeline bins and the unit groups in floorplan order (the trace's process ids).
  a.bin_cycles = std::max<std::int64_t>(1, (a.span + max_bins - 1) / max_bins);
  const auto bins = static_cast<std::size_t>((a.span + a.bin_cycles - 1) / a.bin_cycles);
  std::map<int, std::size_t> group_index;
  for (const auto& q : t.queues) group_index.emplace(q.group_id, 0);
  for (auto& [id, index] : group_index) {
    index = a.timeline.size();
    UnitTimeline u;
    u.utilisation.assign(bins, 0.0);
    a.timeline.push_back(u);
  }

  std::vector<Interval> all_busy;
  for (std::size_t q = 0; q < t.queues.size(); ++q) {
    if (per_queue[q].empty()) continue;
    QueueActivity activity;
    activity.queue = static_cast<int>(q);
    activity.instructions = static_cast<std::int64_t>(per_queue[q].size());
    const auto merged = merge(std::move(per_queue[q]));
    per_queue[q].clear();
    activity.first_issue = merged.front().first;
    activity.last_end = merged.back().second;
    UnitTimeline& unit = a.timeline[group_index[t.queues[q].group_id]];
    unit.group = t.queues[q].group;
    ++unit.queues;
    for (std::size_t i = 0; i < merged.size(); ++i) {
      const auto [start, end] = merged[i];
      activity.in_flight_cycles += end - start;
      if (i > 0) a.queue_gaps.push_back({static_cast<int>(q), merged[i - 1].second, start});
      for (auto b = start / a.bin_cycles; b * a.bin_cycles < end; ++b) {
        const std::int64_t lo = std::max(start, b * a.bin_cycles), hi = std::min(end, (b + 1) * a.bin_cycles);
        unit.utilisation[static_cast<std::size_t>(b)] += static_cast<double>(hi - lo);
      }
      all_busy.push_back(merged[i]);
    }
    a.queues.push_back(activity);
  }
  for (auto& unit : a.timeline) {
    double total = 0;
    for (std::size_t b = 0; b < bins; ++b) {
      // The last bin may be shorter than the others.
      const std::int64_t width = std::min<std::int64_t>(a.bin_cycles, a.span - static_cast<std::int64_t>(b) * a.bin_cycles);
      total += unit.utilisation[b];
      unit.utilisation[b] /= static_cast<double>(std::max(1, unit.queues)) * static_cast<double>(width);
    }
    unit.average = a.span > 0 ? total / (static_cast<double>(std::max(1, unit.queues)) * static_cast<double>(a.span)) : 0;
  }
  std::sort(a.queues.begin(), a.queues.end(), [](const QueueActivity& x, const QueueActivity& y) {
    if (x.instructions != y.instructions) return x.instructions > y.instructions;
    if (x.in_flight_cycles != y.in_flight_cycles) return x.in_flight_cycles > y.in_flight_cycles;
    return x.queue < y.queue;
  });

  // Cycles in which no queue has anything in flight, from cycle 0 to the last result.
  const auto chip_busy = merge(std::move(all_busy));
  std::int64_t previous = 0;
  for (const auto& [start, end] : chip_busy) {
    if (start > previous) a.chip_gaps.push_back({-1, previous, start});
    previous = end;
  }
  for (const auto& g : a.chip_gaps) a.chip_idle_cycles += g.length();
  keep_longest(a.queue_gaps, max_gaps);
  keep_longest(a.chip_gaps, max_gaps);
  a.critical_path = critical_path(t);
  return a;
}

}  // namespace lpusim::cli::report
