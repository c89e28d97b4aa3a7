// `lpusim report TRACE.json`: summarises a trace written by `lpusim run --trace` (busiest
// queues, idle gaps, an inferred critical path) and draws a unit-utilisation timeline PNG
// with tools/plot_timeline.py (python3-matplotlib).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arch/core/error.hpp"
#include "commands.hpp"
#include "external_command.hpp"
#include "report/trace_analysis.hpp"
#include "report/trace_reader.hpp"
#include "sweep/sweep_results.hpp"

namespace lpusim::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using report::Trace;
using report::TraceAnalysis;

namespace {

struct ReportArgs {
  std::string trace;
  std::string png;
  bool no_png = false;
  int top = 10;
  bool json = false;
};

std::string queue_name(const Trace& t, int q) { return q < 0 ? "whole chip" : t.queues[static_cast<std::size_t>(q)].name; }

double percent(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

/// Runs of consecutive critical-path steps on one queue with one opcode.
struct PathRun {
  int queue = 0, op = 0, count = 0;
  std::int64_t start = 0, end = 0, wait = 0;
};

std::vector<PathRun> path_runs(const Trace& t, const TraceAnalysis& a) {
  std::vector<PathRun> runs;
  for (const auto& step : a.critical_path) {
    const auto& s = t.slices[step.slice];
    if (!runs.empty() && runs.back().queue == s.queue && runs.back().op == s.op) {
      ++runs.back().count;
      runs.back().end = s.end();
      runs.back().wait += step.wait;
    } else {
      runs.push_back({s.queue, s.op, 1, s.issue, s.end(), step.wait});
    }
  }
  return runs;
}

json analysis_json(const Trace& t, const TraceAnalysis& a, int top) {
  json j;
  j["trace"] = t.file;
  j["chip"] = t.chip;
  j["program"] = t.program;
  j["clock_mhz"] = t.clock_mhz;
  j["span_cycles"] = a.span;
  j["instructions"] = t.slices.size();
  j["queues_in_trace"] = t.queues.size();
  json busiest = json::array();
  for (std::size_t i = 0; i < a.queues.size() && static_cast<int>(i) < top; ++i) {
    const auto& q = a.queues[i];
    busiest.push_back({{"queue", queue_name(t, q.queue)}, {"instructions", q.instructions},
                       {"issue_percent", percent(q.instructions, a.span)}, {"in_flight_cycles", q.in_flight_cycles},
                       {"in_flight_percent", percent(q.in_flight_cycles, a.span)}});
  }
  j["busiest_queues"] = busiest;
  auto gaps = [&](const std::vector<report::IdleGap>& list) {
    json g = json::array();
    for (const auto& gap : list) g.push_back({{"queue", queue_name(t, gap.queue)}, {"start", gap.start}, {"end", gap.end}, {"cycles", gap.length()}});
    return g;
  };
  j["idle_gaps"] = gaps(a.queue_gaps);
  j["chip_idle_gaps"] = gaps(a.chip_gaps);
  j["chip_idle_cycles"] = a.chip_idle_cycles;
  json path = json::array();
  for (const auto& r : path_runs(t, a))
    path.push_back({{"queue", queue_name(t, r.queue)}, {"group", t.queues[static_cast<std::size_t>(r.queue)].group},
                    {"op", t.ops[static_cast<std::size_t>(r.op)]}, {"count", r.count},
                    {"start", r.start}, {"end", r.end}, {"wait_cycles", r.wait}});
  j["critical_path"] = {{"instructions", a.critical_path.size()}, {"runs", path},
                        {"inferred", "each step is the instruction whose result landed last before the next one issued"}};
  json timeline = json::array();
  for (const auto& u : a.timeline)
    timeline.push_back({{"name", u.group}, {"queues", u.queues}, {"average", u.average}, {"utilisation", u.utilisation}});
  j["timeline"] = {{"bin_cycles", a.bin_cycles}, {"groups", timeline}};
  return j;
}

void print_text(const Trace& t, const TraceAnalysis& a, int top) {
  std::cout << fmt::format("lpusim report {}: {} on {} at {:g} MHz\n", t.file, t.program.empty() ? "?" : t.program,
                           t.chip.empty() ? "?" : t.chip, t.clock_mhz);
  std::cout << fmt::format("  span          {} cycles ({:.3f} us), {} instructions on {} queues\n", a.span,
                           t.clock_mhz > 0 ? static_cast<double>(a.span) / t.clock_mhz : 0.0, t.slices.size(), t.queues.size());
  if (t.ignored_events > 0) std::cout << fmt::format("  note          {} events of other kinds ignored\n", t.ignored_events);

  std::size_t width = 5;
  for (const auto& q : t.queues) width = std::max(width, q.name.size());
  std::cout << fmt::format("  busiest queues (issued: instructions = issue slots used; in flight: cycles between an issue and its result)\n");
  std::cout << fmt::format("    {:<{}}  {:>12}  {:>7}  {:>12}  {:>7}\n", "queue", width, "issued", "of span", "in flight", "of span");
  for (std::size_t i = 0; i < a.queues.size() && static_cast<int>(i) < top; ++i) {
    const auto& q = a.queues[i];
    std::cout << fmt::format("    {:<{}}  {:>12}  {:>6.1f}%  {:>12}  {:>6.1f}%\n", queue_name(t, q.queue), width, q.instructions,
                             percent(q.instructions, a.span), q.in_flight_cycles, percent(q.in_flight_cycles, a.span));
  }
  std::cout << "  unit groups   average share of their queues in flight over the span\n";
  for (const auto& u : a.timeline)
    std::cout << fmt::format("    {:<{}}  {:>5.1f}%  ({} queues in the trace)\n", u.group, width, 100.0 * u.average, u.queues);

  std::cout << "  idle gaps     longest, between a queue's first issue and its last result\n";
  if (a.queue_gaps.empty()) std::cout << "    none\n";
  for (const auto& g : a.queue_gaps)
    std::cout << fmt::format("    {:<{}}  cycles {}-{} ({} cycles)\n", queue_name(t, g.queue), width, g.start, g.end, g.length());
  std::cout << fmt::format("  whole chip    {} cycles with no instruction in flight ({:.1f}% of the span; data may still be moving on the "
                           "streams){}\n", a.chip_idle_cycles,
                           percent(a.chip_idle_cycles, a.span), a.chip_gaps.empty() ? "" : "; longest:");
  for (std::size_t i = 0; i < a.chip_gaps.size() && i < 5; ++i)
    std::cout << fmt::format("    cycles {}-{} ({} cycles)\n", a.chip_gaps[i].start, a.chip_gaps[i].end, a.chip_gaps[i].length());

  // Critical path: where its cycles go, by unit group and waiting between steps.
  std::map<std::string, std::int64_t> by_group;
  std::int64_t waits = 0;
  for (const auto& step : a.critical_path) {
    const auto& s = t.slices[step.slice];
    by_group[t.queues[static_cast<std::size_t>(s.queue)].group] += s.duration;
    waits += step.wait;
  }
  std::vector<std::pair<std::string, std::int64_t>> groups(by_group.begin(), by_group.end());
  std::sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  std::string shares;
  for (const auto& [g, cycles] : groups) shares += fmt::format("{} {} ({:.0f}%), ", g, cycles, percent(cycles, a.span));
  std::cout << fmt::format("  critical path {} instructions over the {} cycles (inferred from timing: each step is the instruction\n"
                           "                whose result landed last before the next one issued; the trace has no data dependences)\n",
                           a.critical_path.size(), a.span);
  std::cout << fmt::format("    cycles by unit: {}waiting between steps (stream hops, skew, slack) {} ({:.0f}%)\n", shares, waits,
                           percent(waits, a.span));
  const auto runs = path_runs(t, a);
  auto print_run = [&](const PathRun& r) {
    std::cout << fmt::format("    {:>10}-{:<10} {:<{}}  {}{}{}\n", r.start, r.end, queue_name(t, r.queue), width,
                             t.ops[static_cast<std::size_t>(r.op)], r.count > 1 ? fmt::format(" x{}", r.count) : "",
                             r.wait > 0 ? fmt::format("  (after waiting {} cycle{})", r.wait, r.wait == 1 ? "" : "s") : "");
  };
  const std::size_t show = 8;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs.size() > 2 * show && i == show) std::cout << fmt::format("    ... {} more runs ...\n", runs.size() - 2 * show);
    if (runs.size() > 2 * show && i >= show && i < runs.size() - show) continue;
    print_run(runs[i]);
  }
}

