#pragma once
// Tensor values for inputs and dumps: fills declared in the program, input files given on
// the command line, and the text format results are dumped in. Plain C++.
#include <string>
#include <vector>

#include "engine/exec/sim_result.hpp"
#include "engine/exec/bind.hpp"

namespace lpusim {

/// Host bytes of one tensor's values (vectors x lanes doubles); UINT64_MAX on overflow.
std::uint64_t tensor_host_bytes(const BoundTensor& tensor, int lanes);

/// An upper bound on the host memory a run needs beyond the parsed program: tensor values
/// (fills, inputs, dumps), the SRAM pages tensors and MEM writes can touch, and trace events.
/// Saturates at UINT64_MAX. The simulator refuses a run whose bound exceeds the budget
/// (limits::require_host_memory) before it allocates any of it.
std::uint64_t run_host_bytes(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options);

/// Values of a tensor's fill (vectors x lanes, row-major). Integer ramps wrap to the type;
/// random fills are deterministic in the seed (uniform over the integer type, [-1, 1) for floats).
std::vector<double> fill_values(const BoundTensor& tensor, int lanes);

/// Reads an input file for `tensor`: text (numbers separated by blanks, commas or newlines)
/// or, for a path ending in .bin, raw little-endian elements. The count must be vectors x lanes
/// and each value must fit the type. Errors are InputError naming the file.
std::vector<double> read_tensor_file(const std::string& path, const BoundTensor& tensor, int lanes);

/// Decodes the contents of an input file (what read_tensor_file does after reading it and
/// checking the host memory the values need).
std::vector<double> parse_tensor_data(const std::string& data, bool binary, const std::string& path,
                                      const BoundTensor& tensor, int lanes);

/// One line per vector, lanes separated by blanks, values printed exactly.
std::string format_tensor(const std::vector<double>& values, int lanes);

}  // namespace lpusim
