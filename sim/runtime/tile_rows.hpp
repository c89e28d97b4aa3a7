#pragma once
// Host tensors to and from the chip's tile layout. The lowering places a graph tensor
// [rows, cols] as ceil(cols / lanes) assembly tensors ("tiles"), tile j holding lanes
// j*lanes .. j*lanes+lanes-1 of every row as one vector (TensorPlacement); lanes past cols are
// padding.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/lower/lowered_program.hpp"

namespace lpusim {

/// A row-major host tensor.
struct HostTensor {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<float> values;  ///< rows * cols
};

/// Row-major values (at most rows x cols; missing trailing rows are zeros, as in an empty KV
/// cache) -> tile contents, written into `tiles` by assembly tensor name (vectors x lanes).
void pack_rows(const TensorPlacement& placement, const std::vector<float>& values, std::int64_t lanes,
               std::map<std::string, std::vector<double>>& tiles);

/// Tile contents (by assembly tensor name, as simulate() dumps them) -> the row-major tensor.
HostTensor unpack_rows(const TensorPlacement& placement, const std::map<std::string, std::vector<double>>& tiles,
                       std::int64_t lanes);

}  // namespace lpusim
