#pragma once
// Send and Recv nodes as scheduled C2C transfers (private to the lowering).
//
// A tensor crosses a link as its fp32 vectors' byte planes, one 320-byte vector per plane:
// each plane is read from its MEM slice onto a stream that reaches the port's edge of the
// chip in the cycle the port's `send` samples it; the link's direction then serialises it
// (LinkClass::serialization) before the next can start, and it arrives `latency` cycles after
// its last bit, plus the system's hop margin (docs/multichip.md, "Time"). The receiving chip
// issues a `receive` on its port at or after that arrival, in send order (a port hands over
// the oldest vector first), and writes the plane into its own MEM slice.
//
// The chips of a system are lowered together (lower_system): a Send posts its vectors'
// arrival cycles on a TransferBoard, and the peer's Recv of the same transfer (the k-th Recv
// from a chip takes the k-th Send to it) schedules from them; a Recv whose Send is not
// lowered yet waits, and the lowering of its chip resumes later.
//
// A peer that is not a neighbour is reached along the system's static route: each chip on
// the way receives every vector on the port it arrives on and sends it on toward the next
// hop, the value crossing the chip on a stream from one port to the other (no MEM), the
// sends carrying the destination so that the simulator can check the forwarding. These
// forwards are scheduled on the intermediate chips when the Send is lowered. A port hands
// over its vectors in arrival order, so every receive on a port (a Recv's or a forward's)
// must take the transfers in the order they were sent on that link; the board checks it.
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "arch/config/system_config.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/lower/lowered_program.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/memory_plan.hpp"

namespace lpusim {

/// One Send's vectors on their way: per vector (row, tile, plane in that order), the cycle it
/// can be received.
struct PostedTransfer {
  std::int64_t id = 0;  ///< in the order the board saw them
  std::string tensor;  ///< the sent tensor's name, for messages
  std::int64_t rows = 0, cols = 0;
  PortIndex arrives_on{0};  ///< the receiver's port
  std::vector<Cycle> arrivals;
};

/// The transfers of a system being lowered, shared by its chips' lowerings. It keeps, per
/// chip and port, the transfers sent into that port in link order: a receive (a Recv's, or a
/// forward's) takes only the oldest, so the receives on a port run in arrival order. A
/// forward is scheduled as soon as its transfer is the oldest on its port; a Recv waits for
/// its transfer to be the oldest.
class TransferBoard {
 public:
  explicit TransferBoard(const SystemConfig& system) : system_(system) {}
  const SystemConfig& system() const { return system_; }

  /// Each chip's transfers, so that a route's intermediate chips can forward (lower_system
  /// attaches every chip on a route before lowering).
  void attach(ChipId chip, class C2cTransfers* transfers);

  /// A new transfer id, for a Send's vectors.
  std::int64_t next_id() { return next_id_++; }
  /// A Send's transfer, its vectors' arrivals at the first hop's far end in
  /// `transfer.arrivals`, on its way along the system's route from `from` to `to`.
  void post(ChipId from, ChipId to, PostedTransfer transfer);
  /// A transfer leaving `source` for `destination` along `route`, its vectors' arrivals at
  /// the far end of hop `hop` in `transfer.arrivals`: forwarded by each chip on the way (now,
  /// or when it is the oldest on its port), then posted for the destination's Recv.
  void deliver(ChipId source, ChipId destination, std::vector<Hop> route, std::size_t hop, PostedTransfer transfer);
  /// The oldest transfer from `from` to `to`, if it has been posted and is the oldest on the
  /// port it arrives on (it is then taken); nullopt otherwise.
  std::optional<PostedTransfer> take(ChipId from, ChipId to);
  /// Schedules the forwards that are now the oldest on `chip`'s `port`.
  void pump(ChipId chip, PortIndex port);
  /// Transfers not received by the end (a Send without its Recv), for the driver's check.
  std::int64_t untaken() const;
  /// A vector taken from `chip`'s `port` in cycle `cycle` (a Recv's or a forward's receive),
  /// in the port's order. With the vectors pushed into the port (deliver), this keeps the
  /// port's buffer within limits::kC2cPortBufferVectors: the simulator's buffer holds every
  /// vector from its send until its receive and loses the oldest beyond that.
  void note_receive(ChipId chip, PortIndex port, Cycle cycle);

