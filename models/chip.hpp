#pragma once
// One simulated TSP: the ICU, 2 x N MEM slices, the VXM, the MXMs and SXMs, joined by the
// stream fabric. A chip is built inside a System (models/system.hpp), whose dispatcher runs
// its queues; `simulate()` runs one program on a system of one chip. SystemC elaborates once
// per process: call simulate() (or simulate_system()) once per process.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/units/c2c.hpp"
#include "models/units/chip_state.hpp"
#include "models/units/icu.hpp"
#include "models/units/mem_slice.hpp"
#include "models/units/mxm.hpp"
#include "models/units/sxm.hpp"
#include "models/units/vxm.hpp"

namespace lpusim {

class Chip : public sc_core::sc_module {
 public:
  /// `network`: the system's C2C links (null: no links).
  Chip(const sc_core::sc_module_name& name, ChipState& context, C2cNetwork* network = nullptr);

  MemSlice& slice(const SliceRef& ref);
  /// Loads a tensor's values into SRAM (before the run).
  void store_tensor(const BoundTensor& tensor, const std::vector<double>& values);
  /// Reads a tensor's values from SRAM (after the run).
  std::vector<double> load_tensor(const BoundTensor& tensor);
  std::int64_t sram_host_bytes() const;
  /// Every instruction queue the chip has, busy or not.
  int queues_on_chip() const;
  ChipState& state() { return context_; }

  Icu icu;  // plain C++ (owns no time): the chip's queues and barrier
  Vxm vxm;
  Mxm mxm_west, mxm_east;
  Sxm sxm_west, sxm_east;
  C2c c2c;

 private:
  ChipState& context_;
  bool has_links_;
  std::vector<std::unique_ptr<MemSlice>> west_, east_;
};

/// Runs `program` on `chip` to completion: simulate_system() with one chip. Throws
/// InputError for bad inputs or dumps.
SimResult simulate(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options);

}  // namespace lpusim
