#pragma once
// Simulated time is integer cycles: one cycle is one SystemC time unit (1 ns), whatever the
// configured clock; reports convert cycles to seconds with the chip's clock_mhz.
#include <systemc>

#include "arch/core/types.hpp"

namespace lpusim {

inline sc_core::sc_time cycles_to_time(Cycle c) {
  static const auto ticks_per_cycle = sc_core::sc_time(1, sc_core::SC_NS).value();
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(c.value()) * ticks_per_cycle);
}

inline Cycle current_cycle() {
  static const auto ticks_per_cycle = sc_core::sc_time(1, sc_core::SC_NS).value();
  return Cycle(static_cast<std::int64_t>(sc_core::sc_time_stamp().value() / ticks_per_cycle));
}

}  // namespace lpusim
