#include "engine/exec/calendar.hpp"

#include <stdexcept>
#include <string>

namespace lpusim {

int Calendar::add_chip(int queues) {
  const int first = slots();
  lanes_.emplace_back();
  Lane& lane = lanes_.back();
  lane.first_slot = first;
  const int chip = chips() - 1;
  if (queues == 0) return first;
  lane.buckets.resize(static_cast<std::size_t>(kRing));
  lane.occupied.resize(static_cast<std::size_t>(kRing / 64));
  busy_lanes_.push_back(chip);
  for (int q = 0; q < queues; ++q) {
    chip_of_slot_.push_back(chip);
    scheduled_at_.push_back(-1);
    schedule_in(lane, first + q, 0);
  }
  return first;
}

void Calendar::post(int slot, Cycle cycle) {
  if (cycle.value() < window_end_)
    throw std::logic_error("calendar: an arrival at cycle " + std::to_string(cycle.value()) + " on chip " +
                           std::to_string(chip_of(slot).value()) + " inside the window ending at cycle " +
                           std::to_string(window_end_) + ": the system's lookahead is longer than its shortest link");
  schedule(slot, cycle);
}

void Calendar::schedule_far(Lane& lane, int slot, std::int64_t cycle) {
  lane.far.push_back(Entry{cycle, slot});
  std::push_heap(lane.far.begin(), lane.far.end(), std::greater<Entry>());
}

void Calendar::migrate(Lane& lane, std::int64_t now) {
  while (!lane.far.empty() && lane.far.front().cycle - now < kRing) {
    const Entry e = lane.far.front();
    std::pop_heap(lane.far.begin(), lane.far.end(), std::greater<Entry>());
    lane.far.pop_back();
    const auto b = static_cast<std::size_t>(e.cycle & (kRing - 1));
    lane.buckets[b].push_back(e.slot);
    lane.occupied[b / 64] |= std::uint64_t(1) << (b % 64);
  }
}

std::int64_t Calendar::next_in(const Lane& lane) {
  // Far entries are never earlier than ring entries: a far entry was at least kRing cycles
  // after the lane's current cycle when it was added, and run_cycle() moves it into the
  // ring once it is less than that.
  const std::int64_t now = lane.now;
  const auto start = static_cast<std::size_t>(now & (kRing - 1));
  const std::size_t words = lane.occupied.size();
  if (words == 0) return kNever;  // a chip without queues
  for (std::size_t k = 0; k <= words; ++k) {  // from `now` around the ring
    const std::size_t w = (start / 64 + k) % words;
    std::uint64_t bits = lane.occupied[w];
    if (k == 0) bits &= ~std::uint64_t(0) << (start % 64);
    else if (k == words) bits &= (std::uint64_t(1) << (start % 64)) - 1;
    if (bits) {
      const auto b = static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
      return now + ((b - (now & (kRing - 1))) & (kRing - 1));
    }
  }
  if (!lane.far.empty()) return lane.far.front().cycle;
  return kNever;
}

std::int64_t Calendar::next_cycle() const {
  std::int64_t next = kNever;
  for (int chip : busy_lanes_) next = std::min(next, next_in(lanes_[static_cast<std::size_t>(chip)]));
  return next;
}

}  // namespace lpusim
