#pragma once
// Pointwise ops as VXM chains (private to the lowering). A chain is a sequence of VXM
// instructions, each on a free ALU in the cycle its first operand arrives, the result of one
// the first operand of the next; second operands are vectors read from MEM to arrive with
// it, or immediates. The chain's input comes from MEM or is already on streams (an MXM
// result); its output goes to MEM (one write per byte plane) or to an MXM plane (abc).
// A chain runs for a burst of rows: every instruction is issued once and repeated, rows
// `interval` cycles apart, MEM addresses stepping by each operand's stride.
#include <optional>
#include <utility>
#include <vector>

#include "compiler/lower/lowered_program.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/memory_plan.hpp"

namespace lpusim {

/// Where a chain's input is: a vector in MEM, or a value on streams at the VXM.
struct ChainInput {
  const VecHome* mem = nullptr;   ///< read from MEM to arrive in the chain's first cycle
  std::int64_t stride = 1;        ///< mem, in a burst: row k is at mem->address + k * stride
  int group = -1;                 ///< else: first stream of the value at the VXM
  Direction direction = Direction::East;
  DType type = DType::Fp32;
};

/// Where a chain's result goes.
struct ChainSink {
  enum class Kind { Mem, Mxm } kind = Kind::Mem;
  VecHome dest;     ///< Mem: row k of a burst goes to dest.address + k
  int plane = 0;    ///< Mxm: arrives at the plane's MXM at the chain's end + hops
  // Set by the chain for an Mxm sink: the streams the value arrives on.
  int group = 0;
  Direction direction = Direction::East;
};

class VxmChains {
 public:
  VxmChains(const ChipGeometry& geometry, ScheduleBuilder& schedule, MemoryPlan& memory, LoweringStats& stats)
      : geo_(geometry), sb_(schedule), memory_(memory), stats_(stats) {}

  /// Schedules a chain whose first step starts in cycle t (for the burst's first row), inside
  /// the schedule's current transaction. Returns the cycle the first row's result lands (MEM
  /// commit, or MXM arrival), or nothing when a queue slot or stream is taken (the caller
  /// rolls back and tries later).
  std::optional<Cycle> try_chain(Cycle t, const ChainInput& input, const std::vector<Step>& steps, ChainSink& sink,
                                 const Burst& burst = {});

  /// Starts a node: the chains of one node are searched from about where the previous one
  /// was placed (they compete for the same quads and ALUs; scanning every busy cycle from
  /// each chain's data-ready cycle made long prefills compile in cubic time).
  void start_node() { node_floor_ = Cycle(-1000000); }

  /// Runs a chain on fp32 vectors from MEM into MEM, as early as possible from `earliest`;
  /// returns the first cycle a read sees the first row's result (row k's: k * interval later).
  Cycle mem_to_mem(const VecHome& a, const std::vector<Step>& steps, const VecHome& dest, Cycle earliest,
                   const Burst& burst = {}, std::int64_t a_stride = 1);
  /// The same, giving up (nothing placed) when no start within `window` cycles of the
  /// earliest possible one works: the caller then splits the burst.
  std::optional<Cycle> try_mem_to_mem(const VecHome& a, const std::vector<Step>& steps, const VecHome& dest,
                                      Cycle earliest, const Burst& burst, std::int64_t a_stride, Cycle window);

  /// Reads an fp32 vector so that its 4 planes arrive at the VXM in cycle `arrive`.
  bool read_to_vxm(const VecHome& v, Cycle arrive, int& group_out, const Burst& burst = {}, std::int64_t stride = 1) {
    return read_to(v, geo_.vxm(), arrive, group_out, burst, stride);
  }
  /// Reads an fp32 vector (a burst of rows) so that its 4 planes arrive at `to` in cycle `arrive`.
  bool read_to(const VecHome& v, Position to, Cycle arrive, int& group_out, const Burst& burst = {},
               std::int64_t stride = 1);
  /// Writes the fp32 vector that is at `from` in cycle `at` on streams [group, group + 4)
  /// (a burst: row k at at + k * interval into dest.address + k).
  bool write_from(Position from, Cycle at, int group, Direction dir, const VecHome& dest, const Burst& burst = {});
  /// The cycle the last plane of such a write (of the burst's first row) is committed.
  Cycle write_commit(Position from, Cycle at, const VecHome& dest) const;
  /// Direction a vector read from MEM travels to reach the VXM.
  Direction read_direction(const VecHome& v) const;

 private:
  std::optional<int> free_alu(Cycle t, const std::vector<std::pair<Cycle, int>>& used, const Burst& burst) const;

  const ChipGeometry& geo_;
  ScheduleBuilder& sb_;
  MemoryPlan& memory_;
  LoweringStats& stats_;
  Cycle node_floor_{-1000000};
};

}  // namespace lpusim
