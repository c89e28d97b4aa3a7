#pragma once
// The host side of running compiled programs on the simulated chip: what a deployment's host
// runtime does around a static schedule. A program's inputs are packed into their tiles, the
// program is simulated (in a child process: SystemC elaborates once per process), and its
// outputs are unpacked. For a transformer, a session runs the prefill and then decode steps,
// each its own compiled program, carrying every sequence's KV cache from one program to the
// next; the embedding lookup runs on the host, which sends the gathered rows.
//
// Two modes: functional (the chip computes every value; outputs and caches are returned) and
// timing (no values: the static schedule's cycles do not depend on them, so a decode step can
// be measured at any cached length without running the steps before it).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/config/system_config.hpp"
#include "compiler/ir/partition_plan.hpp"
#include "compiler/pipeline.hpp"
#include "engine/exec/sim_result.hpp"
#include "frontend/transformer_spec.hpp"
#include "runtime/model_costs.hpp"
#include "runtime/system_run.hpp"
#include "runtime/tile_rows.hpp"

namespace lpusim {

enum class RunMode { Functional, Timing };

/// One compiled program, simulated.
struct StepResult {
  std::string name;              ///< "prefill", "decode", or the graph's name
  std::int64_t tokens = 0;       ///< new tokens per sequence (transformer steps)
  std::int64_t past = 0;         ///< positions cached per sequence before the step
  Cycle scheduled_length{0};     ///< the compiler's schedule length
  std::int64_t program_instructions = 0;
  LoweringStats lowering;        ///< SRAM use, per-node and per-layer end cycles
  double compile_seconds = 0;
  std::int64_t weight_macs = 0;  ///< multiply-accumulates of the step's weight matmuls
  SimResult simulated;           ///< cycles, per-queue busy, host seconds (dumps moved to outputs)
  /// Functional mode: the graph outputs asked for (and a session's KV caches), by tensor name.
  std::map<std::string, HostTensor> outputs;

  /// On a system: the chips the step ran on, and each one's cycles (simulated.total_cycles is
  /// then the last chip's end, and scheduled_length the longest chip schedule).
  int chips = 1;
  std::vector<Cycle> chip_cycles;
  std::int64_t c2c_vectors_sent = 0;       ///< over all chips
  std::int64_t c2c_link_busy_cycles = 0;   ///< over all chips' outbound link directions
  std::vector<StageTime> stage_times;      ///< per pipeline stage: span, compute and C2C
  /// Stage reuse (runtime/stage_reuse.hpp): per stage, the stage whose window simulated its
  /// class; empty when every chip was simulated. chips_simulated counts the windows' stage chips.
  std::vector<int> stage_class;
  int chips_simulated = 0;
  std::int64_t simulated_instructions = 0;  ///< what was compiled and simulated (= program_instructions without reuse)

