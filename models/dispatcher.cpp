#include "models/dispatcher.hpp"

#include <stdexcept>

#include <algorithm>

#include <fmt/format.h>

#include "models/units/icu.hpp"
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

Dispatcher::Dispatcher(const sc_core::sc_module_name& name, Scheduler scheduler, std::int64_t lookahead)
    : sc_module(name), scheduler_(scheduler), lookahead_(lookahead) {
  SC_HAS_PROCESS(Dispatcher);
  if (scheduler_ == Scheduler::EventDriven) {
    SC_METHOD(dispatch);  // runs once at cycle 0, then only when next_trigger says
  } else {
    clock_ = std::make_unique<sc_core::sc_clock>("clock", cycles_to_time(Cycle(1)), 0.5, sc_core::SC_ZERO_TIME, true);
    SC_METHOD(clocked_watch);
    sensitive << clock_->posedge_event();
    dont_initialize();
  }
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::add_chip(Icu& icu, int queues_on_chip) {
  const int chip = chips_++;
  const auto& queues = icu.queues();
  runners_.insert(runners_.end(), queues.begin(), queues.end());
  if (scheduler_ == Scheduler::EventDriven) {
    icu.attach_calendar(calendar_, calendar_.add_chip(static_cast<int>(queues.size())));
    return;
  }
  const auto n = std::max(queues.size(), static_cast<std::size_t>(queues_on_chip));
  for (std::size_t i = 0; i < n; ++i)
    clocked_.push_back(std::make_unique<ClockedQueue>(fmt::format("chip{}_clocked_q{}", chip, i).c_str(),
                                                      i < queues.size() ? queues[i] : nullptr,
                                                      clock_->posedge_event(), wakes_));
}

void Dispatcher::add_idle_chip() {
  if (scheduler_ != Scheduler::EventDriven)
    throw std::logic_error("dispatcher: the clocked reference runs a process for every queue of every chip");
  ++chips_;
  (void)calendar_.add_chip(0);
}

void Dispatcher::dispatch() {
  ++wakes_;
  const std::int64_t start = current_cycle().value();
  // The dispatcher is the only SystemC process of an event-driven run, so nothing can
  // observe simulated time between its busy cycles: it runs them back to back in this one
  // activation instead of returning to the kernel after each (which cost ~500 host
  // instructions per busy cycle), and then moves SystemC time to the last busy cycle, where
  // the run ends. The calendar's windows keep that exact for any number of chips. (Links
  // that were SystemC processes of their own would need it to return to the kernel at each
  // window's end instead: run_window() and a next_trigger to the next window's start.)
  QueueRunner* const* runners = runners_.data();  // fixed since elaboration
  const std::int64_t last = calendar_.run_windows(
      lookahead_, [runners](int slot, Cycle now) { return runners[slot]->step_then_next_wake(now); });
  if (last > start) next_trigger(cycles_to_time(Cycle(last - start)));  // a last, empty wake there
}

void Dispatcher::clocked_watch() {
  ++wakes_;
  // Stop the clock once no queue of any chip has anything left to do (all done, or parked
  // for good): a chip that is idle early waits for the others.
  for (const auto* q : runners_)
    if (q->next_wake()) return;
  // sc_stop is the normal end here: keep SystemC's "stopped by user" note off stdout.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_stop();
}

}  // namespace lpusim
