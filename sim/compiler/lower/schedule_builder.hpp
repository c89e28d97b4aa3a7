#pragma once
// The compiler's view of the chip while it schedules: which queue issues what in which
// cycle, which stream registers carry a value from where to where, and what every
// instruction's result time is. It emits lpusim assembly with exact `nop`s, so the
// simulated program reproduces the schedule cycle for cycle. Plain C++.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/isa/program.hpp"
#include "compiler/lower/lowered_program.hpp"

namespace lpusim {

/// An instruction placed at a cycle on a queue, with an optional `repeat n, d, stride`.
struct PlacedInstruction {
  Cycle cycle{0};
  Instruction instruction;
  std::int64_t repeat = 0;
  std::int64_t interval = 1;
  std::int64_t stride = 0;
  int attribution = -1;  ///< what the instruction is attributed to (set by place)
};

class ScheduleBuilder {
 public:
  explicit ScheduleBuilder(const ChipConfig& chip);

  const ChipConfig& chip() const { return chip_; }

  // Queue issue slots -------------------------------------------------------------------
  /// Whether `queue` can issue in every cycle of `first + k * interval`, k = 0..repeat.
  bool queue_free(const QueueId& queue, Cycle first, std::int64_t repeat = 0, std::int64_t interval = 1) const;
  /// Places an instruction (and its repeats); the slots must be free.
  void place(const QueueId& queue, PlacedInstruction placed);

  // Streams ---------------------------------------------------------------------------
  /// Whether streams [first, first + group) in direction `dir` are free to carry a value
  /// written at `from` in cycle `cycle` as far as `to` (the consumer's position).
  bool streams_free(Direction dir, int first, int group, Position from, Position to, Cycle cycle) const;
  void reserve_streams(Direction dir, int first, int group, Position from, Position to, Cycle cycle);
  /// The first aligned group of `group` streams free for that transfer, if any.
  std::optional<int> find_streams(Direction dir, int group, Position from, Position to, Cycle cycle) const;
  /// A burst: `count` transfers on the same streams, `interval` cycles apart.
  bool burst_free(Direction dir, int first, int group, Position from, Position to, Cycle cycle, std::int64_t count,
                  std::int64_t interval = 1) const;
  void reserve_burst(Direction dir, int first, int group, Position from, Position to, Cycle cycle, std::int64_t count,
                     std::int64_t interval = 1);
  /// The first aligned group of `group` streams free for a whole burst, if any.
  std::optional<int> find_burst_streams(Direction dir, int group, Position from, Position to, Cycle cycle,
                                        std::int64_t count, std::int64_t interval) const;

  // Stage gate ------------------------------------------------------------------------
  /// Nothing of the chip's own work issues before `cycle` (a pipeline stage's gate: its work
  /// starts once every hand-off into the stage has arrived). Forwards of other chips'
  /// transfers are exempt (suspend_floor), as they belong to no stage of this chip.
  void set_floor(Cycle cycle) { floor_ = cycle; }
  Cycle floor() const { return floor_; }
  /// Whether the floor applies (off while a forward is placed); returns the previous setting.
  bool apply_floor(bool on) {
    const bool was = floor_applies_;
    floor_applies_ = on;
    return was;
  }

  // Results ---------------------------------------------------------------------------
  /// Notes the cycle an effect lands on superlane 0 (for the program length).
  void note_effect(Cycle cycle) { last_effect_ = std::max(last_effect_, cycle); }
  /// The program's length in cycles, as the simulator will count it.
  Cycle length() const;

  std::int64_t instructions() const { return instructions_; }

  // Attribution: instructions placed from now on belong to `tag` (a graph node's index).
  void set_attribution(int tag) { attribution_ = tag; }
  int attribution() const { return attribution_; }
  /// Issue slots per unit for tags 0 .. tags - 1 (untagged instructions are left out).
  std::vector<UnitIssueSlots> issued_by_attribution(int tags) const;

  // Transactions: reservations made after begin() are undone by rollback().
  void begin();
  void rollback();
  void commit();
  /// Emits every queue's program, with `tensors` declared first. Moves the placed
  /// instructions into it (they are most of a compile's memory): call it once, when the
  /// schedule is done; instructions() and issued_by_attribution() still count them.
  Program emit(const std::string& file, const std::vector<TensorDecl>& tensors,
               const std::vector<std::string>& header, const std::vector<LaneMap>& lane_maps = {});

  /// Direction of travel from one position to another.
  static Direction toward(Position from, Position to) {
    return to.value() >= from.value() ? Direction::East : Direction::West;
  }

 private:
  /// Positions a stream carries a value through on one diagonal, one bit per position.
  using PositionMask = std::array<std::uint64_t, 4>;
  static constexpr int kMaxPositions = 256;
  static PositionMask span_mask(int low, int high);
  std::size_t queue_index(const QueueId& q) const;
  std::int64_t diagonal(Direction d, Position p, Cycle c) const {
    return d == Direction::East ? c.value() - p.value() * chip_.stream_hop.value()
                                : c.value() + p.value() * chip_.stream_hop.value();
  }

  const ChipConfig& chip_;
  // Per queue: the cycles it is held, as disjoint [first, last] ranges keyed by first (a
  // placed instruction holds one cycle, a repeat its whole span). Memory grows with the
  // instructions placed, not with the cycles scheduled.
  std::vector<std::map<std::int64_t, std::int64_t>> busy_;
  std::vector<QueueId> queue_ids_;
  std::vector<std::vector<PlacedInstruction>> placed_;
  // Per direction and stream: diagonal -> positions in use (a value on a diagonal occupies
  // the positions between its producer and its consumer).
  std::vector<std::unordered_map<std::int64_t, PositionMask>> streams_;
  Cycle last_effect_{0};
  Cycle last_queue_end_{0};
  std::int64_t instructions_ = 0;
  int attribution_ = -1;
  Cycle floor_{0};
  bool floor_applies_ = true;

  struct LogEntry {
    enum class Kind { Busy, Stream, Placed } kind;
    std::size_t index;      // queue index or stream map index
    std::int64_t a, b;      // busy: first, last cycle; stream: key
  };
  bool in_transaction_ = false;
  std::vector<LogEntry> log_;
  Cycle saved_effect_{0}, saved_queue_end_{0};
  std::int64_t saved_instructions_ = 0;
};

// Instruction constructors ---------------------------------------------------------------
Operand stream_operand(Direction d, int index);
Operand int_operand(std::int64_t v, bool hex = false);
Operand imm_operand(double v);
Operand name_operand(const std::string& name);
Instruction make_instruction(Opcode op, DType t, std::vector<Operand> operands, DType t_to = DType::None);

}  // namespace lpusim
