// The dispatcher's calendar and the ICU's barrier, without a SystemC kernel: the order in
// which queues run, stale and far entries, and the lookahead windows that keep several chips
// exact.
#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "engine/exec/barrier.hpp"
#include "engine/exec/calendar.hpp"

using namespace lpusim;

namespace {
struct Ran {
  std::int64_t cycle;
  int chip;
  int slot;
  bool operator==(const Ran& o) const { return cycle == o.cycle && chip == o.chip && slot == o.slot; }
};
std::ostream& operator<<(std::ostream& os, const Ran& r) {
  return os << "{cycle " << r.cycle << ", chip " << r.chip << ", slot " << r.slot << "}";
}

/// Queues that wake at scripted cycles: step returns the next cycle of the slot's script.
struct Scripted {
  Calendar& calendar;
  std::map<int, std::vector<std::int64_t>> wakes;  // by slot, ascending, after cycle 0
  std::vector<Ran> ran;
  std::optional<Cycle> operator()(int slot, Cycle now) {
    ran.push_back(Ran{now.value(), calendar.chip_of(slot).value(), slot});
    auto& w = wakes[slot];
    while (!w.empty() && w.front() <= now.value()) w.erase(w.begin());
    if (w.empty()) return std::nullopt;
    return Cycle(w.front());
  }
};
}  // namespace

TEST_CASE("calendar: one chip runs in (cycle, queue) order, each queue at its wakes, idle cycles skipped",
          "[calendar]") {
  Calendar calendar;
  REQUIRE(calendar.add_chip(3) == 0);
  // Every queue is due at cycle 0; then slot 2 at 1, slot 0 at 1 and 7, slot 1 at 7.
  Scripted step{calendar, {{0, {1, 7}}, {1, {7}}, {2, {1}}}, {}};
  const std::int64_t last = calendar.run_windows(Calendar::kNever, step);
  CHECK(last == 7);
  CHECK(step.ran == std::vector<Ran>{{0, 0, 0}, {0, 0, 1}, {0, 0, 2}, {1, 0, 0}, {1, 0, 2}, {7, 0, 0}, {7, 0, 1}});
  CHECK(calendar.windows() == 1);
  CHECK(calendar.next_cycle() == Calendar::kNever);
}

TEST_CASE("calendar: scheduling a queue earlier makes its later entry stale, later does nothing", "[calendar]") {
  Calendar calendar;
  calendar.add_chip(2);
  std::vector<Ran> ran;
  // Cycle 0: slot 0 asks for 50; slot 1 then wakes slot 0 at 20 (earlier: the 50 goes stale)
  // and asks for 30 for itself, then moves itself to 40 (later than 30: ignored).
  auto step = [&](int slot, Cycle now) -> std::optional<Cycle> {
    ran.push_back(Ran{now.value(), 0, slot});
    if (now.value() == 0 && slot == 0) return Cycle(50);
    if (now.value() == 0 && slot == 1) {
      calendar.schedule(0, Cycle(20));
      calendar.schedule(1, Cycle(30));
      CHECK(calendar.scheduled_at(1) == Cycle(30));
      return Cycle(40);
    }
    return std::nullopt;
  };
  calendar.run_windows(Calendar::kNever, step);
  CHECK(ran == std::vector<Ran>{{0, 0, 0}, {0, 0, 1}, {20, 0, 0}, {30, 0, 1}});
  CHECK_FALSE(calendar.scheduled_at(0));
}

TEST_CASE("calendar: wakes beyond the ring and across its wrap-around run in order", "[calendar]") {
  Calendar calendar;
  calendar.add_chip(2);
  const std::int64_t R = Calendar::kRing;
  // Slot 0 jumps far ahead (heap), slot 1 walks across the ring's end one step at a time.
  Scripted step{calendar, {{0, {R - 1, 3 * R + 5, 3 * R + 6}}, {1, {R - 2, R, R + 1, 2 * R, 3 * R + 5}}}, {}};
  calendar.run_windows(Calendar::kNever, step);
  CHECK(step.ran == std::vector<Ran>{{0, 0, 0}, {0, 0, 1}, {R - 2, 0, 1}, {R - 1, 0, 0}, {R, 0, 1}, {R + 1, 0, 1},
                                     {2 * R, 0, 1}, {3 * R + 5, 0, 0}, {3 * R + 5, 0, 1}, {3 * R + 6, 0, 0}});
}

