#include "engine/exec/sequencer.hpp"

#include <algorithm>

namespace lpusim {

QueueSequencer::QueueSequencer(const BoundQueue& queue, int lanes) : queue_(&queue), vector_lanes_(lanes) { settle(); }

void QueueSequencer::settle() {
  const auto& list = queue_->instructions;
  while (true) {
    if (repeat_) {
      if (repeat_done_ < repeat_->integer) {
        ++repeat_done_;
        next_ = last_;
        next_.cycle = last_.cycle + Cycle(repeat_->interval * repeat_done_);
        next_.address = last_.address + repeat_->stride * repeat_done_;
        state_ = State::Ready;
        return;
      }
      cursor_ = std::max(cursor_, last_.cycle + Cycle(repeat_->interval * repeat_->integer + 1));
      repeat_ = nullptr;
      ++pc_;
      continue;
    }
    if (pc_ >= list.size()) {
      state_ = State::Done;
      return;
    }
    const BoundInstruction& ins = list[pc_];
    switch (ins.opcode) {
      case Opcode::Nop:
        cursor_ += Cycle(ins.integer);
        ++pc_;
        has_last_ = false;
        continue;
      case Opcode::Repeat:
        repeat_ = &ins;
        repeat_done_ = 0;
        continue;
      case Opcode::Sync:
        state_ = State::Parked;
        parked_at_ = &ins;
        return;
      case Opcode::Config:
        vector_lanes_ = static_cast<int>(ins.integer);
        [[fallthrough]];
      default:
        next_ = Issue{&ins, cursor_, ins.address, vector_lanes_, queue_};
        state_ = State::Ready;
        return;
    }
  }
}

Issue QueueSequencer::take_slow() {
  Issue issue = next_;
  if (repeat_) {
    // Repeats of the same instruction: the queue cursor moves past the repeat in settle().
  } else {
    last_ = issue;
    has_last_ = true;
    cursor_ = issue.cycle + Cycle(1);
    ++pc_;
  }
  settle();
  return issue;
}

void QueueSequencer::release(Cycle cycle) {
  cursor_ = std::max(cursor_ + Cycle(1), cycle);  // the sync itself used one issue slot
  parked_at_ = nullptr;
  ++pc_;
  settle();
}

}  // namespace lpusim
