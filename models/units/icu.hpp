#pragma once
// The ICU of one chip: it holds the chip's instruction queues (the QueueRunners its units
// attach) and the chip's barrier (`notify` on any queue releases every queue parked at
// `sync`, after the notify's functional delay). Plain C++: it owns no time. The system's
// dispatcher (models/dispatcher.hpp) runs the queues; when a notify issues, the ICU records
// the release in its barrier and, in an event-driven run, puts every parked queue of its
// chip on the dispatcher's calendar at the release.
#include <optional>
#include <vector>

#include "arch/core/types.hpp"
#include "engine/exec/barrier.hpp"

namespace lpusim {

class Calendar;
class QueueRunner;

class Icu {
 public:
  /// Adds a queue (elaboration only), in the chip's queue order.
  void add_queue(QueueRunner& queue) { queues_.push_back(&queue); }
  const std::vector<QueueRunner*>& queues() const { return queues_; }
  /// Event-driven runs: the calendar that runs this chip's queues, at slots first_slot, ...
  void attach_calendar(Calendar& calendar, int first_slot) {
    calendar_ = &calendar;
    first_slot_ = first_slot;
  }

  /// Records a release at `release` (called in the notify's issue cycle `now`) and wakes the
  /// parked queues there; one parked behind a later cycle sleeps again when it runs.
  void notify(Cycle now, Cycle release);
  /// The first release at or after `cycle`, if one is known.
  std::optional<Cycle> release_at_or_after(Cycle cycle) const { return barrier_.release_at_or_after(cycle); }
  const Barrier& barrier() const { return barrier_; }

 private:
  Barrier barrier_;
  std::vector<QueueRunner*> queues_;
  Calendar* calendar_ = nullptr;  // null: the clocked reference, whose queues run every cycle
  int first_slot_ = 0;
};

}  // namespace lpusim