TEST_CASE("calendar: a window from t to t + L runs chip 0's busy cycles, then chip 1's", "[calendar][lookahead]") {
  Calendar calendar;
  REQUIRE(calendar.add_chip(1) == 0);
  REQUIRE(calendar.add_chip(1) == 1);
  CHECK(calendar.first_slot(ChipId(1)) == 1);
  // Chip 0 (slot 0) wakes at 0, 3, 12; chip 1 (slot 1) at 0, 11, 25; L = 10.
  // Window [0, 10): chip 0 at 0 and 3, then chip 1 at 0. Window [11, 21): chip 0 at 12,
  // chip 1 at 11. Window [25, 35): chip 1 at 25.
  Scripted step{calendar, {{0, {3, 12}}, {1, {11, 25}}}, {}};
  CHECK(calendar.run_windows(10, step) == 25);
  CHECK(step.ran == std::vector<Ran>{{0, 0, 0}, {3, 0, 0}, {0, 1, 1}, {12, 0, 0}, {11, 1, 1}, {25, 1, 1}});
  CHECK(calendar.windows() == 3);
}

TEST_CASE("calendar: a chip without queues takes no slots and the windows pass it by", "[calendar][lookahead]") {
  Calendar calendar;
  REQUIRE(calendar.add_chip(1) == 0);
  REQUIRE(calendar.add_chip(0) == 1);  // idle: its first slot is where the next chip's begin
  REQUIRE(calendar.add_chip(1) == 1);
  CHECK(calendar.chips() == 3);
  CHECK(calendar.slots() == 2);
  CHECK(calendar.chip_of(1) == ChipId(2));
  CHECK(calendar.next_cycle(ChipId(1)) == Calendar::kNever);
  // Chip 0 (slot 0) wakes at 0 and 4, chip 2 (slot 1) at 0 and 15; L = 10: window [0, 10)
  // runs chip 0 twice then chip 2 once, window [15, 25) chip 2; chip 1 never appears.
  Scripted step{calendar, {{0, {4}}, {1, {15}}}, {}};
  CHECK(calendar.run_windows(10, step) == 15);
  CHECK(step.ran == std::vector<Ran>{{0, 0, 0}, {4, 0, 0}, {0, 2, 1}, {15, 2, 1}});
  CHECK(calendar.windows() == 2);
}

TEST_CASE("calendar: with no links (unbounded lookahead) each chip runs to its end in one window",
          "[calendar][lookahead]") {
  Calendar calendar;
  calendar.add_chip(2);
  calendar.add_chip(1);
  Scripted step{calendar, {{0, {5, 9000}}, {1, {5}}, {2, {1, 2}}}, {}};
  CHECK(calendar.run_windows(Calendar::kNever, step) == 9000);
  CHECK(step.ran ==
        std::vector<Ran>{{0, 0, 0}, {0, 0, 1}, {5, 0, 0}, {5, 0, 1}, {9000, 0, 0}, {0, 1, 2}, {1, 1, 2}, {2, 1, 2}});
  CHECK(calendar.windows() == 1);
}

namespace {
/// A toy system of chips joined by links of `latency` cycles: each queue wakes at
/// pseudo-random gaps, and every few wakes sends a message to a queue of another chip, which
/// arrives `latency` cycles later (posted on the receiving chip). A queue folds every message
/// that has arrived by its wake into its state. Its history depends on seeing exactly the
/// messages that have arrived, so any order that lets a receiver run past an arrival before
/// the send exists changes it.
struct ToySystem {
  Calendar calendar;
  std::int64_t latency;
  std::int64_t horizon = 3000;
  struct Message {
    std::int64_t arrival;
    std::uint64_t value;
  };
  std::vector<std::uint64_t> state;
  std::vector<std::vector<Message>> inbox;
  std::vector<std::vector<std::tuple<std::int64_t, std::uint64_t>>> history;  // per slot

