#pragma once
// Matmul scheduling on the MXM planes (private to the lowering). For each output tile, on its
// plane: each weight block streams into the weight buffer (lw, one row group per cycle), is
// installed (iw) once the array's previous rows are done, then every row's activation tile is
// converted on the VXM on its way (fp32 -> fp16, or scaled and rounded to int8) and enters the
// array (abc) into an accumulator slot per row; acc emits each row's sum, straight into MEM or
// through a VXM chain (dequantisation, bias, and any fused pointwise epilogue).
#include <array>
#include <functional>
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

  /// Pointwise steps applied to result row m, tile n on its way from the MXM to MEM.
  using Epilogue = std::function<std::vector<Step>(std::int64_t m, std::int64_t n)>;

  /// Lowers a MatMul node (inputs x0, w0[, x1, w1 ...], optional attr "bias") into graph
  /// tensor `output` (the node's output, or the last op of a fused epilogue).
  const Act& lower(const Node& node, int output, const Epilogue& epilogue = {});

 private:
  struct PlaneState {
    Cycle buffer_free{0};        // the weight buffer may take rows from this cycle
    Cycle install_ready{0};      // the last install is done
    Cycle computing_until{0};    // the last abc with the installed array lands
    Cycle last_abc{-100};
    std::vector<Cycle> slot_free;  // per accumulator slot: cleared by its last acc in this cycle
    int next_slot = 0;             // slots rotate so that consecutive matmuls use different ones
  };

  void schedule_block(const WeightBlock& block, int plane, const MatmulFormat& format, const Act& x, std::int64_t m0, std::int64_t m1,
                      std::vector<Cycle>& row_done, double act_scale, int first_slot);
  Cycle emit_result(int plane, int slot, Cycle ready, DType acc_type, const VecHome& dest, std::vector<Step> post);

  const ChipGeometry& geo_;
  ScheduleBuilder& sb_;
  MemoryPlan& memory_;
  VxmChains& chains_;
  WeightTiling& tiling_;
  LoweringOptions options_;
  std::array<PlaneState, 4> planes_{};
  int dequant_tensors_ = 0;
};

}  // namespace lpusim
