#pragma once
// What one chip holds under the lowering's memory plan (memory_plan.hpp), for checks made
// before any compile: the activation quads (MEM slices 0-11 of each hemisphere, next to the
// VXM, 4 slices per quad, one fp32 vector per quad word) and the weight groups (slices
// 12-43 of each hemisphere, 16 per MXM plane, one byte per lane per word).
#include <cstdint>
#include <string>

#include "arch/config/chip_config.hpp"
#include "compiler/ir/graph.hpp"

namespace lpusim {

struct MemoryPlanShape {
  static constexpr int kActivationQuadsPerHemisphere = 3;
  static constexpr int kSlicesPerQuad = 4;  ///< byte planes of an fp32 word
  static constexpr int kWeightGroupsPerHemisphere = 2;
  static constexpr int kWeightSlicesPerGroup = 16;
  /// First weight slice of a hemisphere: the activation quads take the slices below.
  static constexpr int kFirstWeightSlice = kActivationQuadsPerHemisphere * kSlicesPerQuad;
};

struct ChipCapacity {
  std::int64_t activation_vectors = 0;  ///< fp32 vectors of chip.lanes() values in the activation quads
  std::int64_t activation_bytes = 0;
  std::int64_t activation_slices = 0;
  std::int64_t weight_bytes = 0;        ///< bytes in the weight groups
};

ChipCapacity chip_capacity(const ChipConfig& chip);

/// Bytes the graph's model weights take at `weights` (1 byte per int8 or fp8 value, 2 per fp16),
/// constants the compiler makes (init "data") not counted. With `checkpoint_weights`, each
/// weight as its checkpoint stores it (TensorInfo::checkpoint_format: 1 byte, else 2).
std::int64_t model_weight_bytes(const Graph& graph, WeightType weights, bool checkpoint_weights = false);

/// Throws the InputError "does not fit in one chip ... about N chips are needed" when the
/// graph's weights alone exceed the chip's weight slices. The lowering's first check; made
/// before anything else (a KV cache or activation check) so that a model too large for one
/// chip is told how many it needs.
void check_weights_fit(const Graph& graph, const ChipConfig& chip, WeightType weights, bool checkpoint_weights = false);

/// The InputError above, for `what` (e.g. "the model"), whether or not the byte count says so
/// (the lowering also raises it when its weight blocks, padded to MXM tiles, fill a group).
[[noreturn]] void fail_weight_capacity(const Graph& graph, const ChipConfig& chip, WeightType weights,
                                       const std::string& what, bool checkpoint_weights = false);

}  // namespace lpusim
