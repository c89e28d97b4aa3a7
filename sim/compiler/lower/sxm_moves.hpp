#pragma once
// Lane movement on the SXM (private to the lowering): a vector read from MEM travels to the
// SXM at the hemisphere's edge, is permuted there (`permute.fp32` with a declared lane map)
// and written back to MEM. Data moving to an earlier superlane waits for it, as the
// simulator's SXM does (superlane k runs k x skew cycles behind superlane 0).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lower/lowering_types.hpp"
#include "compiler/lower/memory_plan.hpp"
#include "compiler/lower/vxm_chains.hpp"

namespace lpusim {

class SxmMoves {
 public:
  SxmMoves(const ChipGeometry& geometry, ScheduleBuilder& schedule, MemoryPlan& memory, VxmChains& chains)
      : geo_(geometry), sb_(schedule), memory_(memory), chains_(chains) {}

  /// Declares (once) a lane map: lanes[i] is the source lane of output lane i, a permutation.
  /// Returns its name.
  const std::string& lane_map(const std::vector<int>& lanes, const std::string& comment);

  /// Permutes the vector at `src` into `dest` with a declared map, through the VXM steps
  /// `post` if any (a fused epilogue); returns the first cycle a read sees the result. A
  /// burst permutes consecutive rows (src and dest addresses step by 1), a cycle apart.
  Cycle permute(const VecHome& src, const std::string& map, const VecHome& dest, const std::vector<Step>& post = {},
                const Burst& burst = {});
  /// The same, giving up (nothing placed) when no start within `window` cycles of the
  /// earliest possible one works: the caller then splits the burst.
  std::optional<Cycle> try_permute(const VecHome& src, const std::string& map, const VecHome& dest,
                                   const std::vector<Step>& post, const Burst& burst, Cycle window);

  const std::vector<LaneMap>& lane_maps() const { return maps_; }

 private:
  const ChipGeometry& geo_;
  ScheduleBuilder& sb_;
  MemoryPlan& memory_;
  VxmChains& chains_;
  std::vector<LaneMap> maps_;
  std::map<std::vector<int>, std::size_t> index_;
  std::map<std::string, Cycle> wait_;  ///< per map: the cross-superlane wait
};

}  // namespace lpusim
