#pragma once
// What every estimate simulates, on one chip or a system: the prefill of the scenario's
// prompt, then (a decoder) a decode step in the middle of generation, in timing mode, and the
// serving model's figures from their cycles.
#include <optional>

#include "arch/config/system_config.hpp"
#include "arch/core/error.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "frontend/transformer_spec.hpp"
#include "runtime/host_runtime.hpp"
#include "runtime/serving_model.hpp"

namespace lpusim::cli {

/// A port-buffer overflow found while compiling the prefill (not the decode step): a
/// smaller prompt chunk may fit.
class PrefillPortBufferOverflow : public PortBufferOverflow {
 public:
  using PortBufferOverflow::PortBufferOverflow;
};

/// A prompt prefilled in chunks (Scenario::prefill_chunk_tokens).
struct PrefillChunks {
  std::int64_t chunk_tokens = 0;  ///< 0: the prompt in one step
  std::int64_t chunks = 1;
  /// The chunks simulated (by index) and their cycles; with more than three chunks the first,
  /// the last full one and the last are simulated and the full chunks between them
  /// interpolated linearly in their position (a chunk's attention grows linearly with the
  /// positions before it, the rest of its work does not).
  std::vector<std::int64_t> simulated, cycles;
  bool interpolated() const { return static_cast<std::int64_t>(simulated.size()) < chunks; }
};

struct ServingSteps {
  /// The prefill: one step, or (chunked) the last chunk's with its cycles the chunks' sum.
  StepResult prefill;
  PrefillChunks prefill_chunks;
  std::optional<StepResult> decode;
  ServingEstimate estimate;
  /// The program whose per-layer cycles and unit use are shown: the decode step, or an
  /// encoder's one program.
  const StepResult& shown() const { return decode ? *decode : prefill; }
  bool simulated_equals_scheduled() const {
    return prefill.simulated_equals_scheduled() && (!decode || decode->simulated_equals_scheduled());
  }
};

/// The timing-mode session every estimate step runs in: the scenario's weights, batch and
/// whole context, on `plan` over `system` (or one chip).
SessionOptions serving_session_options(const TransformerSpec& spec, const Scenario& scenario, const PartitionPlan& plan,
                                       const std::optional<SystemConfig>& system);

/// `plan` of several chips runs on `system`; a default plan on `chip` alone. `shown`: the
/// shown step (decode, or an encoder's pass) already simulated for this plan (timing mode: a
/// step's cycles do not depend on the steps before it), not simulated again.
ServingSteps run_serving_steps(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario,
                               const PartitionPlan& plan = {}, const std::optional<SystemConfig>& system = {},
                               std::optional<StepResult> shown = std::nullopt);

}  // namespace lpusim::cli
