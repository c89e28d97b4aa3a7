#pragma once
// A system of chips in one SystemC kernel: N Chips and the one dispatcher that runs every
// queue of every chip (models/dispatcher.hpp), and simulate_system(), which builds it for one
// bound program per chip, runs it to completion and returns each chip's result and the
// totals. There are no chip-to-chip links yet (issue #12), so the chips run independently
// and the dispatcher's lookahead is unbounded. SystemC elaborates once per process: call
// simulate_system() once per process.
#include <memory>
#include <vector>

#include <systemc>

#include "models/chip.hpp"
#include "models/dispatcher.hpp"

namespace lpusim {

class System : public sc_core::sc_module {
 public:
  /// One chip per state, in order (chip i is named "chip<i>").
  System(const sc_core::sc_module_name& name, const std::vector<ChipState*>& chips, Scheduler scheduler,
         std::int64_t lookahead);

  Chip& chip(ChipId i) { return *chips_[static_cast<std::size_t>(i.value())]; }
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
SystemResult simulate_system(const std::vector<ChipRun>& runs);

}  // namespace lpusim
