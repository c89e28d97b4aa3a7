#pragma once
// The dispatcher's calendar: when each instruction queue of a system of chips must run next.
// Plain C++ (no SystemC): the dispatcher (models/dispatcher.hpp) owns one and is the only
// part that touches simulated time.
//
// Order. Entries are keyed by (cycle, chip, queue). Queues are numbered system-wide as
// "slots", chip by chip (chip 0's queues, then chip 1's, ...), so within a chip ascending
// slot is ascending queue. A queue is on the calendar at most once, at its earliest wake:
// scheduling it earlier leaves the later entry stale, and a stale entry is skipped.
//
// Windows and lookahead. A system has a minimum chip-to-chip message latency L (the
// lookahead): a message a chip sends in cycle t reaches another chip no earlier than t + L.
// With no links, L is unbounded (kNever). run_windows() runs the calendar in windows
// [t, t + L), t the earliest cycle with an entry: within a window, chip 0 runs all of its
// busy cycles back to back, then chip 1, and so on. That is exact: chips interact only
// through messages, and nothing sent inside a window can arrive inside it, so no chip can
// see whether another has run its part of the window yet. Within one chip the order is
// (cycle, queue), as on a single chip.
//
// Links (models/c2c_network.hpp). A C2C send writes the vector straight into the receiving
// port's buffer with its arrival cycle, which must be at or after the current window's end
// (window_end(); the network checks it and throws std::logic_error otherwise, because a
// vector arriving inside the current window could reach a chip that has already run past
// it). No queue needs waking: a scheduled receive issues in its cycle either way. post() is
// the same promise for a unit that must be woken by an arrival: it schedules `slot` at the
// arrival, checked the same way; post() to a queue already due earlier leaves it due then,
// like schedule(), and the queue must not forget the arrival when it runs.
//
// Storage. Each chip has a "lane": a ring of kRing one-cycle buckets, with a bitmap of
// non-empty buckets, for wakes less than kRing cycles after the chip's current cycle (nearly
// all of them), and a min-heap for later ones. Storage is split by chip because a window
// drains one chip at a time: a chip's lane holds only its own entries, so draining it costs
// O(1) per entry rather than a scan past other chips' entries.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "arch/core/types.hpp"

namespace lpusim {

class Calendar {
 public:
  /// "Never": no entry, or an unbounded lookahead.
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  /// One-cycle buckets in each chip's ring (a power of two).
  static constexpr std::int64_t kRing = 4096;

  /// Adds the next chip with `queues` queues and returns its first slot. Every queue is put
  /// on the calendar at cycle 0 (a queue may issue or park there). A chip without queues
  /// (idle: a system run holds every chip of the system) gets no ring and is never visited.
  int add_chip(int queues);
  int chips() const { return static_cast<int>(lanes_.size()); }
  int slots() const { return static_cast<int>(chip_of_slot_.size()); }
  ChipId chip_of(int slot) const { return ChipId(chip_of_slot_[static_cast<std::size_t>(slot)]); }
  int first_slot(ChipId chip) const { return lanes_[static_cast<std::size_t>(chip.value())].first_slot; }

  /// Puts `slot` on the calendar at `cycle` (not before the chip's current cycle) unless it
  /// is already due no later. For a chip's own queues (its steps, its barrier releases).
  void schedule(int slot, Cycle cycle) {
    schedule_in(lanes_[static_cast<std::size_t>(chip_of_slot_[static_cast<std::size_t>(slot)])], slot, cycle.value());
  }
  /// schedule() for an arrival from another chip (see Links above): throws std::logic_error
  /// if `cycle` is before the end of the window being run, which would break the lookahead.
  void post(int slot, Cycle cycle);
  /// The cycle `slot` is on the calendar for, if it is on it.
  std::optional<Cycle> scheduled_at(int slot) const {
    const std::int64_t at = scheduled_at_[static_cast<std::size_t>(slot)];
    return at < 0 ? std::nullopt : std::optional<Cycle>(Cycle(at));
  }

  /// The earliest cycle with an entry on `chip`, or anywhere; kNever if none.
  std::int64_t next_cycle(ChipId chip) const { return next_in(lanes_[static_cast<std::size_t>(chip.value())]); }
  std::int64_t next_cycle() const;
  /// The end of the window being run (exclusive); 0 outside run_window().
  std::int64_t window_end() const { return window_end_; }

  /// Runs one window [t, t + lookahead), t = next_cycle() (which must not be kNever): each
  /// chip in turn runs its entries before the window's end in (cycle, queue) order, calling
  /// `step(slot, cycle)` for each, which does the queue's work and returns its next wake: a
  /// cycle as std::int64_t (kNever: nothing left until something schedules it again; the
  /// hot path's form, a plain register) or as std::optional<Cycle>. The queue is put back on
  /// the calendar there. Entries a step adds before the window's end run in the same window.
  /// Returns the last cycle any chip ran (-1 if none).
  template <class Step>
  std::int64_t run_window(std::int64_t lookahead, Step&& step);
  /// run_window() until the calendar is empty. Returns the last cycle run (-1 if none).
  template <class Step>
  std::int64_t run_windows(std::int64_t lookahead, Step&& step);
  /// Windows run so far (for tests and reports).
  std::uint64_t windows() const { return windows_; }

