#pragma once
// The dispatcher: the one SystemC process that runs every instruction queue of a system of
// chips (the only part of an event-driven run that owns time).
//
// Event-driven (the default): it runs the system's calendar (engine/exec/calendar.hpp) in
// lookahead windows: within a window each chip runs its busy cycles back to back, chip 0's,
// then chip 1's, ..., and idle cycles cost nothing. Being the only process, it runs every
// window in one activation and then moves SystemC time to the last busy cycle, where the run
// ends (dispatch() says why that is exact).
//
// Clocked (a reference for benchmarks): an sc_clock and one SC_METHOD per queue of every chip
// on each rising edge, doing the same work; it gives the same cycles and shows what
// event-driven scheduling buys. The run stops when no queue of any chip has anything left.
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>

#include "engine/exec/calendar.hpp"
#include "engine/exec/sim_result.hpp"

namespace lpusim {

class Icu;
class QueueRunner;

class Dispatcher : public sc_core::sc_module {
 public:
  /// `lookahead`: the system's minimum chip-to-chip message latency in cycles
  /// (Calendar::kNever: unbounded, a system without links).
  Dispatcher(const sc_core::sc_module_name& name, Scheduler scheduler, std::int64_t lookahead);
  ~Dispatcher() override;

  /// Adds the next chip's queues, from its ICU (elaboration only, chips in order).
  /// `queues_on_chip`: every queue the chip has, for the clocked reference, which runs a
  /// process for each, including those the program leaves idle.
  void add_chip(Icu& icu, int queues_on_chip);
  /// Adds the next chip as one without a program (event-driven only): it has no queues and
  /// no units to elaborate; the calendar never visits it.
  void add_idle_chip();

  /// SystemC process activations (dispatcher wakes, or clocked ticks), for reports.
  std::uint64_t wakes() const { return wakes_; }
  /// Lookahead windows run (event-driven).
  std::uint64_t windows() const { return calendar_.windows(); }
  std::int64_t lookahead() const { return lookahead_; }
  /// The calendar: the C2C network checks each arrival against its window_end(); a unit that
  /// must be woken by an arrival posts it with calendar().post(slot, cycle) (see Calendar).
  Calendar& calendar() { return calendar_; }

 private:
  void dispatch();
  void clocked_watch();

  Scheduler scheduler_;
  std::int64_t lookahead_;
  Calendar calendar_;
  int chips_ = 0;
  std::vector<QueueRunner*> runners_;  // by calendar slot (chip by chip)
  std::uint64_t wakes_ = 0;
  std::unique_ptr<sc_core::sc_clock> clock_;
  std::vector<std::unique_ptr<sc_core::sc_module>> clocked_;
};

}  // namespace lpusim
