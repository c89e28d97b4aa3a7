#include "runtime/serving_model.hpp"

#include <stdexcept>

namespace lpusim {

double mxm_peak_macs_per_cycle(const ChipConfig& chip, WeightType weights) {
  const double cells = static_cast<double>(chip.mxm_planes) * chip.mxm_rows * chip.mxm_cols;
  switch (weights) {
    case WeightType::Int8: return cells;
    case WeightType::Fp8E4M3:
    case WeightType::Fp8E5M2: return chip.mxm_fp8_rate_divisor > 0 ? cells / chip.mxm_fp8_rate_divisor : 0.0;
    case WeightType::Fp16: break;
  }
  return cells / chip.mxm_fp16_rate_divisor;
}

ServingEstimate estimate_serving(const ChipConfig& chip, const TransformerSpec& spec, const Scenario& scenario,
                                 const PhaseMeasurement& prefill, const std::optional<PhaseMeasurement>& decode,
                                 const SramUse& sram) {
  ServingEstimate e;
  e.generates = spec.causal;
  const double mhz = chip.clock_mhz;
  const double batch = static_cast<double>(scenario.batch);
  const double prompt = static_cast<double>(scenario.prompt_length);
  // Host traffic is fp32: the gathered embedding rows in, output rows out.
  const double row_in_bytes = static_cast<double>(spec.hidden) * 4.0;
  const double row_out_bytes = static_cast<double>(spec.has_lm_head ? spec.vocab_size : spec.hidden) * 4.0;
  auto utilisation = [&](const PhaseMeasurement& m) {
    return 100.0 * static_cast<double>(m.weight_macs) /
           (static_cast<double>(m.cycles) * mxm_peak_macs_per_cycle(chip, scenario.mxm_type()));
  };

  e.prefill_latency_us = static_cast<double>(prefill.cycles) / mhz;
  e.prompt_transfer_us = chip.host_transfer_us(row_in_bytes * prompt * batch);
  if (e.generates) {
    if (!decode) throw std::logic_error("estimate_serving: a decoder needs a decode step's measurement");
    // The first token needs only each sequence's last logits row.
    e.time_to_first_token_us = e.prompt_transfer_us + e.prefill_latency_us + chip.host_transfer_us(row_out_bytes * batch);
    e.decode_latency_us = static_cast<double>(decode->cycles) / mhz;
    e.token_latency_us = chip.host_transfer_us(row_in_bytes * batch) + e.decode_latency_us +
                         chip.host_transfer_us(row_out_bytes * batch);
    e.tokens_per_s_per_user = 1e6 / e.token_latency_us;
    e.tokens_per_s = e.tokens_per_s_per_user * batch;
    e.mac_utilisation_percent = utilisation(*decode);
  } else {
    // An encoder returns every token's final hidden state.
    e.sequence_latency_us =
        e.prompt_transfer_us + e.prefill_latency_us + chip.host_transfer_us(row_out_bytes * prompt * batch);
    e.sequences_per_s = 1e6 / e.sequence_latency_us * batch;
    e.mac_utilisation_percent = utilisation(prefill);
  }
  e.sram = sram;
  e.sram_capacity_bytes = chip.sram_bytes();
  e.sram_used_percent =
      100.0 * static_cast<double>(sram.weight_bytes + sram.activation_bytes) / static_cast<double>(e.sram_capacity_bytes);
  return e;
}

}  // namespace lpusim
