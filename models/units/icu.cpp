#include "units/icu.hpp"

#include <algorithm>

#include "units/sim_time.hpp"

namespace lpusim {

Icu::Icu(const sc_core::sc_module_name& name) : sc_module(name) {}

void Icu::notify(Cycle now, Cycle release) {
  releases_.insert(std::upper_bound(releases_.begin(), releases_.end(), release), release);
  released_.notify(cycles_to_time(release - now));
}

std::optional<Cycle> Icu::release_at_or_after(Cycle cycle) const {
  auto it = std::lower_bound(releases_.begin(), releases_.end(), cycle);
  if (it == releases_.end()) return std::nullopt;
  return *it;
}

}  // namespace lpusim
