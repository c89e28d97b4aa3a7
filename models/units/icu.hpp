#pragma once
// The ICU's barrier: `notify` on any queue releases every queue parked at `sync`, after
// the notify's functional delay. The per-queue issue logic lives in QueueProcess.
#include <optional>
#include <vector>

#include <systemc>

#include "core/types.hpp"

namespace lpusim {

class Icu : public sc_core::sc_module {
 public:
  explicit Icu(const sc_core::sc_module_name& name);

  /// Records a release at `release` (called in the notify's issue cycle).
  void notify(Cycle now, Cycle release);
  /// The first release at or after `cycle`, if one is known.
  std::optional<Cycle> release_at_or_after(Cycle cycle) const;
  const sc_core::sc_event& release_event() const { return released_; }

 private:
  std::vector<Cycle> releases_;  // ascending
  sc_core::sc_event released_;
};

}  // namespace lpusim
