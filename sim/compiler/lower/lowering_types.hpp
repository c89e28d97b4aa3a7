#pragma once
// Value types shared by the lowering's parts (private to sim/compiler/lower/):
//   memory_plan    placement of activations, constants and weight blocks in MEM
//   weight_tiling  matmul weights cut into MXM blocks, quantised, spread over the planes
//   vxm_chains     pointwise ops as VXM ALU chains between MEM, the MXM and MEM
//   matmul_schedule  lw / iw / abc / acc scheduling of the tiles on the MXM planes
//   sxm_moves      lane permutations (rope) on the SXM
//   node_lowering  one node or fused run: pointwise chains, compares, reductions, views
//   lifetimes      after which node each intermediate's words are free
//   lowering       the driver: one node at a time, emission and attribution of the program
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/lower/schedule_builder.hpp"
#include "arch/config/chip_config.hpp"

namespace lpusim {

/// An fp32 vector in MEM: the quad (4 slices, one byte plane each) that holds it and its word.
struct VecHome {
  int quad = -1;
  std::int64_t address = 0;
  Cycle ready{0};          ///< a read issued in this cycle or later sees it
  Cycle write_after{-1};   ///< the word held an earlier tensor, read until this cycle
};

/// Rows handled by one instruction sequence: `count` vectors, `interval` cycles apart, each
/// instruction issued once and repeated (`repeat count - 1, interval, stride`). Addresses and
/// accumulator slots step by a stride per row (1: consecutive words; 0: the same word).
struct Burst {
  std::int64_t count = 1;
  std::int64_t interval = 1;
  std::int64_t repeats() const { return count - 1; }
  Cycle span() const { return Cycle((count - 1) * interval); }  ///< from the first row to the last
};

/// How far past its earliest start a burst's placement is searched before the burst is
/// split in two (the halves are placed on their own): a repeat holds its queues for its
/// whole span, so a long burst may find no room where single rows would.
inline Cycle burst_search_window(const Burst& burst) { return Cycle(64 + 2 * (burst.count - 1) * burst.interval); }

/// An activation tensor's placement: rows x tiles fp32 vectors. Views (row slices, row
/// concatenations) share their source's vectors.
struct Act {
  std::int64_t rows = 0, cols = 0, tiles = 0;
  std::vector<VecHome> homes;            // per (row, tile); ready is kept in `ready`
  std::vector<Cycle> ready;              // per (row, tile)
  std::vector<std::string> names;        // assembly tensor per tile (declared tensors only)
  bool owned = false;                    // holds storage of its own (not a view)
  VecHome at(std::int64_t m, std::int64_t j) const {
    VecHome h = homes[static_cast<std::size_t>(m * tiles + j)];
    h.ready = ready[static_cast<std::size_t>(m * tiles + j)];
    return h;
  }
  Cycle& ready_at(std::int64_t m, std::int64_t j) { return ready[static_cast<std::size_t>(m * tiles + j)]; }
  /// Rows m .. m + count - 1 of tile j are consecutive words of one quad (owned tensors;
  /// a view's rows may come from anywhere).
  bool consecutive(std::int64_t m, std::int64_t count, std::int64_t j) const {
    const VecHome& first = homes[static_cast<std::size_t>(m * tiles + j)];
    for (std::int64_t k = 1; k < count; ++k) {
      const VecHome& h = homes[static_cast<std::size_t>((m + k) * tiles + j)];
      if (h.quad != first.quad || h.address != first.address + k) return false;
    }
    return true;
  }
  /// The quads tile j's rows live in (one for an owned tensor; a view's may be several).
  std::vector<int> tile_quads(std::int64_t j) const {
    std::vector<int> q;
    for (std::int64_t m = 0; m < rows; ++m) {
      const int h = homes[static_cast<std::size_t>(m * tiles + j)].quad;
      if (std::find(q.begin(), q.end(), h) == q.end()) q.push_back(h);
    }
    return q;
  }
  /// The home of rows m .. m + burst.count - 1 of tile j read as a burst: its ready cycle is
  /// the earliest the first row's read may issue so that every row's read sees its row.
  VecHome burst_at(std::int64_t m, std::int64_t j, const Burst& burst) const {
    VecHome h = at(m, j);
    for (std::int64_t k = 1; k < burst.count; ++k)
      h.ready = std::max(h.ready, ready[static_cast<std::size_t>((m + k) * tiles + j)] - Cycle(k * burst.interval));
    return h;
  }
};

/// The second operand of a VXM step: none, a vector in MEM, an immediate, or the same
/// streamed value as the first operand (x * x).
struct StepOperand {
  enum class Kind { None, Mem, Imm, SameAsFirst } kind = Kind::None;
  VecHome vec;
  std::int64_t stride = 1;  ///< Mem, in a burst: row k reads vec.address + k * stride
  double imm = 0;
};

/// One VXM instruction of a chain; its first operand is the previous step's result.
struct Step {
  explicit Step(Opcode o, DType t = DType::Fp32, DType to = DType::None) : op(o), type(t), type_to(to) {}
  static Step with_immediate(Opcode o, double value) {
    Step s{o};
    s.b.kind = StepOperand::Kind::Imm;
    s.b.imm = value;
    return s;
  }
  static Step with_vector(Opcode o, const VecHome& v, std::int64_t stride = 1) {
    Step s{o};
    s.b.kind = StepOperand::Kind::Mem;
    s.b.vec = v;
    s.b.stride = stride;
    return s;
  }
  Opcode op;
  DType type;
  DType type_to;
  StepOperand b;
};

/// Positions, latencies and queue names the lowering's parts all need.
class ChipGeometry {
 public:
  explicit ChipGeometry(const ChipConfig& chip) : chip_(chip) {}
  const ChipConfig& chip() const { return chip_; }
  Position pos(const SliceRef& s) const { return chip_.mem_position(s.hemisphere, s.index); }
  Position vxm() const { return chip_.vxm_position(); }
  Position mxm(int plane) const {
    return chip_.queue_position(QueueId{UnitKind::Mxm, plane < 2 ? Hemisphere::West : Hemisphere::East, 0});
  }
  Cycle hops(Position a, Position b) const { return chip_.stream_hop * std::abs(a.value() - b.value()); }
  Cycle func(Opcode op) const { return chip_.timing_of(op).func; }
  static QueueId mem_queue(const SliceRef& s) { return QueueId{UnitKind::Mem, s.hemisphere, s.index.value()}; }
  /// MXM plane queues: role 0 weights (lw, iw), 1 activations (abc), 2 results (acc).
  static QueueId mxm_queue(int plane, int role) {
    return QueueId{UnitKind::Mxm, plane < 2 ? Hemisphere::West : Hemisphere::East, 3 * (plane % 2) + role};
  }
  static QueueId vxm_queue(int alu) { return QueueId{UnitKind::Vxm, Hemisphere::West, alu}; }

 private:
  const ChipConfig& chip_;
};

}  // namespace lpusim
