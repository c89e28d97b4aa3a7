#pragma once
// State shared by every unit of one simulated chip: configuration, program, the stream
// fabric, the mode, and the record of hazards and statistics. Plain C++.
//
// Names. In a system of several chips every name a report shows (queues in stats, hazards
// and traces) is qualified by its chip, "chip1/mem.w12"; a single chip's names are the
// program's own ("mem.w12"), as they always were.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sim_result.hpp"
#include "engine/fabric/stream_fabric.hpp"
#include "engine/exec/bind.hpp"

namespace lpusim {

class ChipState {
 public:
  /// `qualify`: names carry the chip (a system of several chips).
  ChipState(const ChipConfig& chip, const BoundProgram& program, SimMode mode, bool check,
            ChipId index = ChipId(0), bool qualify = false);

  const ChipConfig& chip;
  const BoundProgram& program;
  const SimMode mode;
  const bool check;
  const ChipId index;          ///< the chip's place in its system
  const std::string queue_prefix;  ///< "chip1/" in a system of several chips, else ""
  StreamFabric fabric;

  /// A queue's name in reports (see Names above).
  std::string queue_name(const BoundQueue& queue) const { return queue_prefix + queue.name; }

  bool functional() const { return mode == SimMode::Functional; }
  /// A zero vector for reads that found nothing (when the checker is off).
  const std::uint8_t* zeros() const { return zeros_.data(); }
  /// Reads a stream at `position` in `cycle`, recording a hazard if nothing is there.
  /// Returns the vector's bytes in functional mode (zeros if nothing arrived), else nullptr.
  /// Inline (with write_stream and note_effect): the simulation's innermost calls.
  const std::uint8_t* read_stream(StreamId stream, Position position, Cycle cycle, const BoundInstruction& ins,
                                  const std::string& queue) {
    const StreamWriteRecord* rec = fabric.read(stream, position, cycle);
    if (!rec) return read_nothing(stream, position, cycle, ins, queue);
    if (!functional()) return nullptr;
    const std::uint8_t* data = rec->data();
    return data ? data : zeros_.data();
  }
  /// Records a write; in functional mode returns the vector_bytes() buffer the writer must
  /// fill (all of it), else nullptr.
  std::uint8_t* write_stream(StreamId stream, Position position, Cycle cycle, const BoundInstruction& ins) {
    const auto before = fabric.collisions().size();
    std::uint8_t* out = fabric.write(stream, position, cycle, ins.id, functional() ? zeros_.size() : 0);
    if (fabric.collisions().size() != before) report_collision(stream, position, cycle);
    return out;
  }
  /// Notes the cycle an instruction's effect lands (on superlane 0) and its vector length.
  void note_effect(Cycle cycle, int vector_lanes) {
    // The skew tail depends only on the vector length, which rarely changes: no division.
    if (vector_lanes != tail_lanes_) {
      const int superlanes = (vector_lanes + chip.lanes_per_superlane - 1) / chip.lanes_per_superlane;
      tail_lanes_ = vector_lanes;
      tail_ = chip.superlane_skew * std::max(0, superlanes - 1) + Cycle(1);
    }
    const Cycle done = cycle + tail_;
    if (done > last_effect_) last_effect_ = done;
  }
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
  // The hazard paths of read_stream and write_stream, out of line.
  const std::uint8_t* read_nothing(StreamId stream, Position position, Cycle cycle, const BoundInstruction& ins,
                                   const std::string& queue);
  void report_collision(StreamId stream, Position position, Cycle cycle);

  VectorBytes zeros_;
  Cycle last_effect_{0};
  int tail_lanes_ = -1;  // note_effect's cached vector length and its skew tail (+1)
  Cycle tail_{1};
  std::vector<Hazard> hazards_;
  std::uint64_t hazards_not_kept_ = 0;
  std::vector<std::pair<const BoundInstruction*, std::string>> by_id_;
};

}  // namespace lpusim
