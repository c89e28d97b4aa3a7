#pragma once
// Chrome/Perfetto trace of a run: one track per queue; each issued instruction is a slice
// from its issue to its result (d_func), carrying its text, cycle and source line. Opens in
// ui.perfetto.dev. One chip: tracks grouped by unit and hemisphere ("MEM west", "VXM", ...),
// one process each. A system of several chips: one process per chip ("chip1"), whose tracks
// are the chip's queues by their chip-qualified names ("chip1/mem.w12"), in floorplan order.
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/bind.hpp"
#include "engine/exec/sim_result.hpp"
#include "engine/report/reported_chip.hpp"

namespace lpusim {

nlohmann::json trace_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& result);
/// `chips` and `result.chips` in the same order.
nlohmann::json trace_json(const std::vector<ReportedChip>& chips, const SystemResult& result);

}  // namespace lpusim