  ToySystem(int chips, int queues, std::int64_t link_latency) : latency(link_latency) {
    for (int c = 0; c < chips; ++c) calendar.add_chip(queues);
    const auto n = static_cast<std::size_t>(calendar.slots());
    state.resize(n);
    for (std::size_t i = 0; i < n; ++i) state[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
    inbox.resize(n);
    history.resize(n);
  }
  std::optional<Cycle> operator()(int slot, Cycle now) {
    const auto s = static_cast<std::size_t>(slot);
    auto& box = inbox[s];
    for (auto it = box.begin(); it != box.end();) {
      if (it->arrival <= now.value()) {
        state[s] = state[s] * 31 + it->value;
        it = box.erase(it);
      } else {
        ++it;
      }
    }
    state[s] = state[s] * 6364136223846793005ULL + 1442695040888963407ULL;
    history[s].emplace_back(now.value(), state[s]);
    if (state[s] % 3 == 0) {  // send to a queue of another chip
      const int chips = calendar.chips();
      const int chip = calendar.chip_of(slot).value();
      const int to_chip = (chip + 1 + static_cast<int>((state[s] >> 8) % static_cast<std::uint64_t>(chips - 1))) % chips;
      const int per_chip = calendar.slots() / chips;
      const int to = calendar.first_slot(ChipId(to_chip)) + static_cast<int>((state[s] >> 16) % static_cast<std::uint64_t>(per_chip));
      const std::int64_t arrival = now.value() + latency;
      inbox[static_cast<std::size_t>(to)].push_back(Message{arrival, state[s] >> 32});
      calendar.post(to, Cycle(arrival));
    }
    // The next wake includes the earliest message still on its way (Calendar's contract for
    // arrivals: a post to a queue already due earlier is dropped, so the queue itself must
    // remember its arrivals).
    std::int64_t next = now.value() + 1 + static_cast<std::int64_t>((state[s] >> 40) % 17);
    if (next > horizon) next = Calendar::kNever;
    for (const auto& m : box) next = std::min(next, m.arrival);
    if (next == Calendar::kNever) return std::nullopt;
    return Cycle(next);
  }
};
}  // namespace

TEST_CASE("calendar: windows up to the link latency give every chip the history of strict cycle order",
          "[calendar][lookahead]") {
  // A lookahead of 1 is strict (cycle, chip, queue) order, the reference. Lookaheads up to
  // the link latency (7) must give every queue the same history; the windows get fewer.
  ToySystem reference(4, 3, 7);
  reference.calendar.run_windows(1, reference);
  std::size_t steps = 0;
  for (const auto& h : reference.history) steps += h.size();
  REQUIRE(steps > 1000);  // the toy system does run
  for (const std::int64_t lookahead : {2, 5, 7}) {
    INFO("lookahead " << lookahead);
    ToySystem windowed(4, 3, 7);
    windowed.calendar.run_windows(lookahead, windowed);
    CHECK(windowed.history == reference.history);
    CHECK(windowed.calendar.windows() < reference.calendar.windows());
  }
  // A lookahead beyond the shortest link breaks the promise, and post() says so.
  ToySystem too_long(4, 3, 7);
  CHECK_THROWS_AS(too_long.calendar.run_windows(8, too_long), std::logic_error);
}

TEST_CASE("barrier: a parked queue resumes at the first release at or after it parked", "[barrier]") {
  Barrier barrier;
  CHECK_FALSE(barrier.release_at_or_after(Cycle(0)));
  barrier.add_release(Cycle(14));
  barrier.add_release(Cycle(5));  // releases may be recorded out of order
  barrier.add_release(Cycle(14));
  CHECK(barrier.releases() == std::vector<Cycle>{Cycle(5), Cycle(14), Cycle(14)});
  CHECK(barrier.release_at_or_after(Cycle(0)) == Cycle(5));
  CHECK(barrier.release_at_or_after(Cycle(5)) == Cycle(5));
  CHECK(barrier.release_at_or_after(Cycle(6)) == Cycle(14));
  CHECK_FALSE(barrier.release_at_or_after(Cycle(15)));
}
