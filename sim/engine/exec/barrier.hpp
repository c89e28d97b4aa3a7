#pragma once
// One chip's barrier (the ICU's sync/notify): a `notify` on any queue releases every queue
// parked at `sync`, the notify's d_func later. The barrier records the release cycles; a
// parked queue resumes at the first release at or after the cycle it parked in. Plain C++:
// it holds no time of its own, and waking the parked queues is the ICU's job
// (models/units/icu.hpp), which puts them on the dispatcher's calendar at the release.
#include <optional>
#include <vector>

#include "arch/core/types.hpp"

namespace lpusim {

class Barrier {
 public:
  /// Records a release at `release` (in any order).
  void add_release(Cycle release);
  /// The first release at or after `cycle`, if one is known.
  std::optional<Cycle> release_at_or_after(Cycle cycle) const;
  const std::vector<Cycle>& releases() const { return releases_; }

 private:
  std::vector<Cycle> releases_;  // ascending
};

}  // namespace lpusim
