// The serving cost model (sim/runtime/serving_model.hpp) on hand-made measurements: every
// expectation is derived in the comments from the inputs, so a change to a formula fails here.
#include <catch2/catch.hpp>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "runtime/serving_model.hpp"

using namespace lpusim;
using Catch::Matchers::WithinRel;

namespace {
// tsp-v1 as bundled: 900 MHz, 4 planes of 320 x 320 MXM cells, fp16 at 1/4 rate, host link
// 10 us + bytes / 24 GB/s, SRAM 2 x 44 slices x 8192 words x 320 bytes = 230,686,720 bytes.
ChipConfig chip() { return load_chip_config(LPUSIM_TSP_V1); }

TransformerSpec decoder() {
  TransformerSpec s;
  s.hidden = 768;
  s.vocab_size = 50257;
  s.has_lm_head = true;
  s.causal = true;
  return s;
}

TransformerSpec encoder() {
  TransformerSpec s = decoder();
  s.has_lm_head = false;
  s.causal = false;
  return s;
}

Scenario scenario() {
  Scenario s;
  s.weights = WeightType::Int8;
  s.batch = 2;
  s.prompt_length = 16;
  s.generation_length = 8;
  return s;
}
}  // namespace

TEST_CASE("the host link is the chip config's: 10 us + bytes / 24 GB/s", "[serving]") {
  const ChipConfig c = chip();
  CHECK(c.host_link_latency_us == 10.0);
  CHECK(c.host_link_gbytes_per_s == 24.0);
  // 24 GB/s = 24,000 bytes per us: 48,000 bytes take 2 us after the 10 us latency.
  CHECK_THAT(c.host_transfer_us(48000.0), WithinRel(12.0, 1e-12));
  CHECK_THAT(c.host_transfer_us(0.0), WithinRel(10.0, 1e-12));
}

TEST_CASE("a chip file's host_link section replaces the defaults", "[serving][config]") {
  auto j = load_user_json(LPUSIM_TSP_V1);
  j["host_link"] = {{"latency_us", 2.5}, {"gbytes_per_s", 64}};
  const ChipConfig c = parse_chip_config(j, "chip.json");
  // 2.5 us + 128,000 bytes / 64,000 bytes per us = 4.5 us.
  CHECK_THAT(c.host_transfer_us(128000.0), WithinRel(4.5, 1e-12));
  j["host_link"] = {{"latency_us", 2.5}, {"gbytes_per_s", 0}};
  CHECK_THROWS_WITH(parse_chip_config(j, "chip.json"), Catch::Contains("host_link.gbytes_per_s"));
  j["host_link"] = {{"latency_us", 2.5}, {"gbytes_per_s", 64}, {"bandwidth", 1}};
  CHECK_THROWS_WITH(parse_chip_config(j, "chip.json"), Catch::Contains("host_link.bandwidth': unknown key"));
}

TEST_CASE("a decoder's time to first token, per-token latency and tokens/s", "[serving]") {
  const ChipConfig c = chip();
  const Scenario s = scenario();
  CHECK(s.decode_past() == 20);  // 16 prompt + 8 / 2 generated
  CHECK(s.context(true) == 24);
  // Decode: 45,000 cycles; 184,320,000 weight MACs (the batch of 2 through 92.16 M weights).
  const ServingEstimate e = estimate_serving(c, decoder(), s, PhaseMeasurement{90000, 0},
                                             PhaseMeasurement{45000, 184320000}, SramUse{100000000, 15343360});
  CHECK(e.generates);
  // Prefill on chip: 90,000 cycles / 900 MHz = 100 us.
  CHECK_THAT(e.prefill_latency_us, WithinRel(100.0, 1e-12));
  // Prompt rows in: 2 sequences x 16 tokens x 768 x 4 bytes = 98,304 bytes: 10 + 4.096 us.
  CHECK_THAT(e.prompt_transfer_us, WithinRel(14.096, 1e-12));
  // First token: rows in + prefill + the last logits row of each sequence out
  // (2 x 50,257 x 4 = 402,056 bytes: 10 + 16.752333 us) = 14.096 + 100 + 26.752333.
  CHECK_THAT(e.time_to_first_token_us, WithinRel(140.848333333, 1e-9));
  // Decode step: 45,000 / 900 = 50 us on chip; with a row in per sequence (6,144 bytes:
  // 10.256 us) and the logits rows out (26.752333 us): 87.008333 us per token for each user.
  CHECK_THAT(e.decode_latency_us, WithinRel(50.0, 1e-12));
  CHECK_THAT(e.token_latency_us, WithinRel(87.008333333, 1e-9));
  CHECK_THAT(e.tokens_per_s_per_user, WithinRel(1e6 / 87.008333333, 1e-9));
  CHECK_THAT(e.tokens_per_s, WithinRel(2e6 / 87.008333333, 1e-9));
  // MACs over the int8 peak: 184,320,000 / (45,000 cycles x 409,600 MACs per cycle) = 1%.
  CHECK_THAT(e.mac_utilisation_percent, WithinRel(1.0, 1e-12));
  // SRAM: (100,000,000 + 15,343,360) / 230,686,720 = 50%.
  CHECK(e.sram_capacity_bytes == 230686720);
  CHECK_THAT(e.sram_used_percent, WithinRel(50.0, 1e-12));
  CHECK(e.sequences_per_s == 0.0);  // not an encoder's figure
}

TEST_CASE("fp16 weights are measured against the MXM's fp16 peak", "[serving]") {
  Scenario s = scenario();
  s.weights = WeightType::Fp16;
  const ServingEstimate e = estimate_serving(chip(), decoder(), s, PhaseMeasurement{90000, 0},
                                             PhaseMeasurement{45000, 184320000}, SramUse{});
  // The fp16 peak is 409,600 / 4 = 102,400 MACs per cycle: the same work is 4% of it.
  CHECK_THAT(e.mac_utilisation_percent, WithinRel(4.0, 1e-12));
  CHECK(mxm_peak_macs_per_cycle(chip(), WeightType::Int8) == 409600.0);
}

TEST_CASE("an encoder's per-sequence latency and sequences/s, no decode step", "[serving]") {
  const Scenario s = scenario();
  CHECK(s.context(false) == 16);  // an encoder's caches hold the prompt only
  const ServingEstimate e =
      estimate_serving(chip(), encoder(), s, PhaseMeasurement{90000, 368640000}, std::nullopt, SramUse{});
  CHECK_FALSE(e.generates);
  // Rows in (98,304 bytes: 14.096 us) + 100 us on chip + every token's hidden state out
  // (2 x 16 x 768 x 4 = 98,304 bytes: 14.096 us) = 128.192 us for the batch.
  CHECK_THAT(e.sequence_latency_us, WithinRel(128.192, 1e-12));
  CHECK_THAT(e.sequences_per_s, WithinRel(2e6 / 128.192, 1e-12));
  // 368,640,000 / (90,000 x 409,600) = 1%.
  CHECK_THAT(e.mac_utilisation_percent, WithinRel(1.0, 1e-12));
  CHECK(e.tokens_per_s == 0.0);
  CHECK(e.time_to_first_token_us == 0.0);
}

TEST_CASE("a decoder without a decode measurement is a caller's bug", "[serving]") {
  CHECK_THROWS_AS(estimate_serving(chip(), decoder(), scenario(), PhaseMeasurement{1, 0}, std::nullopt, SramUse{}),
                  std::logic_error);
}
