#pragma once
// One chip of a run as the reports see it: its configuration and its bound program (the
// chip's SimResult holds what happened). Reports of a system take one per chip, in order.
#include "arch/config/chip_config.hpp"
#include "engine/exec/bind.hpp"

namespace lpusim {

struct ReportedChip {
  const ChipConfig& config;
  const BoundProgram& program;
};

}  // namespace lpusim
