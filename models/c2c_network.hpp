#pragma once
// The chip-to-chip network of a system: every link's two directions and every port's inbound
// buffer (docs/multichip.md, "Links in the simulator"). Plain C++: the C2C units of the chips
// (models/units/c2c.hpp) call it; it owns no time.
//
// A send on chip A's port p in cycle t puts the vector on the direction A -> B of the link on
// p. The direction serialises one vector at a time: the vector starts when it is sent (or,
// if the previous one is still serialising, when that one has left: the sender is told, and
// reports a link-busy hazard, because the hardware has no queue and would corrupt it), holds
// the direction for the link class's serialisation time of its bytes, and arrives in B's
// inbound buffer for that port `latency` cycles after its last bit left. A receive on B takes
// the oldest vector that has arrived by its cycle.
//
// Exactness in lookahead windows: a vector sent in cycle t arrives no earlier than t + the
// link's latency, at or after the end of the window that sent it (checked against the
// calendar when one is attached), so a chip never sees a vector earlier than it would in
// (cycle, chip) order; and a port's inbound vectors all come from one link direction, sent in
// cycle order, so its buffer is in arrival order whatever order the chips run in.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "arch/config/system_config.hpp"
#include "arch/core/limits.hpp"
#include "arch/core/types.hpp"

namespace lpusim {

class Calendar;

/// One vector on its way, or waiting in a port's inbound buffer.
struct C2cMessage {
  Cycle sent{0};               ///< when serialisation started
  Cycle arrival{0};            ///< when it is in the receiver's buffer
  ChipId source{0};
  int destination = -1;        ///< the chip it is for; -1: the link's far end
  int sender = -1;             ///< the send instruction's id on the source chip, for reports
  std::vector<std::uint8_t> data;  ///< functional runs: the vector's bytes (empty in timing-only runs)
};

class C2cNetwork {
 public:
  /// The links of `system` between its chips (chip configuration: the system's chip).
  explicit C2cNetwork(const SystemConfig& system);

  /// The far end of a chip's port: chip, port and link class; nullopt if unconnected.
  struct FarEnd {
    ChipId chip{0};
    int port = 0;
    const LinkClass* link_class = nullptr;
  };
  std::optional<FarEnd> far_end(ChipId chip, int port) const;
  int chips() const { return system_.chips; }
  /// The smallest link latency (the dispatcher's lookahead); Calendar::kNever without links.
  std::int64_t lookahead() const;
  /// Checks every arrival against the window being run (see the file comment).
  void attach_calendar(const Calendar* calendar) { calendar_ = calendar; }

  /// Puts a vector of `bytes` bytes on the direction out of (chip, port) in cycle `now`.
  /// Returns the cycles it waited for the previous vector to leave (0 on a correct schedule).
  /// `data`: the bytes (functional), or nullptr.
  Cycle send(ChipId chip, int port, Cycle now, int bytes, double clock_mhz, int destination,
             const std::uint8_t* data, int sender);
  /// Takes the oldest vector in (chip, port)'s inbound buffer that has arrived by `now`.
  std::optional<C2cMessage> receive(ChipId chip, int port, Cycle now);
  /// The oldest vector in the buffer, arrived or not (for a receive's report).
  const C2cMessage* next_inbound(ChipId chip, int port) const;

  /// After the run: every vector no receive took, with the chip and port it waits at.
  struct Leftover {
    ChipId chip{0};
    int port = 0;
    const C2cMessage* message = nullptr;
  };
  std::vector<Leftover> leftovers() const;

  /// The most vectors a port's buffer holds (limits::kC2cPortBufferVectors). A vector beyond
  /// it pushes out the oldest, which is lost (reported as one data-lost hazard per port with
  /// the count).
  static constexpr std::size_t kMaxBuffered = limits::kC2cPortBufferVectors;
  struct Overflow {
    ChipId chip{0};
    int port = 0;
    std::uint64_t count = 0;
    C2cMessage first;  ///< the first vector pushed out
  };
  const std::vector<Overflow>& overflows() const { return overflows_; }

  std::uint64_t vectors_sent(ChipId chip) const { return sent_[index(chip)]; }
  std::uint64_t vectors_received(ChipId chip) const { return received_[index(chip)]; }
  /// Cycles the chip's outbound link directions spent serialising, summed over its links.
  std::uint64_t busy_cycles(ChipId chip) const { return busy_cycles_[index(chip)]; }

 private:
  std::size_t index(ChipId chip) const { return static_cast<std::size_t>(chip.value()); }
  std::size_t port_index(ChipId chip, int port) const {
    return index(chip) * static_cast<std::size_t>(ports_) + static_cast<std::size_t>(port);
  }

  const SystemConfig& system_;
  int ports_;
  const Calendar* calendar_ = nullptr;
  std::vector<Cycle> busy_until_;                 // by (chip, port): its outbound direction
  std::vector<std::deque<C2cMessage>> inbound_;   // by (chip, port)
  std::vector<std::uint64_t> sent_, received_, busy_cycles_;  // by chip
  std::vector<Overflow> overflows_;
  std::vector<int> overflow_of_port_;             // by (chip, port): index into overflows_, or -1
};

}  // namespace lpusim
