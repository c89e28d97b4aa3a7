#include "engine/exec/barrier.hpp"

#include <algorithm>

namespace lpusim {

void Barrier::add_release(Cycle release) {
  releases_.insert(std::upper_bound(releases_.begin(), releases_.end(), release), release);
}

std::optional<Cycle> Barrier::release_at_or_after(Cycle cycle) const {
  const auto it = std::lower_bound(releases_.begin(), releases_.end(), cycle);
  if (it == releases_.end()) return std::nullopt;
  return *it;
}

}  // namespace lpusim
