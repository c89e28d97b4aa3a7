#pragma once
// The part of estimate's JSON that one chip and a system share: the model, the scenario and
// the steps' figures (decode and prefill for a decoder, encode for an encoder).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "frontend/transformer_spec.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/serving_model.hpp"

namespace lpusim::cli {

/// `instructions(step)` is what a step reports as its instructions (simulated on one chip;
/// the programs' total on a system).
nlohmann::json serving_json(const std::string& model_path, const TransformerSpec& spec, const Scenario& scenario,
                            const std::string& weights_label, const ServingEstimate& e, const StepResult& prefill,
                            const std::optional<StepResult>& decode,
                            std::int64_t (*instructions)(const StepResult& step));

}  // namespace lpusim::cli
