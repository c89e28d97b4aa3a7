#pragma once
// Chrome/Perfetto trace of a run: one track per queue, grouped by unit and hemisphere
// ("MEM west", "VXM", ...); each issued instruction is a slice from its issue to its
// result (d_func), carrying its text, cycle and source line. Opens in ui.perfetto.dev.
#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sim_result.hpp"
#include "engine/exec/bind.hpp"

namespace lpusim {

nlohmann::json trace_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& result);

}  // namespace lpusim
