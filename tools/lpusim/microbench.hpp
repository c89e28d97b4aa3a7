#pragma once
// Programs for `lpusim bench`, generated in C++ so that their size is a parameter.
#include <cstdint>
#include <string>

#include "arch/config/chip_config.hpp"

namespace lpusim {

struct MicrobenchShape {
  std::int64_t cycles = 16384;  ///< steady-state cycles of streaming (a multiple of `block`)
  int block = 256;              ///< words each read/write sweeps before starting over
  /// MEM -> VXM -> MEM streams (one VXM ALU each); 0: as many as the chip has (16 on TSP v1).
  int streams = 0;
};

/// MEM -> VXM -> MEM streaming, hazard-free: every cycle 2 x (VXM ALUs) west MEM slices
/// each read one int8 word onto an eastward stream, every VXM ALU adds two of them, and
/// (VXM ALUs) east MEM slices write the sums. With 16 ALUs that is 64 instructions a cycle
/// (32 reads, 16 adds, 16 writes), all expressed with `repeat`. Needs a chip with at least
/// 2 x alus eastward streams and west slices. With `streams` = 1 it is one stream: 4
/// instructions a cycle, 4 of the chip's queues busy. Returns assembly text.
std::string stream_microbenchmark(const ChipConfig& chip, const MicrobenchShape& shape);

/// Instructions the microbenchmark issues (the bench checks the simulator agrees).
std::int64_t microbenchmark_instructions(const ChipConfig& chip, const MicrobenchShape& shape);

}  // namespace lpusim
