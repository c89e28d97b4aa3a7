#pragma once
// One MEM slice: its SRAM and its instruction queue. Read places a word on a stream at
// the slice's position; Write takes the vector passing by; Gather and Scatter address each
// lane separately through a 16-bit address map carried on a stream pair.
#include <memory>
#include <optional>

#include <systemc>

#include "engine/fabric/sram.hpp"
#include "models/units/queue_runner.hpp"

namespace lpusim {

class MemSlice : public sc_core::sc_module, public Executor {
 public:
  MemSlice(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere, SliceIndex index);

  /// Creates the queue process for this slice's program (elaboration only).
  void attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats);
  void execute(const Issue& issue, Cycle now, const std::string& queue) override;

  SramSlice& sram() { return sram_; }
  Position position() const { return position_; }

 private:
  void use_port(bool write, Cycle cycle, const BoundInstruction& ins, const std::string& queue);
  void report_port_conflict(bool write, Cycle cycle, const BoundInstruction& ins, const std::string& queue, int count,
                            int limit);
  std::vector<std::int64_t> lane_addresses(const Issue& issue, Cycle now, const std::string& queue);

  ChipState& context_;
  SramSlice sram_;
  Position position_;
  std::unique_ptr<QueueRunner> queue_;
  // Port use in the current cycle, for the ports-per-cycle check.
  Cycle read_cycle_{-1}, write_cycle_{-1};
  int reads_in_cycle_ = 0, writes_in_cycle_ = 0;
  QueueStats* stats_ = nullptr;
};

}  // namespace lpusim
