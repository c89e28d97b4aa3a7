#pragma once
// Matmul scheduling on the MXM planes (private to the lowering). For each output tile, on its
// plane: each weight block streams into the weight buffer (lw, one row group per cycle), is
// installed (iw) once the array's previous rows are done, then every row's activation tile is
// converted on the VXM on its way (fp32 -> fp16, or scaled and rounded to int8 or fp8) and enters the
// array (abc) into an accumulator slot per row; acc emits each row's sum, straight into MEM or
// through a VXM chain (dequantisation and any fused pointwise epilogue).
#include <array>
#include <functional>
#include <optional>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/passes/passes.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/vxm_chains.hpp"
#include "compiler/lower/weight_tiling.hpp"

namespace lpusim {

class MatmulSchedule {
 public:
  MatmulSchedule(const ChipGeometry& geometry, ScheduleBuilder& schedule, MemoryPlan& memory, VxmChains& chains,
                 WeightTiling& tiling, const LoweringOptions& options)
      : geo_(geometry), sb_(schedule), memory_(memory), chains_(chains), tiling_(tiling), options_(options) {}

  /// Pointwise steps applied to result rows on their way from the MXM to MEM: `steps` for the
  /// burst of rows from row m of tile n (its MEM operands' rows step by their strides), and
  /// `breaks_before(m, n)`: row m cannot share a burst with row m - 1 (an operand's rows are
  /// not consecutive there).
  struct Epilogue {
    std::function<std::vector<Step>(std::int64_t m, std::int64_t n, const Burst& burst)> steps;
    std::function<bool(std::int64_t m, std::int64_t n)> breaks_before;
    explicit operator bool() const { return static_cast<bool>(steps); }
  };

  /// Lowers a MatMul node (inputs x0, w0[, x1, w1 ...]) into graph
  /// tensor `output` (the node's output, or the last op of a fused epilogue).
  const Act& lower(const Node& node, int output, const Epilogue& epilogue = {});
  /// The stage gate opens at `gate`: the planes' state starts there (no matmul came before).
  void start_at(Cycle gate);

 private:
  struct PlaneState {
    Cycle buffer_free{0};        // the weight buffer may take rows from this cycle
    Cycle install_ready{0};      // the last install is done
    Cycle computing_until{0};    // the last abc with the installed array lands
    Cycle last_abc{-100};  // relative to the stage gate (start_at)
    std::vector<Cycle> slot_free;  // per accumulator slot: cleared by its last acc in this cycle
    int next_slot = 0;             // slots rotate so that consecutive matmuls use different ones
  };

  /// Rows m .. m + count - 1 in accumulator slots slot .. slot + count - 1: one burst.
  struct RowRun {
    std::int64_t m;
    std::int64_t count;
    int slot;
  };

  /// Loads, installs and runs one block (input tile block.k_tile of output tile n_tile) for
  /// every run of rows.
  void schedule_block(const WeightBlock& block, const MatmulTerm& term, std::int64_t n_tile, int plane,
                      const MatmulFormat& format, const std::vector<RowRun>& runs, std::int64_t m0,
                      std::vector<Cycle>& row_done, double act_scale);
  /// A stored block streamed from its plane's weight slices: returns the cycle after its last lw.
  Cycle load_stored_block(const WeightBlock& block, int plane);
  /// Rows n_tile*320.. of an activation's input tile k_tile, each read from MEM, converted to
  /// fp16 on the VXM and taken by its own lw: returns the cycle after the last lw.
  Cycle load_activation_rows(const Act& w, std::int64_t n_tile, std::int64_t k_tile, int plane);
  /// A VXM chain (`convert`) from `src` in MEM, starting in cycle `start`, whose value
  /// reaches `plane`'s MXM in cycle `arrive`: its sink (the streams it arrives on) inside an
  /// open transaction the caller commits after placing its lw or abc; nothing (rolled back)
  /// when it does not fit there.
  std::optional<ChainSink> chain_to_mxm(int plane, const VecHome& src, const std::vector<Step>& convert, Cycle start,
                                        Cycle arrive, const Burst& burst = {});
  /// Planes for the output tiles of a matmul with activation weights: the plane free first,
  /// each tile counted as `rows` fp16 abcs.
  std::vector<int> planes_by_availability(std::int64_t n_tiles, std::int64_t rows) const;
  /// The abcs of one run of rows for the installed block: one burst, or its halves.
  /// `xtype`: the abc type (the activations' format: int8, fp16 or fp8).
  void place_abc_run(int plane, DType xtype, const Act& x, std::int64_t k_tile, const RowRun& run, std::int64_t m0,
                     std::vector<Cycle>& row_done, const std::vector<Step>& convert, Cycle chain_length, Cycle rate);
  /// The burst's results from their slots to `dest` (row k at dest.address + k) through `post`;
  /// `ready`: the earliest cycle the first row's acc may issue. Returns when the first row
  /// lands, or nothing (nothing placed) when a burst of several rows finds no room.
  /// `acc_type`: int32 (int8 activations) or fp32.
  std::optional<Cycle> emit_results(int plane, const RowRun& run, Cycle ready, DType acc_type, const VecHome& dest,
                                    const std::vector<Step>& post);

  const ChipGeometry& geo_;
  ScheduleBuilder& sb_;
  MemoryPlan& memory_;
  VxmChains& chains_;
  WeightTiling& tiling_;
  LoweringOptions options_;
  std::array<PlaneState, 4> planes_{};
  Cycle floor_{0};  ///< the stage gate (start_at)
  int dequant_tensors_ = 0;
};

}  // namespace lpusim
