#pragma once
// One instruction queue's issue logic, run by the system's dispatcher (models/dispatcher.hpp).
// A queue has something to do only in the cycles where it issues an instruction or where an
// issued instruction samples its operands (issue + d_skew); `step(now)` does all of it for
// one cycle and `next_wake()` says when the queue must run next. Plain C++: the queue is not
// a SystemC process; the dispatcher is (or, for the clocked reference, one process per queue).
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "engine/exec/sequencer.hpp"
#include "models/units/icu.hpp"
#include "models/units/chip_state.hpp"

namespace lpusim {

/// A functional unit that executes issued instructions at issue + skew.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `issue` in the current cycle `now` (= issue cycle + skew).
  virtual void execute(const Issue& issue, Cycle now, const std::string& queue) = 0;
};

class QueueRunner {
 public:
  QueueRunner(const BoundQueue& queue, ChipState& context, Executor& executor, Icu& icu, QueueStats& stats,
              int queue_index);

  /// Does everything due in cycle `now`: operand samples of issued instructions, then every
  /// issue (and sync release) due now. Calling it in a cycle with nothing due does nothing.
  void step(Cycle now);
  /// step(now), then next_wake(): what the event-driven dispatcher calls. The cycle as a
  /// plain integer (Calendar::kNever: none), which the hot loop keeps in a register.
  std::int64_t step_then_next_wake(Cycle now);
  /// The next cycle the queue has something to do, if known. A queue parked at `sync`
  /// with no release known yet returns nullopt and is woken by its chip's next notify.
  std::optional<Cycle> next_wake() const {
    // A streaming queue (nothing pending, next issue known) is the common case.
    if (pending_.empty() && sequencer_.state() == QueueSequencer::State::Ready) return sequencer_.next_cycle();
    return next_wake_general();
  }
  bool parked() const { return sequencer_.state() == QueueSequencer::State::Parked; }

  const QueueSequencer& sequencer() const { return sequencer_; }
  int index() const { return queue_index_; }
  /// The queue's name in reports: its program name, chip-qualified in a system of several
  /// chips ("chip1/mem.w12").
  const std::string& name() const { return queue_name_; }

 private:
  void dispatch(const Issue& issue, Cycle now);
  void run_due(Cycle now);
  std::optional<Cycle> next_wake_general() const;

  struct Pending {
    Cycle at;
    int order;
    Issue issue;
    bool operator>(const Pending& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  QueueSequencer sequencer_;
  ChipState& context_;
  Executor& executor_;
  Icu& icu_;
  QueueStats& stats_;
  std::string queue_name_;
  int queue_index_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  int order_ = 0;
};

}  // namespace lpusim
