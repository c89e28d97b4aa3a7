#pragma once
// Reports of a run: machine-readable stats JSON mirroring the module tree (chip -> units
// -> queues), and the human summary `lpusim run` prints. Derived values (percentages,
// rates, time) are computed here, at report time, from the raw counters.
#include <string>

#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sim_result.hpp"
#include "engine/exec/bind.hpp"

namespace lpusim {

/// Busy percentage of one unit kind: issue slots used over (cycles x queues on the chip).
double unit_busy_percent(const ChipConfig& chip, const SimResult& result, UnitKind unit);
int unit_queue_count(const ChipConfig& chip, UnitKind unit);

nlohmann::json stats_json(const ChipConfig& chip, const BoundProgram& program, const SimResult& result);
std::string summary_text(const ChipConfig& chip, const BoundProgram& program, const SimResult& result);
/// The hazard report printed when the schedule checker finds problems.
std::string hazard_report(const SimResult& result, std::size_t max_lines = 50);

}  // namespace lpusim
