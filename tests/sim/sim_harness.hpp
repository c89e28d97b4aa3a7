#pragma once
// Runs simulations for tests. SystemC elaborates once per process, so each run happens in
// a forked child that simulates and sends its result back through the result codec
// (engine/exec/sim_result_codec.hpp); one test case may then compare several runs
// (functional against timing-only, on time against one cycle early, one chip against a
// system of several).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config/chip_config.hpp"
#include "engine/exec/sim_result.hpp"

namespace lpusim::test {

struct RunOutcome {
  std::string error;          ///< InputError text, if the run was refused
  std::int64_t total_cycles = 0;
  std::uint64_t instructions = 0;
  std::vector<std::string> hazard_kinds;
  std::vector<std::string> hazard_messages;
  std::map<std::string, std::vector<double>> dumps;
  nlohmann::json queues;      ///< per queue: instructions, busy_cycles, end
  nlohmann::json trace;       ///< Chrome trace, when requested
  SimResult result;           ///< everything the run reported
  bool has_hazard(const std::string& kind) const;
  std::size_t count_hazards(const std::string& kind) const;
};

struct RunRequest {
  std::string program;        ///< assembly text
  std::string program_file = "test.s";  ///< used instead of `program` when it names a file and program is empty
  SimMode mode = SimMode::Functional;
  bool check = true;
  std::vector<std::string> dumps;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::function<void(nlohmann::json&)> edit_chip;  ///< changes to tsp-v1 for this run
  bool trace = false;
  Scheduler scheduler = Scheduler::EventDriven;
  /// No program at all (no queues, no tensors), as the compiler gives a chip idle in a
  /// stage-reuse window; assembly cannot say it (a file needs a .queue block).
  bool empty_program = false;
};

RunOutcome run_forked(const RunRequest& request);

/// A system of chips in one kernel, one request per chip (the first one's scheduler for all).
struct SystemOutcome {
  std::string error;             ///< InputError text, if the run was refused
  SystemResult result;           ///< totals and every chip's result
  std::vector<RunOutcome> chips;  ///< each chip's result as a RunOutcome
  nlohmann::json trace;          ///< the system's Chrome trace, when any request asks for one
};
/// `system_file`: a system JSON file whose links join the chips (one request per chip of it;
/// its chip "tsp-v1" is the bundled one); empty: no links.
SystemOutcome run_system_forked(const std::vector<RunRequest>& chips, const std::string& system_file = "");

/// The tsp-v1 configuration as loaded (plain C++, safe in the parent process).
const ChipConfig& tsp_v1();

}  // namespace lpusim::test
