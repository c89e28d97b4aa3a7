#pragma once
// The one JSON codec of a run's results (SimResult, SystemResult and their parts). Every
// place a result crosses a process (models/child_run.cpp, tests/sim/sim_harness.cpp) or
// becomes stats (engine/report/stats.cpp) goes through it, so that a field is named in one
// place. Decoding gives back exactly what was encoded (tests/core/test_sim_result_codec.cpp
// round-trips a struct with every field set): non-finite dump values travel as the strings
// "nan", "inf" and "-inf", doubles with enough digits to read back the same.
//
// The functions follow nlohmann's to_json/from_json convention, so `json j = result;` and
// `j.get<SimResult>()` work. Decoding throws nlohmann::json::exception on a malformed
// document (a result only ever comes from this codec, so that is an internal error).
#include <nlohmann/json.hpp>

#include "engine/exec/sim_result.hpp"

namespace lpusim {

void to_json(nlohmann::json& j, const QueueStats& q);
void from_json(const nlohmann::json& j, QueueStats& q);
void to_json(nlohmann::json& j, const Hazard& h);
void from_json(const nlohmann::json& j, Hazard& h);
void to_json(nlohmann::json& j, const TraceEvent& e);
void from_json(const nlohmann::json& j, TraceEvent& e);
void to_json(nlohmann::json& j, const SimResult& r);
void from_json(const nlohmann::json& j, SimResult& r);
void to_json(nlohmann::json& j, const SystemResult& r);
void from_json(const nlohmann::json& j, SystemResult& r);

const char* sim_mode_name(SimMode mode);         ///< "functional", "timing"
const char* scheduler_name(Scheduler scheduler);  ///< "event-driven", "clocked"

}  // namespace lpusim
