#include "models/units/icu.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "models/units/queue_runner.hpp"
#include "models/units/sim_time.hpp"

namespace lpusim {

namespace {
/// The clocked reference: one queue as an SC_METHOD that runs on every clock edge.
class ClockedQueue : public sc_core::sc_module {
 public:
  ClockedQueue(const sc_core::sc_module_name& name, QueueRunner* queue, const sc_core::sc_event& edge,
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
    if (queue_) queue_->step(current_cycle());
  }
  QueueRunner* queue_;  // null: a queue the program leaves idle
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

void Icu::finish_elaboration(int chip_queues) {
  if (scheduler_ != Scheduler::Clocked) return;
  const auto n = std::max(queues_.size(), static_cast<std::size_t>(chip_queues));
  for (std::size_t i = 0; i < n; ++i)
    clocked_.push_back(std::make_unique<ClockedQueue>(fmt::format("clocked_q{}", i).c_str(),
                                                      i < queues_.size() ? queues_[i] : nullptr,
                                                      clock_->posedge_event(), wakes_));
}

inline void Icu::schedule(int queue, std::int64_t cycle) {
  QueueRunner& q = *queues_[static_cast<std::size_t>(queue)];
  // Already due no later: it recomputes its next wake when it runs.
  if (q.scheduled_at >= 0 && q.scheduled_at <= cycle) return;
  q.scheduled_at = cycle;  // an earlier entry, if any, becomes stale and is skipped
  if (cycle - now_ >= kWindow) return schedule_far(queue, cycle);
  const auto b = static_cast<std::size_t>(cycle & (kWindow - 1));
  buckets_[b].push_back(queue);
  occupied_[b / 64] |= std::uint64_t(1) << (b % 64);
}

void Icu::schedule_far(int queue, std::int64_t cycle) {
  far_.push_back(Entry{cycle, queue});
  std::push_heap(far_.begin(), far_.end(), std::greater<Entry>());
}

std::optional<std::int64_t> Icu::next_cycle(std::int64_t now) const {
  // Scan the bitmap from `now` around the ring (at most kWindow / 64 words).
  const auto start = static_cast<std::size_t>(now & (kWindow - 1));
  const std::size_t words = occupied_.size();
  for (std::size_t k = 0; k <= words; ++k) {
    const std::size_t w = (start / 64 + k) % words;
    std::uint64_t bits = occupied_[w];
    if (k == 0) bits &= ~std::uint64_t(0) << (start % 64);
    else if (k == words) bits &= (std::uint64_t(1) << (start % 64)) - 1;
    if (bits) {
      const auto b = static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
      return now + ((b - (now & (kWindow - 1))) & (kWindow - 1));
    }
  }
  if (!far_.empty()) return far_.front().cycle;
  return std::nullopt;
}

void Icu::dispatch() {
  ++wakes_;
  const std::int64_t start = current_cycle().value();
  // The dispatcher is the only SystemC process of an event-driven run, so nothing can
  // observe simulated time between its busy cycles: it runs them back to back in this one
  // activation instead of returning to the kernel after each (which cost ~500 host
  // instructions per busy cycle), and then moves SystemC time to the last busy cycle, where
  // the run ends as before. Another process (C2C links, several chips) would need this loop
  // to stop at the next cycle that process is due.
  std::int64_t now = start;
  while (true) {
    run_cycle(now);
    const auto next = next_cycle(now);
    if (!next) break;  // nothing left to do anywhere
    now = *next;
  }
  if (now > start) next_trigger(cycles_to_time(Cycle(now - start)));  // a last, empty wake there
}

void Icu::run_cycle(std::int64_t now) {
  now_ = now;
  // Bring far entries that are now inside the window into the ring.
  while (!far_.empty() && far_.front().cycle - now < kWindow) {
    const Entry e = far_.front();
    std::pop_heap(far_.begin(), far_.end(), std::greater<Entry>());
    far_.pop_back();
    const auto b = static_cast<std::size_t>(e.cycle & (kWindow - 1));
    buckets_[b].push_back(e.queue);
    occupied_[b / 64] |= std::uint64_t(1) << (b % 64);
  }
  const auto b = static_cast<std::size_t>(now & (kWindow - 1));
  std::vector<int>& due = buckets_[b];
  // Queues run in ascending order (they were mostly scheduled in that order already).
  if (!std::is_sorted(due.begin(), due.end())) std::sort(due.begin(), due.end());
  for (std::size_t i = 0; i < due.size(); ++i) {  // a notify may add entries for this cycle
    const int index = due[i];
    QueueRunner& q = *queues_[static_cast<std::size_t>(index)];
    if (q.scheduled_at != now) continue;  // stale: rescheduled, or already run this cycle
    q.scheduled_at = -1;
    if (const auto next = q.step_then_next_wake(Cycle(now))) schedule(index, next->value());
  }
  due.clear();
  occupied_[b / 64] &= ~(std::uint64_t(1) << (b % 64));
}

void Icu::clocked_watch() {
  ++wakes_;
  // Stop the clock once no queue has anything left to do (all done, or parked for good).
  for (const auto* q : queues_)
    if (q->next_wake()) return;
  // sc_stop is the normal end here: keep SystemC's "stopped by user" note off stdout.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
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