 private:
  struct Entry {
    std::int64_t cycle;
    int slot;
    bool operator>(const Entry& o) const { return cycle != o.cycle ? cycle > o.cycle : slot > o.slot; }
  };
  struct Lane {
    int first_slot = 0;
    std::int64_t now = 0;  // the chip's current cycle: the ring holds [now, now + kRing)
    std::vector<std::vector<int>> buckets;  // kRing of them; none on a chip without queues
    std::vector<std::uint64_t> occupied;    // kRing / 64 words; none on a chip without queues
    std::vector<Entry> far;  // a min-heap on (cycle, slot)
  };

  void schedule_in(Lane& lane, int slot, std::int64_t cycle) {
    std::int64_t& at = scheduled_at_[static_cast<std::size_t>(slot)];
    // Already due no later: it recomputes its next wake when it runs.
    if (at >= 0 && at <= cycle) return;
    at = cycle;  // an entry at a later cycle, if any, becomes stale and is skipped
    if (cycle - lane.now >= kRing) return schedule_far(lane, slot, cycle);
    const auto b = static_cast<std::size_t>(cycle & (kRing - 1));
    lane.buckets[b].push_back(slot);
    lane.occupied[b / 64] |= std::uint64_t(1) << (b % 64);
  }
  static void schedule_far(Lane& lane, int slot, std::int64_t cycle);
  static std::int64_t wake_cycle(std::int64_t cycle) { return cycle; }
  static std::int64_t wake_cycle(const std::optional<Cycle>& cycle) { return cycle ? cycle->value() : kNever; }
  /// The earliest cycle with an entry on `lane` at or after lane.now; kNever if none.
  static std::int64_t next_in(const Lane& lane);
  /// Moves far entries less than kRing cycles after `now` into the ring.
  static void migrate(Lane& lane, std::int64_t now);
  template <class Step>
  std::int64_t run_lane(Lane& lane, std::int64_t end, Step& step);
  template <class Step>
  void run_cycle(Lane& lane, std::int64_t now, Step& step);

  std::vector<Lane> lanes_;
  std::vector<int> busy_lanes_;  // the chips with queues: the only lanes windows visit
  std::vector<int> chip_of_slot_;
  std::vector<std::int64_t> scheduled_at_;  // by slot; -1: not on the calendar
  std::int64_t window_end_ = 0;
  std::uint64_t windows_ = 0;
};

// The hot path, inline so that `step` inlines into it ----------------------------------------

template <class Step>
std::int64_t Calendar::run_window(std::int64_t lookahead, Step&& step) {
  const std::int64_t start = next_cycle();
  window_end_ = lookahead >= kNever - start ? kNever : start + lookahead;
  ++windows_;
  std::int64_t last = -1;
  for (int chip : busy_lanes_) last = std::max(last, run_lane(lanes_[static_cast<std::size_t>(chip)], window_end_, step));
  window_end_ = 0;
  return last;
}

template <class Step>
std::int64_t Calendar::run_windows(std::int64_t lookahead, Step&& step) {
  std::int64_t last = -1;
  while (next_cycle() != kNever) last = std::max(last, run_window(lookahead, step));
  return last;
}

template <class Step>
std::int64_t Calendar::run_lane(Lane& lane, std::int64_t end, Step& step) {
  std::int64_t last = -1;
  for (std::int64_t now = next_in(lane); now < end; now = next_in(lane)) {
    run_cycle(lane, now, step);
    last = now;
  }
  return last;
}

template <class Step>
void Calendar::run_cycle(Lane& lane, std::int64_t now, Step& step) {
  lane.now = now;
  if (!lane.far.empty()) migrate(lane, now);
  const auto b = static_cast<std::size_t>(now & (kRing - 1));
  std::vector<int>& due = lane.buckets[b];
  // Queues run in ascending order (they were mostly scheduled in that order already).
  if (!std::is_sorted(due.begin(), due.end())) std::sort(due.begin(), due.end());
  for (std::size_t i = 0; i < due.size(); ++i) {  // a step may add entries for this cycle
    const int slot = due[i];
    std::int64_t& at = scheduled_at_[static_cast<std::size_t>(slot)];
    if (at != now) continue;  // stale: rescheduled, or already run this cycle
    at = -1;
    const std::int64_t next = wake_cycle(step(slot, Cycle(now)));
    if (next != kNever) schedule_in(lane, slot, next);
  }
  due.clear();
  lane.occupied[b / 64] &= ~(std::uint64_t(1) << (b % 64));
}

}  // namespace lpusim