  std::int64_t cycles() const { return simulated.total_cycles.value(); }
  bool simulated_equals_scheduled() const { return simulated.total_cycles == scheduled_length; }
  /// Cycles per model layer, from the compiler's per-node layer attribution.
  std::vector<std::int64_t> layer_cycles() const { return lowering.cycles_per_layer(); }
};

/// Compiles nothing: simulates an already compiled program. `inputs` (graph tensor name ->
/// row-major values) are packed into their tiles; in functional mode the `outputs` (graph
/// tensor names) are unpacked from the run. A schedule hazard is a compiler bug
/// (std::logic_error).
StepResult run_compiled(const ChipConfig& chip, CompileResult compiled, RunMode mode,
                        const std::map<std::string, std::vector<float>>& inputs, const std::vector<std::string>& outputs,
                        const std::string& name);

struct SessionOptions {
  RunMode mode = RunMode::Functional;
  WeightType weights = WeightType::Fp16;
  /// Where int8/fp8 weights are multiplied (natively, or dequantised into an fp16 MXM).
  MatmulCompute compute = MatmulCompute::Native;
  /// Each weight stored as the checkpoint's quantization_config says, instead of `weights`.
  bool checkpoint_weights = false;
  /// Whether the compile quantises activations with calibrated per-tensor scales (int8 or
  /// fp8 weights multiplied natively).
  bool calibrated() const {
    return (weights != WeightType::Fp16 || checkpoint_weights) && compute == MatmulCompute::Native;
  }
  std::int64_t batch = 1;    ///< sequences run together, each with its own KV cache
  std::int64_t context = 0;  ///< positions each sequence reaches (its KV cache is checked for them up front)
  /// The prefill computes only each sequence's last output row (generation needs only the last
  /// token's logits); verification compares every row.
  bool prefill_last_rows_only = false;
  /// Calibrated (int8 or fp8 natively), functional: the token ids (batch x prompt, sequence-major) whose activations
  /// calibrate the prefill's activation scales; later steps reuse the prefill's scales, as a
  /// deployed model keeps fixed ones. Empty: the prompt itself.
  std::vector<int> calibration_ids;
  /// More than one chip: every step's graph is cut by this plan (partition_graph), compiled
  /// for `system` (compile_system) and simulated on its first plan.chips() chips.
  PartitionPlan plan;
  std::optional<SystemConfig> system;
  /// Timing-only steps on a pipeline: simulate every chip, not each class of identical
  /// stages once (runtime/stage_reuse.hpp). Functional steps always simulate every chip.
  bool simulate_every_chip = false;
};

/// A batch of sequences of one transformer on one chip.
class TransformerSession {
 public:
  /// Checks that the model fits one chip before anything is compiled: first its weights (the
  /// error says how many chips they need), then the KV caches of `batch` sequences of
  /// `context` positions in the activation SRAM (InputError either way).
  TransformerSession(const TransformerSpec& spec, const ChipConfig& chip, SessionOptions options);

  /// The prompt: `prompts[b]` is sequence b's token ids (functional mode; all of
  /// `prompt_length`), ignored in timing mode.
  StepResult prefill(std::int64_t prompt_length, const std::vector<std::vector<int>>& prompts = {});
  /// One token per sequence at the current position (`tokens[b]` for sequence b in
  /// functional mode), attending to the cached positions; the caches grow by one.
  StepResult decode(const std::vector<int>& tokens = {});
  /// Timing mode only: continue as if `position` positions were cached.
  void seek(std::int64_t position);
  /// Timing mode only: `tokens` more prompt tokens per sequence at the current position (a
  /// chunk of a prompt, attending to the positions cached before it), with only each
  /// sequence's last row of logits if prefill_last_rows_only.
  StepResult prefill_chunk(std::int64_t tokens);

  std::int64_t position() const { return position_; }
  /// Int8, functional: the activation scales the prefill calibrated, by matmul node name.
  const std::map<std::string, double>& activation_scales() const { return act_scales_; }
  /// The graph output a step returns: "logits", or an encoder's "hidden".
  std::string output_name() const { return spec_.has_lm_head ? "logits" : "hidden"; }

 private:
  StepResult run_step(const std::string& name, std::int64_t tokens, const std::vector<int>& ids, bool last_rows_only);
  StepResult run_system_step(const std::string& name, Graph graph, std::int64_t tokens, const std::vector<int>& ids,
                             bool last_rows_only);
  /// The host's embedding lookup: every Gather of the graph (token and token-type tables) as
  /// the rows of its table, by the name of the host input it becomes.
  std::map<std::string, std::vector<float>> embedding_rows(const Graph& graph, const std::vector<int>& ids);

  TransformerSpec spec_;
  ChipConfig chip_;
  SessionOptions options_;
  std::int64_t position_ = 0;
  std::map<std::string, std::vector<float>> caches_;  ///< functional: each KV cache's rows so far
  std::vector<std::map<std::string, std::vector<float>>> chip_caches_;  ///< the same per chip, on a system
  std::map<std::string, double> act_scales_;
  std::map<std::string, std::vector<float>> tables_;  ///< embedding tables, made once
};

}  // namespace lpusim
