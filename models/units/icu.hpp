#pragma once
// The ICU: it dispatches every instruction queue of the chip, and holds the barrier
// (`notify` on any queue releases every queue parked at `sync`, after the notify's
// functional delay).
//
// Event-driven (the default): one SystemC process for the whole chip. It keeps a calendar
// of (cycle, queue) entries and, for each busy cycle in turn, runs every queue due then
// (in queue order) and puts each back on the calendar at its next wake. Idle cycles cost
// nothing. Being the only process, it runs the busy cycles back to back in one activation
// and then moves SystemC time to the last of them (dispatch() says why that is exact).
//
// Clocked (a reference for benchmarks): one SC_METHOD per queue on every edge of a clock,
// doing the same work; it gives the same cycles and shows what event-driven scheduling buys.
#include <memory>
#include <optional>
#include <vector>

#include <systemc>

#include "arch/core/types.hpp"
#include "engine/exec/sim_result.hpp"

namespace lpusim {

class QueueRunner;

class Icu : public sc_core::sc_module {
 public:
  Icu(const sc_core::sc_module_name& name, Scheduler scheduler);
  ~Icu() override;

  /// Adds a queue to dispatch (elaboration only).
  void add_queue(QueueRunner& queue);
  /// Creates the clocked reference's processes once every queue is added (elaboration only):
  /// one per queue of the chip (`chip_queues`), including those the program leaves idle.
  void finish_elaboration(int chip_queues);

  /// Records a release at `release` (called in the notify's issue cycle).
  void notify(Cycle now, Cycle release);
  /// The first release at or after `cycle`, if one is known.
  std::optional<Cycle> release_at_or_after(Cycle cycle) const;
  /// SystemC process activations (dispatcher wakes, or clocked ticks), for reports.
  std::uint64_t wakes() const { return wakes_; }

 private:
  struct Entry {
    std::int64_t cycle;
    int queue;  // index into queues_
    bool operator>(const Entry& o) const { return cycle != o.cycle ? cycle > o.cycle : queue > o.queue; }
  };
  void dispatch();
  /// Runs every queue due in cycle `now`.
  void run_cycle(std::int64_t now);
  /// Puts `queue` on the calendar at `cycle`; the far heap part is out of line so that the
  /// common case inlines into dispatch().
  void schedule(int queue, std::int64_t cycle);
  void schedule_far(int queue, std::int64_t cycle);
  void clocked_watch();
  /// The earliest cycle with an entry, if any (the calendar must be migrated up to `now`).
  std::optional<std::int64_t> next_cycle(std::int64_t now) const;

  // The calendar: a ring of kWindow one-cycle buckets for wakes less than kWindow cycles
  // ahead (nearly all of them), with a bitmap of non-empty buckets, and a min-heap for the
  // rest. An entry whose queue has since been scheduled earlier is stale and skipped.
  static constexpr std::int64_t kWindow = 4096;
  Scheduler scheduler_;
  std::vector<QueueRunner*> queues_;
  std::vector<std::vector<int>> buckets_ = std::vector<std::vector<int>>(kWindow);
  std::vector<std::uint64_t> occupied_ = std::vector<std::uint64_t>(kWindow / 64);
  std::int64_t now_ = 0;         // the cycle the ring starts at
  std::vector<Entry> far_;       // a min-heap on (cycle, queue)
  std::vector<Cycle> releases_;  // ascending
  std::uint64_t wakes_ = 0;
  std::unique_ptr<sc_core::sc_clock> clock_;
  std::vector<std::unique_ptr<sc_core::sc_module>> clocked_;
};

}  // namespace lpusim
