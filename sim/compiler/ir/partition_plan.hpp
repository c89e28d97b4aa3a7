#pragma once
// A partition plan: how one forward step is spread over the chips of a system. The chips of a
// pipeline stage form a tensor-parallel group (tp chips; of those, ep split an MoE layer's
// experts); consecutive stages hold consecutive layers. Chip c of the plan is rank c % tp of
// stage c / tp. The partition pass (passes/partition.cpp) cuts a graph by it; which plans fit
// a chip is the front end's question (frontend/plan_fit.hpp).
#include <cstdint>
#include <string>
#include <vector>

namespace lpusim {

struct LayerRange {
  std::int64_t first = 0;  ///< first layer
  std::int64_t last = 0;   ///< one past the last layer
  std::int64_t count() const { return last - first; }
};

struct PartitionPlan {
  int tp = 1;  ///< chips per stage (tensor parallel)
  int ep = 1;  ///< of those, the ways experts are split (MoE; 1 for dense models)
  int pp = 1;  ///< pipeline stages
  std::vector<LayerRange> stages;
  int chips() const { return tp * pp; }
  std::string describe() const;  ///< e.g. "tp 8 x pp 10 (8 layers per stage) = 80 chips"
  /// Chip c's stage (c / tp), for every chip of the plan.
  std::vector<int> stage_of_chips() const {
    std::vector<int> of_chip;
    for (int c = 0; c < chips(); ++c) of_chip.push_back(c / tp);
    return of_chip;
  }
};

}  // namespace lpusim
