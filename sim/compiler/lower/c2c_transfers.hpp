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
// from a chip takes the k-th Send to it: a link is first in, first out) schedules from them;
// a Recv whose Send is not lowered yet waits, and the lowering of its chip resumes later.
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
  std::string tensor;  ///< the sent tensor's name, for messages
  std::int64_t rows = 0, cols = 0;
  PortIndex arrives_on{0};  ///< the receiver's port
  std::vector<Cycle> arrivals;
};

/// The transfers of a system being lowered, shared by its chips' lowerings.
class TransferBoard {
 public:
  explicit TransferBoard(const SystemConfig& system) : system_(system) {}
  const SystemConfig& system() const { return system_; }

  /// The link joining two chips directly: the port on each end and the link's class. An
  /// InputError when the system has no such link (transfers over several hops are not
  /// scheduled yet).
  struct DirectLink {
    PortIndex from_port{0}, to_port{0};
    const LinkClass* link_class = nullptr;
  };
  DirectLink direct_link(ChipId from, ChipId to) const;

  void post(ChipId from, ChipId to, PostedTransfer transfer);
  /// The oldest transfer from `from` to `to` not taken yet, if it has been posted.
  std::optional<PostedTransfer> take(ChipId from, ChipId to);
  /// Transfers posted and never taken (a Send without its Recv), for the driver's check.
  std::int64_t untaken() const;

 private:
  const SystemConfig& system_;
  std::map<std::pair<int, int>, std::deque<PostedTransfer>> mail_;
};

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

 private:
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
