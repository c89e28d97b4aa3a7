#pragma once
// The C2C unit: one instruction queue per link port (c2c.0 .. c2c.15 on TSP v1; ports below
// half sit at the west edge, the rest at the east edge). `send LINK, s[, DEST]` samples one
// stream at the queue's position at issue + d_skew and puts the vector on the link (the
// system's network, models/c2c_network.hpp, times it); `receive LINK, s` takes the vector
// that has arrived on the link by issue + d_skew and puts it on the stream at issue + d_func;
// `deskew LINK` only uses its issue slot: lpusim keeps one global cycle count after an
// initial deskew (docs/multichip.md, "Time").
#include <memory>
#include <vector>

#include <systemc>

#include "models/c2c_network.hpp"
#include "models/units/queue_runner.hpp"

namespace lpusim {

class C2c : public sc_core::sc_module, public Executor {
 public:
  /// `network`: the system's links (null: a chip without a system, whose programs have no
  /// C2C instructions; simulate_system() refuses those that do).
  C2c(const sc_core::sc_module_name& name, ChipState& context, C2cNetwork* network);

  void attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats);
  void execute(const Issue& issue, Cycle now, const std::string& queue) override;

 private:
  void send(const Issue& issue, Cycle now, const std::string& queue);
  void receive(const Issue& issue, Cycle now, const std::string& queue);

  ChipState& context_;
  C2cNetwork* network_;
  std::vector<std::unique_ptr<QueueRunner>> queues_;
};

}  // namespace lpusim