std::string default_png(const std::string& trace) {
  fs::path p(trace);
  const std::string stem = p.extension() == ".json" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".timeline.png")).string();
}

int run(const ReportArgs& args) {
  const std::string png = args.png.empty() ? default_png(args.trace) : args.png;
  if (!args.no_png) {
    std::error_code ec;
    const fs::path dir = fs::path(png).parent_path();
    if (!dir.empty() && !fs::is_directory(dir, ec)) throw InputError(fmt::format("--png {}: no folder {}", png, dir.string()));
  }
  const Trace trace = report::read_trace(args.trace);
  const TraceAnalysis analysis = report::analyse_trace(trace, static_cast<std::size_t>(args.top));
  const json j = analysis_json(trace, analysis, args.top);
  if (args.json) {
    json out = j;
    out["timeline"].erase("groups");  // the per-bin values are for the plot
    std::cout << out.dump(2) << "\n";
  } else {
    print_text(trace, analysis, args.top);
  }
  if (args.no_png) return 0;
  // The plot script reads the analysis from a file beside the PNG, removed afterwards.
  const std::string data = png + ".json";
  sweep::write_file_atomically(data, j.dump() + "\n");
  const ExternalResult r = run_external({"python3", tools_script("plot_timeline.py"), data, png});
  std::error_code ec;
  fs::remove(data, ec);
  std::string text = r.output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (r.exit_code != 0) {
    std::cerr << fmt::format("lpusim: warning: timeline not drawn (plot_timeline.py exited {}): {}\n", r.exit_code,
                             text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1));
    return 0;
  }
  (args.json ? std::cerr : std::cout) << fmt::format("  timeline      {} ({} bins of {} cycle{})\n", png,
                                                       analysis.timeline.empty() ? 0 : analysis.timeline[0].utilisation.size(),
                                                       analysis.bin_cycles, analysis.bin_cycles == 1 ? "" : "s");
  return 0;
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "Summarise a trace from lpusim run --trace and draw its utilisation timeline");
  cmd->add_option("trace", args->trace, "Trace JSON written by lpusim run --trace")->required();
  cmd->add_option("--png", args->png, "Timeline PNG to write (default: TRACE without .json + .timeline.png)");
  cmd->add_flag("--no-png", args->no_png, "Do not draw the timeline");
  cmd->add_option("--top", args->top, "Queues and gaps to list")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
