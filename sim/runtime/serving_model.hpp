#pragma once
// The serving cost model: what a user of a served model sees (tokens per second, time to
// first token, per-token latency), from the simulated cycles of the prefill and a decode step,
// the chip (its clock, MXM and host link) and the scenario the user asks about. Every
// on-chip time is a simulated cycle count; the only time not simulated is the host link,
// charged as the chip config's host_link (latency + bytes / rate, each way).
#include <cstdint>
#include <optional>

#include "arch/config/chip_config.hpp"
#include "compiler/ir/graph.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

/// What the user asks about: a model served at a batch, prompt and generation length.
struct Scenario {
  WeightType weights = WeightType::Int8;
  MatmulCompute compute = MatmulCompute::Native;  ///< fp16: low-precision weights multiplied in an fp16 MXM
  /// Weights as the quantized checkpoint stores them (fp8 and MXFP4-in-fp8: the fp8 rate).
  bool checkpoint_weights = false;
  /// The type the MXM multiplies in, for its peak rate.
  WeightType mxm_type() const {
    if (compute == MatmulCompute::Fp16) return WeightType::Fp16;
    return checkpoint_weights ? WeightType::Fp8E4M3 : weights;
  }
  std::int64_t batch = 1;              ///< sequences served together, one token each per decode step
  std::int64_t prompt_length = 64;     ///< tokens per prompt
  std::int64_t generation_length = 64; ///< tokens generated per sequence (decoders)
  /// On a pipeline: simulate every chip, not each class of identical stages once (--full).
  bool simulate_every_chip = false;
  /// The prompt is prefilled in chunks of this many tokens (0: whole), each chunk a step of
  /// its own attending to the chunks before it: what a prompt too large to compile at once
  /// is simulated as (chunks run one after another).
  std::int64_t prefill_chunk_tokens = 0;

  /// Positions each sequence's KV cache reaches: the prompt and, for a decoder, every
  /// generated token.
  std::int64_t context(bool generates) const { return prompt_length + (generates ? generation_length : 0); }
  /// The decode step that stands for all of them: in the middle of generation, when
  /// prompt + generation / 2 positions are cached (a decode step's attention grows with the
  /// cache, its weight work does not).
  std::int64_t decode_past() const { return prompt_length + generation_length / 2; }
};

/// What the serving model needs of one simulated program.
struct PhaseMeasurement {
  std::int64_t cycles = 0;       ///< simulated
  std::int64_t weight_macs = 0;  ///< multiply-accumulates of its weight matmuls (all sequences)
};

/// SRAM the compiled model takes on the chip (the lowering's statistics).
struct SramUse {
  std::int64_t weight_bytes = 0;      ///< weights and the compiler's constants
  std::int64_t activation_bytes = 0;  ///< activations and KV caches
};

struct ServingEstimate {
  bool generates = true;  ///< a decoder (prefill then decode steps); false: an encoder

  // The prompt: every sequence's prompt in one program.
  double prefill_latency_us = 0;      ///< on chip
  double prompt_transfer_us = 0;      ///< the embedded prompt rows to the chip (the embedding lookup is on the host)
  double time_to_first_token_us = 0;  ///< decoders: prompt rows in + prefill + each sequence's last logits row out

  // Decoders: one decode step gives every sequence of the batch its next token.
  double decode_latency_us = 0;       ///< one step on chip
  double token_latency_us = 0;        ///< the step with host I/O (a row in, a logits row out per sequence): each user's per-token latency
  double tokens_per_s_per_user = 0;   ///< 1 / token_latency
  double tokens_per_s = 0;            ///< all sequences of the batch

  // Encoders: one program takes every sequence's tokens to its final hidden states.
  double sequence_latency_us = 0;     ///< rows in + encoder on chip + every token's hidden state out
  double sequences_per_s = 0;         ///< batch / sequence_latency

  /// Weight MACs over the MXM's peak for the weight type during the measured program: the
  /// decode step (decoders) or the whole encoder.
  double mac_utilisation_percent = 0;

  SramUse sram;
  std::int64_t sram_capacity_bytes = 0;
  double sram_used_percent = 0;
};

/// `decode` is required for a decoder (spec.causal) and ignored for an encoder.
ServingEstimate estimate_serving(const ChipConfig& chip, const TransformerSpec& spec, const Scenario& scenario,
                                 const PhaseMeasurement& prefill, const std::optional<PhaseMeasurement>& decode,
                                 const SramUse& sram);

/// The MXM's peak multiply-accumulates per cycle for a weight type: every cell of every plane
/// for int8, 1 / fp16_rate_divisor of that for fp16, 1 / fp8_rate_divisor for fp8.
double mxm_peak_macs_per_cycle(const ChipConfig& chip, WeightType weights);

}  // namespace lpusim
