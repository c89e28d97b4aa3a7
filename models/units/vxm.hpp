#pragma once
// The VXM: 16 ALU queues at the centre of the chip. Each ALU reads its operand stream
// groups at the VXM's position, computes over every lane (numerics/vector_math), and puts
// the result on its destination streams; ALUs chain by reading each other's results.
#include <memory>
#include <vector>

#include <systemc>

#include "models/units/queue_runner.hpp"

namespace lpusim {

class Vxm : public sc_core::sc_module, public Executor {
 public:
  Vxm(const sc_core::sc_module_name& name, ChipState& context);

  void attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats);
  void execute(const Issue& issue, Cycle now, const std::string& queue) override;
  Position position() const { return position_; }

 private:
  ChipState& context_;
  Position position_;
  std::vector<std::unique_ptr<QueueRunner>> queues_;
};

}  // namespace lpusim
