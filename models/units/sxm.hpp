#pragma once
// The SXM of one hemisphere: cross-lane data movement on its 14 queues. Shift, rotate,
// permute and distribute move lanes; transpose swaps (stream, lane) within each superlane
// over 16 streams; select picks each lane from one of two streams. Data moving from a later
// superlane to an earlier one waits for it (superlane k runs k x skew cycles behind), which
// the binder adds to d_func as the instruction's extra latency.
#include <memory>
#include <vector>

#include <systemc>

#include "models/units/queue_runner.hpp"

namespace lpusim {

class Sxm : public sc_core::sc_module, public Executor {
 public:
  Sxm(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere);

  void attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats);
  void execute(const Issue& issue, Cycle now, const std::string& queue) override;
  Position position() const { return position_; }

 private:
  ChipState& context_;
  Position position_;
  std::vector<std::unique_ptr<QueueRunner>> queues_;
};

}  // namespace lpusim
