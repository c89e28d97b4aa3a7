#pragma once
// One instruction queue as a SystemC process. It sleeps until the next cycle in which it
// has something to do: issue its next instruction, or let an issued instruction sample its
// operands (issue + d_skew). No process ever wakes on an idle cycle.
#include <queue>
#include <vector>

#include <systemc>

#include "exec/sequencer.hpp"
#include "units/icu.hpp"
#include "units/sim_context.hpp"

namespace lpusim {

/// A functional unit that executes issued instructions at issue + skew.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `issue` in the current cycle `now` (= issue cycle + skew).
  virtual void execute(const Issue& issue, Cycle now, const std::string& queue) = 0;
};

class QueueProcess : public sc_core::sc_module {
 public:
  QueueProcess(const sc_core::sc_module_name& name, const BoundQueue& queue, SimContext& context,
               Executor& executor, Icu& icu, QueueStats& stats, int queue_index);

  const QueueSequencer& sequencer() const { return sequencer_; }

 private:
  void wake();
  void dispatch(const Issue& issue, Cycle now);

  struct Pending {
    Cycle at;
    int order;
    Issue issue;
    bool operator>(const Pending& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  QueueSequencer sequencer_;
  SimContext& context_;
  Executor& executor_;
  Icu& icu_;
  QueueStats& stats_;
  std::string queue_name_;
  int queue_index_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  int order_ = 0;
};

}  // namespace lpusim
