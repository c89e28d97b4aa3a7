// Fuzzes the Hugging Face config.json front end: any text must parse into a TransformerSpec
// and be costed on tsp-v1 (its one-layer graph built, decomposed and estimated), or be
// refused with an InputError. A std::logic_error (a graph verifier failure) or a crash is a
// bug. The host-memory guard is lowered so that a config the cost check lets through cannot
// exceed the fuzzer's own RSS limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "frontend/transformer_cost.hpp"
#include "frontend/transformer_spec.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("LPUSIM_MAX_HOST_BYTES", "536870912", 1);  // 512 MiB, under run.sh's -rss_limit_mb=2048
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lpusim::ChipConfig chip = lpusim::load_chip_config(LPUSIM_TSP_V1);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') != std::string::npos) return 0;  // refused by read_user_text_file
  try {
    const auto spec = lpusim::transformer_spec_from_json(lpusim::parse_user_json(text, "config.json"), "config.json");
    (void)spec.parameters();
    // A short prefill and a decode step, as compile and estimate cost them.
    (void)lpusim::require_transformer_fits(spec, chip, lpusim::WeightType::Int8, false, {2, 0, 1});
    (void)lpusim::require_transformer_fits(spec, chip, lpusim::WeightType::Fp16, false, {1, 3, 2});
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
