#pragma once
// Tiling: a matmul's weights cut into MXM weight blocks (private to the lowering).
//
// y[M, N] = sum_i x_i[M, K_i] w_i[K_i, N]. Output tile n (320 columns) runs on one MXM plane;
// for every input tile k of every term, the block of w rows k*320.. and columns n*320.. is
// stored in that plane's 16-slice weight group as MXM rows: fp16 (8 rows per lw; byte planes
// of row 8t + j in slices 2j and 2j+1, word t) or a one-byte type, int8 or fp8 (16 rows per
// lw; row 16t + q in slice q, word t), quantised per output column. All-zero blocks of compiler-made constant
// matrices are skipped; a block used again (the same constant in every layer) is stored once.
#include <array>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "compiler/lower/lowered_program.hpp"
#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/memory_plan.hpp"

namespace lpusim {

/// One x_i w_i term of a matmul.
struct MatmulTerm {
  const Act* x;
  int weight;          ///< graph tensor
  bool transpose;      ///< w is [N, K]
  std::int64_t k_rows; ///< K
  /// An activation used as the weights (transpose only: its rows are the MXM rows), loaded
  /// row by row through the VXM's fp16 conversion rather than stored as blocks.
  const Act* weight_rows = nullptr;
};

/// A stored weight block: `lws` words from `base` in every slice of its plane's group.
struct WeightBlock {
  int term;
  std::int64_t k_tile;
  DType type;        ///< the lw type: fp16, int8 or fp8
  std::int64_t base;
  std::int64_t lws;  ///< lw instructions (rows / rows per lw)
};

class WeightTiling {
 public:
  WeightTiling(MemoryPlan& memory, LoweringStats& stats, bool functional_data)
      : memory_(memory), stats_(stats), functional_data_(functional_data) {}

  /// The plane of each output tile, whose blocks (at most `tile_words[n]` words per weight
  /// slice, all its input tiles) it stores: the one whose weight slices hold the fewest words
  /// so far, which balances both SRAM and MXM time across the four planes; when that plane
  /// lacks room, the least-filled plane. The lowering then runs out of weight SRAM only when
  /// the least-filled plane has not a tile's words free, which the compile cost rules out
  /// (CompileCost::weights_fit).
  std::vector<int> assign_planes(const std::vector<std::int64_t>& tile_words) const;

  /// Per-output-column scales of int8 or fp8 weights (max |w| over every term / the type's
  /// largest code), or all ones (fp16).
  /// With `power_of_two`, each scale is the smallest power of two not below that (exact for
  /// weights on a coarser grid, MXFP4 values).
  std::vector<float> column_scales(const std::vector<MatmulTerm>& terms, const std::vector<std::vector<float>>& values,
                                   std::int64_t n_cols, DType type, bool power_of_two = false) const;

  /// The block (term, k_tile) of output tile n on `plane`, stored on first use; nothing
  /// when the block is all zero. `w` may be empty when values are not generated.
  std::optional<WeightBlock> block(const MatmulTerm& term, int term_index, std::int64_t k_tile, std::int64_t n,
                                   std::int64_t n_cols, int plane, DType type, const std::vector<float>& w,
                                   const std::vector<float>& column_scale);

 private:
  std::optional<WeightBlock> store_new(const MatmulTerm& term, int term_index, std::int64_t k_tile, std::int64_t n,
                                       std::int64_t n_cols, int plane, DType type, const std::vector<float>& w,
                                       const std::vector<float>& column_scale);

  MemoryPlan& memory_;
  LoweringStats& stats_;
  bool functional_data_;
  int blocks_declared_ = 0;
  std::map<std::tuple<int, bool, std::int64_t, std::int64_t, int, DType>, std::optional<WeightBlock>> stored_;
};

}  // namespace lpusim
