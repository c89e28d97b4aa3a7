#pragma once
// Reports of a run: machine-readable stats JSON mirroring the module tree, and the human
// summary `lpusim run` prints. Derived values (percentages, rates, time) are computed here,
// at report time, from the raw counters.
//
// The stats tree (format 2): system -> chips -> chip<i> -> units -> <unit> -> queues -> <queue>,
// e.g. system.chips.chip0.units.mem.queues.w12.busy_cycles. Each level holds every field
// its result struct encodes (engine/exec/sim_result_codec.hpp: a system node has the
// SystemResult's fields but `chips`, a chip node the SimResult's but `queues` (the unit tree),
// `trace` and `dumps` (their own files), a queue node the QueueStats' but `name` and `unit`
// (its place in the tree)), plus the derived values. Chips are named chip0, chip1, ... even
// when there is one.
#include <string>

#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sim_result.hpp"
#include "engine/exec/bind.hpp"
#include "engine/report/reported_chip.hpp"

namespace lpusim {

/// Busy percentage of one unit kind: issue slots used over (cycles x queues on the chip).
double unit_busy_percent(const ChipConfig& chip, const SimResult& result, UnitKind unit);
int unit_queue_count(const ChipConfig& chip, UnitKind unit);

/// `chips` and `result.chips` in the same order.
nlohmann::json stats_json(const std::vector<ReportedChip>& chips, const SystemResult& result);
std::string summary_text(const ChipConfig& chip, const BoundProgram& program, const SimResult& result);
/// The hazard report printed when the schedule checker finds problems.
std::string hazard_report(const SimResult& result, std::size_t max_lines = 50);

}  // namespace lpusim
