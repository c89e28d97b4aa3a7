#include "models/child_run.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "arch/core/child_process.hpp"
#include "arch/core/error.hpp"
#include "engine/exec/sim_result_codec.hpp"

namespace lpusim {

namespace {
/// Runs `simulate` in a child and decodes what it returns as a Result. InputErrors and
/// other exceptions in the child are thrown again here.
template <class Result, class Simulate>
Result in_child(Simulate&& simulate) {
  const ChildOutput child = run_in_forked_child([&]() -> std::string {
    try {
      return nlohmann::json(simulate()).dump();
    } catch (const InputError& e) {
      return nlohmann::json{{"input_error", e.what()}}.dump();
    } catch (const std::exception& e) {
      return nlohmann::json{{"crash", e.what()}}.dump();
    }
  });
  if (!exited_cleanly(child.status) || child.text.empty()) throw std::runtime_error("the simulation child process died");
  const auto j = nlohmann::json::parse(child.text);
  if (j.contains("input_error")) throw InputError(j["input_error"].get<std::string>());
  if (j.contains("crash")) throw std::runtime_error(j["crash"].get<std::string>());
  return j.get<Result>();
}
}  // namespace

SimResult simulate_in_child(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options) {
  return in_child<SimResult>([&] { return simulate(chip, program, options); });
}

SystemResult simulate_system_in_child(const std::vector<ChipRun>& runs, const SystemConfig* system) {
  // The child _exits once the result is written: its kernel is not torn down.
  return in_child<SystemResult>([&] { return simulate_system(runs, system, SystemTeardown::LeaveToProcessExit); });
}

}  // namespace lpusim
