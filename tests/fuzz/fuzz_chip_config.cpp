// Fuzzes the strict JSON layer and the chip configuration loader: any text must load or be
// refused with an InputError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') != std::string::npos) return 0;  // refused by read_user_text_file
  try {
    const auto config = lpusim::parse_chip_config(lpusim::parse_user_json(text, "fuzz.json"), "fuzz.json");
    (void)config.sram_bytes();
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
