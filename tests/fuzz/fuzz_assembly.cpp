// Fuzzes the assembler and the binder: any text must either parse and bind, or be refused
// with an InputError. Anything else (a crash, a sanitizer finding, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "engine/exec/bind.hpp"
#include "arch/isa/program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lpusim::ChipConfig chip = lpusim::load_chip_config(LPUSIM_TSP_V1);
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The file reader refuses NUL bytes before the parser sees the text.
  if (text.find('\0') != std::string::npos) return 0;
  try {
    const lpusim::Program program = lpusim::parse_program(text, "fuzz.s");
    (void)lpusim::print_program(program);
    (void)lpusim::bind_program(program, chip);
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
