#include "runtime/stage_reuse.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace lpusim {

namespace {

PortIndex port_of(const SystemLink& link, ChipId chip) { return link.a.chip == chip ? link.a.port : link.b.port; }

/// A port as a schedule sees it: where on the chip it sits (its queue's position) and which
/// of the chip's ports it is, numbered in the order the signature first meets them (two
/// stages whose transfers use the same ports up to renaming are scheduled alike).
class PortLabels {
 public:
  explicit PortLabels(const ChipConfig& chip) : chip_(chip) {}
  std::string operator()(ChipId chip, PortIndex port) {
    auto& labels = labels_[chip.value()];
    const auto it = labels.try_emplace(port.value(), static_cast<int>(labels.size())).first;
    const Position at = chip_.queue_position(QueueId{UnitKind::C2c, Hemisphere::West, port.value()});
    return fmt::format("{}@{}", it->second, at.value());
  }

 private:
  const ChipConfig& chip_;
  std::map<int, std::map<int, int>> labels_;  ///< chip -> port -> label
};

/// A route's shape, hop by hop: link class and ports, and each chip relative to `base` when
/// it lies in [lo, hi) (the window's stages), else "-" (an idle chip outside them).
void write_route(std::string& out, const SystemConfig& system, PortLabels& ports, int from, int to, int base, int lo,
                 int hi) {
  auto chip = [&](ChipId c) { return c.value() >= lo && c.value() < hi ? fmt::format("{}", c.value() - base) : "-"; };
  out += "[";
  for (const Hop& hop : system.route(ChipId(from), ChipId(to))) {
    const SystemLink& link = system.links[static_cast<std::size_t>(hop.link.value())];
    out += fmt::format("{}:{}>{}:{}/{};", chip(hop.from), ports(hop.from, port_of(link, hop.from)), chip(hop.to),
                       ports(hop.to, port_of(link, hop.to)), link.link_class);
  }
  out += "]";
}

std::string attr_text(const AttrValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return fmt::format("i{}", *i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("d{}", *d);
  return "s" + std::get<std::string>(v);
}

/// What of a chip's graph its schedule depends on: shapes, roles, ops and their parameters,
/// chips relative to `base`, layers relative to the stage's first. Names are left out (they
/// carry the layer and stage numbers; the schedule does not read them: the --full comparison
/// tests check it) and so are weight values (a timing-only step has none).
void write_graph(std::string& out, const Graph& g, int base, std::int64_t first_layer) {
  for (const TensorInfo& t : g.tensors) {
    out += fmt::format("T{}", static_cast<int>(t.role));
    for (std::int64_t d : t.shape) out += fmt::format(",{}", d);
    out += "|" + t.checkpoint_format;
    if (t.slice_of) {
      out += fmt::format("|{},{}", t.slice_of->row_begin, t.slice_of->col_begin);
      for (std::int64_t d : t.slice_of->full_shape) out += fmt::format(",{}", d);
    }
    out += ";";
  }
  for (const Node& n : g.nodes) {
    out += fmt::format("N{}", static_cast<int>(n.kind));
    for (int i : n.inputs) out += fmt::format(",i{}", i);
    for (int o : n.outputs) out += fmt::format(",o{}", o);
    for (const auto& [key, value] : n.attrs) out += fmt::format(",{}={}", key, attr_text(value));
    out += fmt::format(",s{}/{}", static_cast<int>(n.split), n.split_unit);
    for (int c : n.group) out += fmt::format(",g{}", c - base);
    if (n.peer >= 0) out += fmt::format(",p{}", n.peer - base);
    out += fmt::format(",l{}", n.layer < 0 ? -1 : n.layer - first_layer);
    if (n.weight_type) out += fmt::format(",w{}", static_cast<int>(*n.weight_type));
    out += fmt::format(",c{}{}{}{}", static_cast<int>(n.matmul_compute), n.mxfp4_weights ? "x" : "",
                       n.fuse_into_next ? "f" : "", n.stage_input ? "h" : "");
    if (n.act_scale) out += fmt::format(",a{}", *n.act_scale);
    out += ";";
  }
}

bool in_stage(int chip, int stage, int tp) { return chip >= stage * tp && chip < (stage + 1) * tp; }

/// The routes a stage's window uses: the hand-off in (rank r of the stage before to rank r),
/// the collectives' pairs within the stage, and the hand-off out.
void write_routes(std::string& out, const PartitionPlan& plan, const SystemConfig& system, int k) {
  const int tp = plan.tp, base = k * tp;
  const int lo = std::max(0, (k - 1) * tp), hi = std::min(plan.chips(), (k + 2) * tp);
  PortLabels ports(system.chip);
  for (int r = 0; r < tp; ++r) {
    if (k > 0) write_route(out, system, ports, base - tp + r, base + r, base, lo, hi);
    if (k + 1 < plan.pp) write_route(out, system, ports, base + r, base + tp + r, base, lo, hi);
    for (int q = 0; q < tp; ++q)
      if (q != r) write_route(out, system, ports, base + r, base + q, base, lo, hi);
  }
}

std::string place_of(const PartitionPlan& plan, int k) {
  return fmt::format("{}{}{}|", k == 0 ? "first" : "", k + 1 == plan.pp ? "last" : "", plan.stages[static_cast<std::size_t>(k)].count());
}

StageClasses classes_from(const std::vector<std::string>& signatures) {
  StageClasses c;
  std::map<std::string, int> first;
  for (std::size_t k = 0; k < signatures.size(); ++k)
    c.representative.push_back(first.try_emplace(signatures[k], static_cast<int>(k)).first->second);
  return c;
}

/// Stage k's chips as the window sees the stage before: only the Sends of its hand-off to
/// stage k, their tensors given as inputs (so they leave at once).
Graph hand_off_sender(const Graph& g, int k, int tp) {
  Graph p;
  p.name = g.name + " (its hand-off sends only)";
  p.file = g.file;
  std::map<int, int> copied;
  for (const Node& n : g.nodes) {
    if (n.kind != OpKind::Send || !in_stage(n.peer, k, tp)) continue;
    Node s = n;
    s.inputs.clear();
    for (int t : n.inputs) {
      auto it = copied.find(t);
      if (it == copied.end()) {
        TensorInfo info = g.tensors[static_cast<std::size_t>(t)];
        info.role = TensorRole::Input;
        info.slice_of.reset();
        it = copied.emplace(t, p.add_tensor(std::move(info))).first;
      }
      s.inputs.push_back(it->second);
    }
    p.nodes.push_back(std::move(s));
  }
  return p;
}

/// Vectors and link-busy cycles the transfers of `sender`'s Sends put on the links, every hop.
std::pair<std::int64_t, std::int64_t> transfer_load(const Graph& sender, int from, const SystemConfig& system) {
  const ChipConfig& chip = system.chip;
  std::int64_t vectors = 0, busy = 0;
  for (const Node& n : sender.nodes) {
    if (n.kind != OpKind::Send) continue;
    const auto& shape = sender.tensors[static_cast<std::size_t>(n.inputs[0])].shape;
    const std::int64_t cols = shape.back();
    std::int64_t rows = 1;
    for (std::size_t d = 0; d + 1 < shape.size(); ++d) rows *= shape[d];
    const std::int64_t per_hop = rows * ((cols + chip.lanes() - 1) / chip.lanes()) * 4;  // fp32: 4 byte planes
    for (const Hop& hop : system.route(ChipId(from), ChipId(n.peer))) {
      vectors += per_hop;
      busy += per_hop * system.link_class_of(hop.link).serialization(chip.lanes(), chip.clock_mhz).value();
    }
  }
  return {vectors, busy};
}

/// What one class's window measured, in the window's cycles.
struct WindowMeasure {
  std::int64_t gate = 0;       ///< the stage's gate
  std::int64_t next_gate = 0;  ///< the stage after's (its hand-off receiver's)
  std::int64_t own_end = 0;    ///< the stage's chips' own work (stage_times)
  std::int64_t end = 0, scheduled_end = 0;  ///< every chip of the window: its program's end
  LoweringStats last_chip;     ///< the stage's chip whose own work ends last
  std::int64_t c2c_vectors = 0, c2c_busy = 0;  ///< the stage's transfers (its hand-off out included)
  std::int64_t stage_instructions = 0, window_instructions = 0;
  SimResult first_chip;
  LoweringStats first_chip_lowering;
  double seconds = 0;
};

WindowMeasure run_window(const std::vector<Graph>& graphs, const PartitionPlan& plan, const SystemConfig& system, int k,
                         CompileOptions options, const std::string& name) {
  const int tp = plan.tp, base = k * tp;
  const bool before = k > 0, after = k + 1 < plan.pp;
  const int count = (after ? k + 2 : k + 1) * tp;
  std::vector<Graph> window(static_cast<std::size_t>(count));
  std::vector<int> stages(static_cast<std::size_t>(count), -1);
  std::vector<bool> stop(static_cast<std::size_t>(count), false);
  for (int c = 0; c < count; ++c) {
    Graph& g = window[static_cast<std::size_t>(c)];
    const Graph& whole = graphs[static_cast<std::size_t>(c)];
    if (in_stage(c, k, tp)) {
      g = whole;
      stages[static_cast<std::size_t>(c)] = k;
    } else if (before && in_stage(c, k - 1, tp)) {
      g = hand_off_sender(whole, k, tp);
    } else if (after && in_stage(c, k + 1, tp)) {
      g = whole;  // lowered only up to its gate (stop_at_gate): the placement its hand-off gets is its own
      stages[static_cast<std::size_t>(c)] = k + 1;
      stop[static_cast<std::size_t>(c)] = true;
    } else {
      g.name = fmt::format("chip{} (idle in this window)", c);
    }
  }
  std::pair<std::int64_t, std::int64_t> inbound{0, 0};  // the hand-off in: the stage before's
  if (before)
    for (int r = 0; r < tp; ++r) {
      const auto load = transfer_load(window[static_cast<std::size_t>(base - tp + r)], base - tp + r, system);
      inbound.first += load.first;
      inbound.second += load.second;
    }
  options.pipeline_stages = stages;
  options.stop_at_gate = stop;
  const std::string window_name = fmt::format("{}.stage{}", name, k);
  std::vector<CompileResult> compiled = compile_system(std::move(window), system, options);
  SystemStepResult s = run_compiled_system(system, std::move(compiled), false, {}, {}, window_name);

  WindowMeasure m;
  m.gate = s.lowering.at(static_cast<std::size_t>(base)).stage_gate_cycle;
  m.next_gate = after ? s.lowering.at(static_cast<std::size_t>(base + tp)).stage_gate_cycle : 0;
  // The stage ends with its last chip (as stage_times picks it).
  auto own_end = [&](std::size_t c) { return own_work_end(s.lowering.at(c), s.simulated.chips.at(c).total_cycles.value()); };
  std::size_t last = static_cast<std::size_t>(base);
  m.own_end = own_end(last);
  for (int r = 1; r < tp; ++r) {
    const std::size_t c = static_cast<std::size_t>(base + r);
    if (own_end(c) > m.own_end) {
      last = c;
      m.own_end = own_end(c);
    }
  }
  m.last_chip = s.lowering.at(last);
  for (std::size_t c = 0; c < s.scheduled.size(); ++c) {
    const SimResult& chip = s.simulated.chips.at(c);
    if (chip.total_cycles != s.scheduled[c])
      throw std::logic_error(fmt::format("{} on chip {}: simulated {} cycles, scheduled {} (a compiler bug)",
                                         window_name, c, chip.total_cycles.value(), s.scheduled[c].value()));
    m.end = std::max(m.end, chip.total_cycles.value());
    m.scheduled_end = std::max(m.scheduled_end, s.scheduled[c].value());
    m.c2c_vectors += static_cast<std::int64_t>(chip.c2c_vectors_sent);
    m.c2c_busy += static_cast<std::int64_t>(chip.c2c_link_busy_cycles);
    m.window_instructions += static_cast<std::int64_t>(chip.instructions);
    if (in_stage(static_cast<int>(c), k, tp)) m.stage_instructions += static_cast<std::int64_t>(chip.instructions);
  }
  m.c2c_vectors -= inbound.first;
  m.c2c_busy -= inbound.second;
  m.first_chip = s.simulated.chips.at(static_cast<std::size_t>(base));
  m.first_chip_lowering = s.lowering.at(static_cast<std::size_t>(base));
  m.seconds = s.simulated.host_seconds;
  return m;
}

}  // namespace

int StageClasses::classes() const {
  std::set<int> distinct(representative.begin(), representative.end());
  return static_cast<int>(distinct.size());
}

int StageClasses::window_chips(const PartitionPlan& plan) const {
  int chips = 0;
  for (std::size_t k = 0; k < representative.size(); ++k) {
    if (representative[k] != static_cast<int>(k)) continue;
    chips += plan.tp * (1 + (k > 0 ? 1 : 0) + (k + 1 < representative.size() ? 1 : 0));
  }
  return chips;
}

StageClasses classify_stages_by_plan(const PartitionPlan& plan, const SystemConfig& system) {
  std::vector<std::string> signatures;
  for (int k = 0; k < plan.pp; ++k) {
    std::string s = place_of(plan, k);
    if (k + 1 < plan.pp) s += "next:" + place_of(plan, k + 1);  // the window lowers it up to its gate
    write_routes(s, plan, system, k);
    signatures.push_back(std::move(s));
  }
  return classes_from(signatures);
}

StageClasses classify_stages(const std::vector<Graph>& chip_graphs, const PartitionPlan& plan,
                             const SystemConfig& system) {
  const int tp = plan.tp;
  if (static_cast<int>(chip_graphs.size()) != plan.chips())
    throw std::logic_error(fmt::format("classify_stages: {} graphs for {}", chip_graphs.size(), plan.describe()));
  // A hand-off that skips a stage (a tensor read two stages later) would cross a window's
  // edge: then every stage is its own class.
  for (int c = 0; c < plan.chips(); ++c)
    for (const Node& n : chip_graphs[static_cast<std::size_t>(c)].nodes) {
      const int stage = c / tp;
      const bool skips = (n.kind == OpKind::Recv && n.stage_input && !in_stage(n.peer, stage - 1, tp)) ||
                         (n.kind == OpKind::Send && !in_stage(n.peer, stage + 1, tp));
      if (skips) {
        StageClasses every;
        for (int k = 0; k < plan.pp; ++k) every.representative.push_back(k);
        return every;
      }
    }
  std::vector<std::string> signatures;
  for (int k = 0; k < plan.pp; ++k) {
    const int base = k * tp;
    std::string s = place_of(plan, k);
    write_routes(s, plan, system, k);
    const std::int64_t first = plan.stages[static_cast<std::size_t>(k)].first;
    for (int r = 0; r < tp; ++r) {
      s += "|chip:";
      write_graph(s, chip_graphs[static_cast<std::size_t>(base + r)], base, first);
      // The window's phantom chips: the Sends of the hand-off in, the Recvs of the one out.
      if (k > 0) {
        s += "|in:";
        write_graph(s, hand_off_sender(chip_graphs[static_cast<std::size_t>(base - tp + r)], k, tp), base, first);
      }
      if (k + 1 < plan.pp) {  // the stage after up to its gate: where its hand-off is placed
        s += "|out:";
        write_graph(s, chip_graphs[static_cast<std::size_t>(base + tp + r)], base,
                    plan.stages[static_cast<std::size_t>(k + 1)].first);
      }
    }
    signatures.push_back(std::move(s));
  }
  return classes_from(signatures);
}

ReusedStep run_reused_stages(const std::vector<Graph>& chip_graphs, const PartitionPlan& plan,
                             const SystemConfig& system, const StageClasses& classes, CompileOptions options,
                             const std::string& name) {
  const int pp = plan.pp;
  ReusedStep r;
  r.classes = classes;
  std::map<int, WindowMeasure> windows;
  for (int k = 0; k < pp; ++k) {
    const int rep = classes.representative.at(static_cast<std::size_t>(k));
    if (windows.count(rep)) continue;
    windows.emplace(rep, run_window(chip_graphs, plan, system, rep, options, name));
  }
  auto of = [&](int k) -> const WindowMeasure& { return windows.at(classes.representative.at(static_cast<std::size_t>(k))); };
  // The gates: each stage's from the one before, as its class's window timed the hand-off.
  r.stage_gates.assign(static_cast<std::size_t>(pp), 0);
  for (int k = 1; k < pp; ++k)
    r.stage_gates[static_cast<std::size_t>(k)] =
        r.stage_gates[static_cast<std::size_t>(k - 1)] + of(k - 1).next_gate - of(k - 1).gate;
  const WindowMeasure& last = of(pp - 1);
  const std::int64_t last_gate = r.stage_gates.back();
  r.cycles = last_gate + last.end - last.gate;
  r.scheduled_cycles = last_gate + last.scheduled_end - last.gate;
  std::int64_t previous = 0;
  for (int k = 0; k < pp; ++k) {
    const WindowMeasure& m = of(k);
    const std::int64_t shift = r.stage_gates[static_cast<std::size_t>(k)] - m.gate;  // window -> step cycles
    const std::int64_t end = k + 1 == pp ? std::max(r.cycles, previous) : std::max(m.own_end + shift, previous);
    r.stage_times.push_back(split_stage_span(m.last_chip, previous - shift, end - shift, m.gate));
    previous = end;
    r.c2c_vectors_sent += m.c2c_vectors;
    r.c2c_link_busy_cycles += m.c2c_busy;
    r.program_instructions += m.stage_instructions;
  }
  for (const auto& [rep, m] : windows) {
    r.simulated_instructions += m.window_instructions;
    r.simulate_seconds += m.seconds;
    r.chips_simulated += plan.tp;
  }
  r.last_stage_chip = last.first_chip;
  r.last_stage_chip.total_cycles = Cycle(r.cycles);
  r.first_chip_lowering = of(0).first_chip_lowering;
  return r;
}

}  // namespace lpusim
