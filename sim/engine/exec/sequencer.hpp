#pragma once
// The issue logic of one instruction queue, as plain C++: it walks the queue's static
// program and says which instruction issues in which cycle. Rules:
//   - a queue issues at most one instruction per cycle, starting at cycle 0;
//   - `nop n` idles the queue: the next instruction issues n cycles later;
//   - `repeat n, d[, s]` re-issues the previous instruction n times, d cycles apart, its
//     address advanced by s each time; the queue goes on one cycle after the last repeat;
//   - `sync` parks the queue until the ICU releases it (after a `notify`);
//   - `config vl, N` sets the vector length (lanes) of the queue's later instructions.
#include <cstdint>
#include <optional>

#include "engine/exec/bind.hpp"

namespace lpusim {

struct Issue {
  const BoundInstruction* instruction = nullptr;
  Cycle cycle{0};
  std::int64_t address = 0;  ///< the address with any repeat stride applied
  int vector_lanes = 0;      ///< lanes the instruction covers (config vl)
  const BoundQueue* queue = nullptr;
};

class QueueSequencer {
 public:
  enum class State { Ready, Parked, Done };

  QueueSequencer(const BoundQueue& queue, int lanes);

  State state() const { return state_; }
  /// Cycle of the next issue (state Ready).
  Cycle next_cycle() const { return next_.cycle; }
  /// Returns the next issue and advances past it.
  Issue take() {
    if (repeat_ && repeat_done_ < repeat_->integer) {
      // Repeat fast path (inline): the next repeat is this one moved by the interval and the
      // stride, which is what settle() computes from last_, without the walk.
      Issue issue = next_;
      ++repeat_done_;
      next_.cycle += Cycle(repeat_->interval);
      next_.address += repeat_->stride;
      return issue;
    }
    return take_slow();
  }
  /// Resumes a parked queue: its next instruction issues no earlier than `cycle`.
  void release(Cycle cycle);
  /// The sync instruction the queue is parked at (state Parked).
  const BoundInstruction* parked_at() const { return parked_at_; }
  /// One past the last cycle the queue used (issue slots and idle nops).
  Cycle end_cycle() const { return cursor_; }
  const BoundQueue& queue() const { return *queue_; }

 private:
  void settle();
  Issue take_slow();

  const BoundQueue* queue_;
  std::size_t pc_ = 0;
  Cycle cursor_{0};
  int vector_lanes_;
  State state_ = State::Ready;
  Issue next_;
  const BoundInstruction* parked_at_ = nullptr;
  // The last issued unit instruction, for repeat.
  Issue last_;
  bool has_last_ = false;
  // An active repeat.
  const BoundInstruction* repeat_ = nullptr;
  std::int64_t repeat_done_ = 0;
};

}  // namespace lpusim
