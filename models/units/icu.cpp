#include "units/icu.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "units/queue_process.hpp"
#include "units/sim_time.hpp"

namespace lpusim {

namespace {
/// The clocked reference: one queue as an SC_METHOD that runs on every clock edge.
class ClockedQueue : public sc_core::sc_module {
 public:
  ClockedQueue(const sc_core::sc_module_name& name, QueueRunner& queue, const sc_core::sc_event& edge,
               std::uint64_t& wakes)
      : sc_module(name), queue_(queue), wakes_(wakes) {
    SC_HAS_PROCESS(ClockedQueue);
    SC_METHOD(tick);
    sensitive << edge;
    dont_initialize();
  }

 private:
  void tick() {
    ++wakes_;
    queue_.step(current_cycle());
  }
  QueueRunner& queue_;
  std::uint64_t& wakes_;
};
}  // namespace

Icu::Icu(const sc_core::sc_module_name& name, Scheduler scheduler) : sc_module(name), scheduler_(scheduler) {
  SC_HAS_PROCESS(Icu);
  if (scheduler_ == Scheduler::EventDriven) {
    SC_METHOD(dispatch);  // runs once at cycle 0, then only when next_trigger says
  } else {
    clock_ = std::make_unique<sc_core::sc_clock>("clock", cycles_to_time(Cycle(1)), 0.5, sc_core::SC_ZERO_TIME, true);
    SC_METHOD(clocked_watch);
    sensitive << clock_->posedge_event();
    dont_initialize();
  }
}

Icu::~Icu() = default;

void Icu::add_queue(QueueRunner& queue) {
  queues_.push_back(&queue);
  // Every queue runs at cycle 0 (it may issue or park there).
  if (scheduler_ == Scheduler::EventDriven) schedule(static_cast<int>(queues_.size()) - 1, 0);
}

void Icu::finish_elaboration() {
  if (scheduler_ != Scheduler::Clocked) return;
  for (std::size_t i = 0; i < queues_.size(); ++i)
    clocked_.push_back(std::make_unique<ClockedQueue>(fmt::format("clocked_q{}", i).c_str(), *queues_[i],
                                                      clock_->posedge_event(), wakes_));
}

void Icu::schedule(int queue, std::int64_t cycle) {
  QueueRunner& q = *queues_[static_cast<std::size_t>(queue)];
  // Already due no later: it recomputes its next wake when it runs.
  if (q.scheduled_at >= 0 && q.scheduled_at <= cycle) return;
  q.scheduled_at = cycle;  // an earlier entry, if any, becomes stale and is skipped
  calendar_.push_back(Entry{cycle, queue});
  std::push_heap(calendar_.begin(), calendar_.end(), std::greater<Entry>());
}

void Icu::dispatch() {
  ++wakes_;
  const std::int64_t now = current_cycle().value();
  while (!calendar_.empty() && calendar_.front().cycle <= now) {
    const Entry e = calendar_.front();
    std::pop_heap(calendar_.begin(), calendar_.end(), std::greater<Entry>());
    calendar_.pop_back();
    QueueRunner& q = *queues_[static_cast<std::size_t>(e.queue)];
    if (q.scheduled_at != e.cycle) continue;  // stale: rescheduled earlier
    q.scheduled_at = -1;
    q.step(Cycle(now));
    if (const auto next = q.next_wake()) schedule(e.queue, next->value());
  }
  if (!calendar_.empty()) next_trigger(cycles_to_time(Cycle(calendar_.front().cycle - now)));
  // else: nothing left to do anywhere; the simulation ends.
}

void Icu::clocked_watch() {
  ++wakes_;
  // Stop the clock once no queue has anything left to do (all done, or parked for good).
  for (const auto* q : queues_)
    if (q->next_wake()) return;
  sc_core::sc_stop();
}

void Icu::notify(Cycle now, Cycle release) {
  releases_.insert(std::upper_bound(releases_.begin(), releases_.end(), release), release);
  (void)now;
  if (scheduler_ != Scheduler::EventDriven) return;
  // Wake every parked queue at the release; one parked behind a later cycle sleeps again.
  for (std::size_t i = 0; i < queues_.size(); ++i)
    if (queues_[i]->parked()) schedule(static_cast<int>(i), release.value());
}

std::optional<Cycle> Icu::release_at_or_after(Cycle cycle) const {
  auto it = std::lower_bound(releases_.begin(), releases_.end(), cycle);
  if (it == releases_.end()) return std::nullopt;
  return *it;
}

}  // namespace lpusim
