#pragma once
// One case of a regression suite (docs/regression.md): a program, graph or model on a chip in
// a mode, read from NAME.case.json; what simulating it measures (cycles, instructions per
// unit, a checksum of its outputs); and the golden NAME.golden.json it is compared against.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lpusim::cli::regress {

struct RegressionCase {
  enum class Kind { Program, Graph, Model };
  std::string name;         ///< NAME of NAME.case.json
  std::string file;         ///< the case file
  std::string golden_file;  ///< NAME.golden.json beside it
  std::string description;
  Kind kind = Kind::Program;
  std::string source;       ///< absolute path of the program, graph or model config
  std::string chip_path;
  bool functional = true;   ///< functional mode (outputs checked) or timing only
  // Graphs and models:
  std::string weights = "fp16";
  // Models:
  std::string phase = "decode";
  std::int64_t prompt_len = 8;  ///< prefill: prompt tokens; decode: cached positions
  std::int64_t batch = 1;
  /// Models on a system of chips: the partition plan and the system (a bundled name or a
  /// path; groq-node when tp x pp > 1 and none is given). The measurement is the system's:
  /// its last chip's end, instructions over all chips, a checksum over every chip's outputs.
  int tp = 1, pp = 1;
  std::string system_path;
};

/// What a run of a case gives; the fields a golden holds.
struct Measurement {
  std::int64_t total_cycles = 0;
  std::int64_t instructions = 0;
  std::map<std::string, std::int64_t> unit_instructions;  ///< mem, vxm, mxm, sxm, c2c
  std::optional<std::string> output_checksum;             ///< functional runs only
};

/// Reads NAME.case.json strictly (InputError naming the file and key, exit 2).
RegressionCase load_case(const std::string& path);

/// Compiles (graphs, models) and simulates the case in a forked child process. Throws
/// std::runtime_error with the child's one-line reason when it fails.
Measurement run_case(const RegressionCase& c);

nlohmann::json measurement_json(const Measurement& m);
/// Reads a golden file (InputError naming it when malformed).
Measurement load_golden(const std::string& path);

}  // namespace lpusim::cli::regress
