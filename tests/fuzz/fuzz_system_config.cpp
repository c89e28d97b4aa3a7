// Fuzzes the multi-chip system loader (topologies, link classes, routes): any text must load
// into a system whose routes exist between every chip pair it samples, or be refused with an
// InputError. The file's "chip" always resolves to tsp-v1 (no other file is read).
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/config/json_input.hpp"
#include "arch/config/system_config.hpp"
#include "arch/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') != std::string::npos) return 0;  // refused by read_user_text_file
  try {
    const auto resolve = [](const std::string&, const std::string&) { return std::string(LPUSIM_TSP_V1); };
    const auto system = lpusim::parse_system_config(lpusim::parse_user_json(text, "system.json"), "system.json", resolve);
    // A few routes, from chip 0 and to the last chip: every hop must join linked chips.
    const int last = system.chips - 1;
    for (int dst : {0, last / 2, last}) {
      for (const auto& hop : system.route(lpusim::ChipId(0), lpusim::ChipId(dst))) (void)system.link_class_of(hop.link);
      (void)system.route(lpusim::ChipId(dst), lpusim::ChipId(last));
    }
    (void)system.min_link_latency();
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
