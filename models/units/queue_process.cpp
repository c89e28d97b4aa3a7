#include "units/queue_process.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "units/sim_time.hpp"

namespace lpusim {

QueueProcess::QueueProcess(const sc_core::sc_module_name& name, const BoundQueue& queue, SimContext& context,
                           Executor& executor, Icu& icu, QueueStats& stats, int queue_index)
    : sc_module(name), sequencer_(queue, context.chip.lanes()), context_(context), executor_(executor), icu_(icu),
      stats_(stats), queue_name_(queue.name), queue_index_(queue_index) {
  for (const auto& ins : queue.instructions) context_.register_instruction(ins, queue_name_);
  SC_HAS_PROCESS(QueueProcess);
  SC_METHOD(wake);  // runs once at cycle 0, then only when next_trigger says
}

void QueueProcess::dispatch(const Issue& issue, Cycle now) {
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
  if (opcode_info(ins.opcode).unit == UnitKind::Icu) {  // config, ifetch: use their issue slot
    context_.note_effect(now + ins.timing.func, context_.chip.lanes_per_superlane);
    return;
  }
  if (ins.timing.skew == Cycle(0)) {
    executor_.execute(issue, now, queue_name_);
  } else {
    pending_.push(Pending{now + ins.timing.skew, order_++, issue});
  }
}

void QueueProcess::wake() {
  const Cycle now = current_cycle();
  while (!pending_.empty() && pending_.top().at == now) {
    const Issue issue = pending_.top().issue;
    pending_.pop();
    executor_.execute(issue, now, queue_name_);
  }
  while (true) {
    if (sequencer_.state() == QueueSequencer::State::Parked) {
      const auto release = icu_.release_at_or_after(sequencer_.end_cycle());
      if (release && *release <= now) {
        sequencer_.release(*release);
        continue;
      }
    }
    if (sequencer_.state() == QueueSequencer::State::Ready && sequencer_.next_cycle() == now) {
      dispatch(sequencer_.take(), now);
      continue;
    }
    break;
  }
  stats_.end = std::max(stats_.end, sequencer_.end_cycle());
  if (sequencer_.state() == QueueSequencer::State::Parked) {
    const auto* sync = sequencer_.parked_at();
    stats_.parked = fmt::format("'{}' (line {}) since cycle {}", sync->text, sync->loc.line, sequencer_.end_cycle().value());
  } else {
    stats_.parked.clear();
  }

  // Sleep until the earliest thing this queue has to do.
  std::optional<Cycle> next;
  auto consider = [&](Cycle c) { next = next ? std::min(*next, c) : c; };
  if (!pending_.empty()) consider(pending_.top().at);
  if (sequencer_.state() == QueueSequencer::State::Ready) consider(sequencer_.next_cycle());
  if (sequencer_.state() == QueueSequencer::State::Parked) {
    if (const auto release = icu_.release_at_or_after(sequencer_.end_cycle())) consider(*release);
    else if (next) { next_trigger(cycles_to_time(*next - now), icu_.release_event()); return; }
    else { next_trigger(icu_.release_event()); return; }
  }
  if (next) next_trigger(cycles_to_time(*next - now));
  // else: nothing left to do; with no static sensitivity the process never runs again.
}

}  // namespace lpusim
