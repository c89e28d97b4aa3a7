#pragma once
// Tensor values for inputs and dumps: fills declared in the program, input files given on
// the command line, and the text format results are dumped in. Plain C++.
#include <string>
#include <vector>

#include "isa/bind.hpp"

namespace lpusim {

/// Values of a tensor's fill (vectors x lanes, row-major). Integer ramps wrap to the type;
/// random fills are deterministic in the seed (uniform over the integer type, [-1, 1) for floats).
std::vector<double> fill_values(const BoundTensor& tensor, int lanes);

/// Reads an input file for `tensor`: text (numbers separated by blanks, commas or newlines)
/// or, for a path ending in .bin, raw little-endian elements. The count must be vectors x lanes
/// and each value must fit the type. Errors are InputError naming the file.
std::vector<double> read_tensor_file(const std::string& path, const BoundTensor& tensor, int lanes);

/// One line per vector, lanes separated by blanks, values printed exactly.
std::string format_tensor(const std::vector<double>& values, int lanes);

}  // namespace lpusim
