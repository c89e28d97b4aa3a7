#include "models/system.hpp"

#include <chrono>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "engine/exec/tensor_io.hpp"

namespace lpusim {

System::System(const sc_core::sc_module_name& name, const std::vector<ChipState*>& chips, Scheduler scheduler,
               C2cNetwork* network)
    : sc_module(name), dispatcher("dispatcher", scheduler, network ? network->lookahead() : Calendar::kNever) {
  if (network && scheduler == Scheduler::EventDriven) network->attach_calendar(&dispatcher.calendar());
  for (std::size_t i = 0; i < chips.size(); ++i) {
    const BoundProgram& program = chips[i]->program;
    if (scheduler == Scheduler::EventDriven && program.queues.empty() && program.tensors.empty()) {
      chips_.push_back(nullptr);
      dispatcher.add_idle_chip();
      continue;
    }
    chips_.push_back(std::make_unique<Chip>(fmt::format("chip{}", i).c_str(), *chips[i], network));
    dispatcher.add_chip(chips_.back()->icu, chips_.back()->queues_on_chip());
  }
}

namespace {
std::int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

/// A chip's initial tensor contents: the program's fills, then the options' values and
/// input files. Throws InputError for names the program does not declare or wrong sizes.
std::map<std::string, std::vector<double>> initial_values(const ChipConfig& config, const BoundProgram& program,
                                                          const SimOptions& options) {
  const int lanes = config.lanes();
  std::map<std::string, std::vector<double>> initial;
  for (const auto& t : program.tensors)
    if (t.fill.kind != TensorFill::Kind::None) initial[t.name] = fill_values(t, lanes);
  for (const auto& [name, values] : options.values) {
    const BoundTensor* t = program.find_tensor(name);
    if (!t) throw InputError(fmt::format("initial values for tensor '{}', which the program does not declare", name));
    if (values.size() != static_cast<std::size_t>(t->vectors * lanes))
      throw InputError(fmt::format("initial values for tensor '{}': {} values, expected {}", name, values.size(), t->vectors * lanes));
    initial[name] = values;
  }
  for (const auto& [name, path] : options.inputs) {
    const BoundTensor* t = program.find_tensor(name);
    if (!t) throw InputError(fmt::format("--input {}={}: the program declares no tensor '{}'", name, path, name));
    initial[name] = read_tensor_file(path, *t, lanes);
  }
  if (!options.dumps.empty() && options.mode != SimMode::Functional)
    throw InputError("--dump needs functional mode: timing-only runs compute no values");
  for (const auto& name : options.dumps)
    if (!program.find_tensor(name)) throw InputError(fmt::format("--dump {}: the program declares no tensor '{}'", name, name));
  return initial;
}

/// Refuses, before anything runs, C2C instructions the system cannot carry: any without a
/// system, a link on an unconnected port, a destination that is not another chip.
void check_links(const std::vector<ChipRun>& runs, const SystemConfig* system) {
  if (system && static_cast<int>(runs.size()) != system->chips)
    throw InputError(fmt::format("{}: the system has {} chips, but the run gives {} programs", system->file,
                                 system->chips, runs.size()));
  for (std::size_t c = 0; c < runs.size(); ++c) {
    const BoundProgram& program = runs[c].program;
    if (system && runs[c].chip.c2c_links != system->chip.c2c_links)
      throw InputError(fmt::format("{}: chip {} has {} C2C ports, the system's chip {}", program.file, c,
                                   runs[c].chip.c2c_links, system->chip.c2c_links));
    for (const auto& q : program.queues)
      for (const auto& ins : q.instructions) {
        if (opcode_info(ins.opcode).unit != UnitKind::C2c) continue;
        const auto where = fmt::format("{}:{}: '{}'", program.file, ins.loc.line, ins.text);
        if (!system)
          throw InputError(fmt::format("{} uses C2C link {}, but the run has no system of chips (lpusim run --system)",
                                       where, ins.integer));
        if (!system->link_at(ChipId(static_cast<int>(c)), PortIndex(static_cast<int>(ins.integer))))
          throw InputError(fmt::format("{}: chip {} port {} is not connected in system '{}'", where, c, ins.integer,
                                       system->name));
        if (ins.opcode == Opcode::Send && ins.address >= 0 &&
            (ins.address >= system->chips || ins.address == static_cast<std::int64_t>(c)))
          throw InputError(fmt::format("{}: destination chip {} is not another chip of the system (0..{}, this is {})",
                                       where, ins.address, system->chips - 1, c));
      }
  }
}

/// Every vector left in an inbound buffer after the run is a hazard of the chip it waits at:
/// lost data if it was for that chip, not forwarded if it was passing through.
void report_leftovers(const C2cNetwork& network, std::vector<std::unique_ptr<ChipState>>& states) {
  auto sender = [&](const C2cMessage& m) { return states[static_cast<std::size_t>(m.source.value())]->describe(m.sender); };
  for (const auto& o : network.overflows()) {
    ChipState& state = *states[static_cast<std::size_t>(o.chip.value())];
    state.add_hazard(Hazard::Kind::DataLost, o.first.arrival, fmt::format("{}c2c.{}", state.queue_prefix, o.port),
                     fmt::format("{} vectors for chip {} link {} were pushed out of its buffer of {} unreceived (the "
                                 "first, from {} on chip {}, arrived in cycle {})",
                                 o.count, o.chip.value(), o.port, C2cNetwork::kMaxBuffered, sender(o.first),
                                 o.first.source.value(), o.first.arrival.value()));
  }
  for (const auto& left : network.leftovers()) {
    ChipState& state = *states[static_cast<std::size_t>(left.chip.value())];
    const C2cMessage& m = *left.message;
    const std::string port = fmt::format("{}c2c.{}", state.queue_prefix, left.port);
    if (m.destination >= 0 && m.destination != left.chip.value())
      state.add_hazard(Hazard::Kind::NotForwarded, m.arrival, port,
                       fmt::format("{} on chip {} sent a vector for chip {} that arrived on chip {} link {} in cycle {}; "
                                   "chip {} never received it to forward it",
                                   sender(m), m.source.value(), m.destination, left.chip.value(), left.port,
                                   m.arrival.value(), left.chip.value()));
    else
      state.add_hazard(Hazard::Kind::DataLost, m.arrival, port,
                       fmt::format("{} on chip {} sent a vector that arrived on chip {} link {} in cycle {}, and no "
                                   "receive took it",
                                   sender(m), m.source.value(), left.chip.value(), left.port, m.arrival.value()));
  }
}

/// One chip's result once the kernel has stopped (the run-wide figures are filled later).
/// `chip`: null for a chip without a program (no modules were built).
SimResult chip_result(ChipState& state, Chip* chip, const SimOptions& options, std::vector<TraceEvent>& trace) {
  SimResult result;
  result.mode = options.mode;
  // A queue still parked at sync when nothing is left to happen would wait forever.
  for (const auto& q : state.queue_stats)
    if (!q.parked.empty())
      state.add_hazard(Hazard::Kind::Deadlock, q.end, q.name,
                       fmt::format("{} waits at {} for a notify that never comes", q.name, q.parked));
  result.total_cycles = state.total_cycles();
  for (const auto& q : state.queue_stats) result.total_cycles = std::max(result.total_cycles, q.end);
  result.instructions = state.instructions;
  result.queues = state.queue_stats;
  result.hazards = state.hazards();
  result.hazards_not_kept = state.hazards_not_kept();
  result.trace = std::move(trace);
  result.stream_writes = state.fabric.writes();
  result.stream_reads = state.fabric.reads();
  if (!chip) return result;
  if (state.functional())
    for (const auto& name : options.dumps) result.dumps[name] = chip->load_tensor(*state.program.find_tensor(name));
  result.sram_host_bytes = chip->sram_host_bytes();
  return result;
}
}  // namespace

SystemResult simulate_system(const std::vector<ChipRun>& runs, const SystemConfig* system_config,
                             SystemTeardown teardown) {
  if (runs.empty()) throw InputError("a system needs at least one chip");
  check_links(runs, system_config);
  const Scheduler scheduler = runs.front().options.scheduler;
  for (const auto& run : runs)
    if (run.options.scheduler != scheduler)
      throw InputError("every chip of a system runs on the same scheduler (event-driven or clocked)");
  const bool several = runs.size() > 1;

  // Inputs and dump names are checked before anything is built, and the whole run's host
  // memory before any of it is allocated.
  std::uint64_t host_bytes = 0;
  bool traced = false;
  for (const auto& run : runs) {
    host_bytes += run_host_bytes(run.chip, run.program, run.options);
    traced = traced || run.options.trace;
  }
  limits::require_host_memory(host_bytes, fmt::format("{}: this run (tensor values, SRAM pages{})",
                                                      several ? fmt::format("a system of {} chips", runs.size())
                                                              : runs.front().program.file,
                                                      traced ? ", trace" : ""));
  std::vector<std::map<std::string, std::vector<double>>> initial;
  for (const auto& run : runs) initial.push_back(initial_values(run.chip, run.program, run.options));

  std::vector<std::unique_ptr<ChipState>> states;
  std::vector<ChipState*> state_ptrs;
  std::vector<std::vector<TraceEvent>> traces(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const ChipRun& run = runs[i];
    states.push_back(std::make_unique<ChipState>(run.chip, run.program, run.options.mode, run.options.check,
                                                 ChipId(static_cast<int>(i)), several));
    if (run.options.trace) states.back()->trace = &traces[i];
    state_ptrs.push_back(states.back().get());
  }
  // Without links nothing passes between chips, and the lookahead is unbounded.
  std::unique_ptr<C2cNetwork> network;
  if (system_config && !system_config->links.empty()) {
    for (const auto& run : runs)
      if (run.options.mode != runs.front().options.mode)
        throw InputError("every chip of a system with links runs in the same mode (functional or timing)");
    network = std::make_unique<C2cNetwork>(*system_config);
  }
  auto owned_system = std::make_unique<System>("system", state_ptrs, scheduler, network.get());
  System& system = *owned_system;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (states[i]->functional())
      for (const auto& [name, values] : initial[i])
        system.chip(ChipId(static_cast<int>(i)))->store_tensor(*runs[i].program.find_tensor(name), values);

  const auto start = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const auto stop = std::chrono::steady_clock::now();

  SystemResult result;
  result.host_seconds = std::chrono::duration<double>(stop - start).count();
  result.scheduler_wakes = system.dispatcher.wakes();
  result.windows = system.dispatcher.windows();
  if (system.dispatcher.lookahead() != Calendar::kNever) result.lookahead = Cycle(system.dispatcher.lookahead());
  if (network) report_leftovers(*network, states);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    SimResult chip = chip_result(*states[i], system.chip(ChipId(static_cast<int>(i))), runs[i].options, traces[i]);
    chip.host_seconds = result.host_seconds;
    chip.scheduler_wakes = result.scheduler_wakes;
    if (network) {
      const ChipId id(static_cast<int>(i));
      chip.c2c_vectors_sent = network->vectors_sent(id);
      chip.c2c_vectors_received = network->vectors_received(id);
      chip.c2c_link_busy_cycles = network->busy_cycles(id);
    }
    result.total_cycles = std::max(result.total_cycles, chip.total_cycles);
    result.instructions += chip.instructions;
    result.sram_host_bytes += chip.sram_host_bytes;
    result.chips.push_back(std::move(chip));
  }
  result.peak_rss_bytes = peak_rss_bytes();  // after the dumps are read back
  for (auto& chip : result.chips) chip.peak_rss_bytes = result.peak_rss_bytes;
  if (teardown == SystemTeardown::LeaveToProcessExit) {
    // Deliberately not freed: the process ends without destructors (see the header).
    (void)owned_system.release();
    (void)network.release();
    for (auto& state : states) (void)state.release();
  }
  return result;
}

}  // namespace lpusim
