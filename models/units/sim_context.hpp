#pragma once
// State shared by every unit of one simulated chip: configuration, program, the stream
// fabric, the mode, and the record of hazards and statistics. Plain C++.
#include <cstdint>
#include <string>
#include <vector>

#include "config/chip_config.hpp"
#include "exec/sim_result.hpp"
#include "fabric/stream_fabric.hpp"
#include "isa/bind.hpp"

namespace lpusim {

class SimContext {
 public:
  SimContext(const ChipConfig& chip, const BoundProgram& program, SimMode mode, bool check);

  const ChipConfig& chip;
  const BoundProgram& program;
  const SimMode mode;
  const bool check;
  StreamFabric fabric;

  bool functional() const { return mode == SimMode::Functional; }
  /// A zero vector for reads that found nothing (when the checker is off).
  const std::uint8_t* zeros() const { return zeros_.data(); }
  /// Reads a stream at `position` in `cycle`, recording a hazard if nothing is there.
  /// Returns the vector's bytes in functional mode (zeros if nothing arrived), else nullptr.
  const std::uint8_t* read_stream(StreamId stream, Position position, Cycle cycle, const BoundInstruction& ins,
                                  const std::string& queue);
  /// Records a write; in functional mode returns the vector_bytes() buffer the writer must
  /// fill (all of it), else nullptr.
  std::uint8_t* write_stream(StreamId stream, Position position, Cycle cycle, const BoundInstruction& ins);
  /// Notes the cycle an instruction's effect lands (on superlane 0) and its vector length.
  void note_effect(Cycle cycle, int vector_lanes);
  void add_hazard(Hazard::Kind kind, Cycle cycle, const std::string& queue, std::string message);

  const std::vector<Hazard>& hazards() const { return hazards_; }
  std::uint64_t hazards_not_kept() const { return hazards_not_kept_; }
  static constexpr std::size_t kMaxHazardsKept = 10000;
  /// Total program length: one past the last effect on the last active superlane.
  Cycle total_cycles() const { return last_effect_; }

  std::vector<QueueStats> queue_stats;
  std::vector<TraceEvent>* trace = nullptr;  ///< set when the run records a trace
  std::uint64_t instructions = 0;

  /// Maps instruction ids to their text and queue, for hazard reports.
  std::string describe(int instruction_id) const;
  void register_instruction(const BoundInstruction& ins, const std::string& queue);

 private:
  VectorBytes zeros_;
  Cycle last_effect_{0};
  std::vector<Hazard> hazards_;
  std::uint64_t hazards_not_kept_ = 0;
  std::vector<std::pair<const BoundInstruction*, std::string>> by_id_;
};

}  // namespace lpusim
