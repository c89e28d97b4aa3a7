#pragma once
// A system of chips in one SystemC kernel: N Chips and the one dispatcher that runs every
// queue of every chip (models/dispatcher.hpp), and simulate_system(), which builds it for one
// bound program per chip, runs it to completion and returns each chip's result and the
// totals. Given a system configuration, the chips' C2C units send and receive over its links
// (models/c2c_network.hpp) and the dispatcher's lookahead is the shortest link latency;
// without one, the chips run independently and the lookahead is unbounded. SystemC
// elaborates once per process: call simulate_system() once per process.
#include <memory>
#include <vector>

#include <systemc>

#include "arch/config/system_config.hpp"
#include "models/c2c_network.hpp"
#include "models/chip.hpp"
#include "models/dispatcher.hpp"

namespace lpusim {

class System : public sc_core::sc_module {
 public:
  /// One chip per state, in order (chip i is named "chip<i>").
  /// `network`: the links between the chips (null: none; the lookahead is then unbounded).
  /// Event-driven, a chip whose program is empty (no queues, no tensors: idle, as most of a
  /// large system is in a stage-reuse window) gets no modules: it could never do anything.
  System(const sc_core::sc_module_name& name, const std::vector<ChipState*>& chips, Scheduler scheduler,
         C2cNetwork* network);

  /// Chip i's modules; null for a chip without a program (see above).
  Chip* chip(ChipId i) { return chips_[static_cast<std::size_t>(i.value())].get(); }
  int chips() const { return static_cast<int>(chips_.size()); }

  Dispatcher dispatcher;

 private:
  std::vector<std::unique_ptr<Chip>> chips_;
};

/// One chip's part of a system run: its configuration, its program and its options.
struct ChipRun {
  const ChipConfig& chip;
  const BoundProgram& program;
  SimOptions options;
};

/// Runs one program per chip to completion in one kernel. Every chip must use the same
/// scheduler (one kernel, one clock); modes, checks, inputs, dumps and traces are per chip.
/// With more than one chip, reported names carry their chip ("chip1/mem.w12"). Throws
/// InputError for bad inputs or dumps.
///
/// `system`: the chips' links (one run per chip of the system, in chip order). A program's
/// C2C instruction on a port the system leaves unconnected, or any C2C instruction without
/// a system, is an InputError before anything runs.
///
/// `teardown`: Destroy frees the kernel's modules before returning. LeaveToProcessExit leaves
/// them (and the chips' state) allocated for a process that exits right after, without
/// destructors (a forked child's _exit): SystemC's module registry removes each module by a
/// linear search, so destroying a system of N modules costs N^2 (a 648-chip window holds
/// about 62,000 modules, seconds of teardown).
enum class SystemTeardown { Destroy, LeaveToProcessExit };
SystemResult simulate_system(const std::vector<ChipRun>& runs, const SystemConfig* system = nullptr,
                             SystemTeardown teardown = SystemTeardown::Destroy);

}  // namespace lpusim
