#include "models/units/queue_runner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/exec/calendar.hpp"
#include "models/units/icu.hpp"

namespace lpusim {

QueueRunner::QueueRunner(const BoundQueue& queue, ChipState& context, Executor& executor, Icu& icu,
                         QueueStats& stats, int queue_index)
    : sequencer_(queue, context.chip.lanes()), context_(context), executor_(executor), icu_(icu), stats_(stats),
      queue_name_(context.queue_name(queue)), queue_index_(queue_index) {
  for (const auto& ins : queue.instructions) context_.register_instruction(ins, queue_name_);
}

inline void QueueRunner::dispatch(const Issue& issue, Cycle now) {
  const BoundInstruction& ins = *issue.instruction;
  ++stats_.instructions;
  ++stats_.busy_cycles;
  ++context_.instructions;
  if (context_.trace)
    context_.trace->push_back(TraceEvent{queue_index_, now, std::max(Cycle(1), ins.timing.func + ins.extra_latency), ins.id});
  if (ins.opcode == Opcode::Notify) {
    icu_.notify(now, now + ins.timing.func);
    context_.note_effect(now + ins.timing.func, context_.chip.lanes_per_superlane);
    return;
  }
  if (is_icu_opcode(ins.opcode)) {  // config, ifetch: use their issue slot
    context_.note_effect(now + ins.timing.func, context_.chip.lanes_per_superlane);
    return;
  }
  if (ins.timing.skew == Cycle(0)) {
    executor_.execute(issue, now, queue_name_);
  } else {
    pending_.push(Pending{now + ins.timing.skew, order_++, issue});
  }
}

inline void QueueRunner::run_due(Cycle now) {
  while (!pending_.empty() && pending_.top().at == now) {
    const Issue issue = pending_.top().issue;
    pending_.pop();
    executor_.execute(issue, now, queue_name_);
  }
  while (true) {
    const auto state = sequencer_.state();
    if (state == QueueSequencer::State::Ready) {
      if (sequencer_.next_cycle() != now) break;
      dispatch(sequencer_.take(), now);
      continue;
    }
    if (state == QueueSequencer::State::Parked) {
      const auto release = icu_.release_at_or_after(sequencer_.end_cycle());
      if (release && *release <= now) {
        sequencer_.release(*release);
        continue;
      }
    }
    break;
  }
  if (sequencer_.end_cycle() > stats_.end) stats_.end = sequencer_.end_cycle();
  if (sequencer_.state() == QueueSequencer::State::Parked) {
    const auto* sync = sequencer_.parked_at();
    stats_.parked = fmt::format("'{}' (line {}) since cycle {}", sync->text, sync->loc.line, sequencer_.end_cycle().value());
  } else if (!stats_.parked.empty()) {
    stats_.parked.clear();
  }
}

void QueueRunner::step(Cycle now) { run_due(now); }

std::int64_t QueueRunner::step_then_next_wake(Cycle now) {
  run_due(now);
  if (pending_.empty() && sequencer_.state() == QueueSequencer::State::Ready) return sequencer_.next_cycle().value();
  const auto next = next_wake_general();
  return next ? next->value() : Calendar::kNever;
}

std::optional<Cycle> QueueRunner::next_wake_general() const {
  std::optional<Cycle> next;
  auto consider = [&](Cycle c) { next = next ? std::min(*next, c) : c; };
  if (!pending_.empty()) consider(pending_.top().at);
  switch (sequencer_.state()) {
    case QueueSequencer::State::Ready: consider(sequencer_.next_cycle()); break;
    case QueueSequencer::State::Parked:
      if (const auto release = icu_.release_at_or_after(sequencer_.end_cycle())) consider(*release);
      break;
    case QueueSequencer::State::Done: break;
  }
  return next;
}

}  // namespace lpusim