 private:
  struct Inbound {
    std::int64_t id = 0;
    bool forward = false;  ///< passes through this chip (else: for its Recv)
    ChipId source{0}, destination{0};
    std::vector<Hop> route;
    std::size_t hop = 0;   ///< the hop it arrived by
    PostedTransfer transfer;
  };
  class C2cTransfers& chip(ChipId chip) const;

  const SystemConfig& system_;
  std::map<std::pair<int, int>, std::deque<PostedTransfer>> mail_;  ///< (source, destination), arrived
  std::map<int, class C2cTransfers*> chips_;
  std::map<std::pair<int, int>, std::deque<Inbound>> inbound_;  ///< (chip, port), in link order
  /// Per (chip, port), in the port's order: the cycle each vector entered its buffer (its
  /// send on the far side) and the cycle each was taken out.
  struct PortBuffer {
    std::vector<Cycle> pushed, taken;
  };
  std::map<std::pair<int, int>, PortBuffer> buffers_;
  [[noreturn]] void fail_port_buffer(ChipId chip, PortIndex port, Cycle when) const;
  std::int64_t next_id_ = 0;
};

/// The port a link occupies on one of its chips.
PortIndex port_on(const SystemLink& link, ChipId chip);

class C2cTransfers {
 public:
  C2cTransfers(const ChipGeometry& geometry, ScheduleBuilder& schedule, MemoryPlan& memory, LoweringStats& stats,
               TransferBoard* board, ChipId chip)
      : geo_(geometry), sb_(schedule), memory_(memory), stats_(stats), board_(board), chip_(chip) {}

  /// Schedules a Send node's every vector and posts them for the peer.
  void send(const Node& node);
  /// Schedules a Recv node, or returns false (nothing placed) when the peer's matching Send
  /// is not lowered yet.
  bool receive(const Node& node);
  /// A transfer passes through this chip: each vector (arriving in the given cycles on `in`)
  /// is received and sent on on `out` over `link`, for chip `destination` (`last_hop`: the
  /// link's far end is the destination; else the sends name it, to be forwarded again).
  /// Returns the vectors' arrival cycles at the link's far end.
  /// The stage gate opens at `gate`: the ports' state starts there (nothing of the chip's own
  /// work came before it but receives).
  void start_at(Cycle gate);
  /// The hemisphere a Recv's transfer arrives on (the port of its route's last hop).
  Hemisphere arrival_side(const Node& recv) const;
  std::vector<Cycle> forward(const std::vector<Cycle>& arrivals, PortIndex in, PortIndex out, LinkId link,
                             ChipId destination, bool last_hop);
  /// Cycles from a vector's send through `link` (the moment it enters the far port's buffer)
  /// to its arrival there.
  Cycle flight_after_send(LinkId link) const;

 private:
  /// Cycles on the far side of `link` when vectors leave through it in cycles `sends`.
  std::vector<Cycle> arrival_cycles(LinkId link, const std::vector<Cycle>& sends) const;
  Cycle serialisation(LinkId link) const;
  void require_board(const Node& node) const;
  Position port_position(PortIndex port) const;

  const ChipGeometry& geo_;
  ScheduleBuilder& sb_;
  MemoryPlan& memory_;
  LoweringStats& stats_;
  TransferBoard* board_;
  ChipId chip_;
  std::map<int, Cycle> link_free_;     ///< per port: the first cycle its outbound direction is free
  std::map<int, Cycle> last_receive_;  ///< per port: the cycle of its latest receive
};

}  // namespace lpusim
