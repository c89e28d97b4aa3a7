#pragma once
// What compiling a graph will cost, computed from tensor shapes alone before a pass does any
// work: the model's parameters, the SRAM its weights and state take on the chip as the
// lowering stores them, the instructions the lowering will place, and the host memory the
// compile needs. The pipeline refuses a graph that cannot fit or is beyond a limit with an
// InputError (exit code 2) carrying these numbers, before it spends time or memory on it.
// docs/limits.md lists the limits and the measurements behind the host-memory constants.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/core/limits.hpp"
#include "compiler/ir/graph.hpp"

namespace lpusim {

struct CompileCost {
  std::int64_t parameters = 0;          ///< model weight elements (the compiler's constants excluded)
  /// The parameters' bytes, each at the type it is stored in (WeightScenario: 1 for int8 and
  /// fp8, 2 for fp16; with checkpoint_weights as the checkpoint stores it).
  std::int64_t weight_value_bytes = 0;
  /// SRAM words (per slice of a 16-slice weight group) the matmul weights take as the lowering
  /// stores them: per 320-lane input tile and output tile, the output rows in lw words of 16
  /// one-byte (int8, fp8) or 8 fp16 rows. A small matrix takes a whole block's worth of lanes.
  std::int64_t weight_words = 0;
  std::int64_t weight_word_capacity = 0;  ///< 4 planes x words per slice
  /// The most words one output tile of one matmul takes per weight slice (its input tiles'
  /// blocks, every term's): all on one plane (WeightTiling::assign_planes).
  std::int64_t weight_tile_words = 0;
  /// Whether the lowering can place the weights: the plane assignment fails only when no
  /// plane has an output tile's words free, so with 4 x the largest tile's words beyond the
  /// weights' it always finds one (if all four planes lacked room for w words, more than
  /// capacity - 4 w words would be in use).
  bool weights_fit() const;
  std::int64_t weight_sram_bytes = 0;     ///< weight_words x 16 slices x lanes bytes
  std::int64_t weight_sram_capacity = 0;
  /// Activation-slice words (one fp32 vector each, 6 quads) that data loaded before the run
  /// takes: inputs, outputs, state (KV caches), vector weights (norms, biases).
  std::int64_t resident_words = 0;
  std::int64_t resident_word_capacity = 0;  ///< 6 quads x words per slice
  /// The most activation-slice words the step's intermediates hold at once, walking the
  /// primitive graph in the order the lowering places it and freeing each intermediate after
  /// its last reader as the lowering does (lower/lifetimes.hpp); row views own no words.
  /// Primitive costs only (0 from estimate_graph_cost). A lower bound on what the memory plan
  /// needs: its tiles are contiguous in one quad each, so fragmentation can need more.
  std::int64_t peak_intermediate_words = 0;
  /// The most rows one intermediate tile has: each tile's rows are consecutive words of one
  /// quad, so beyond words per slice it cannot be placed at all.
  std::int64_t largest_intermediate_rows = 0;
  std::int64_t words_per_slice = 0;  ///< the chip's, for the check above
  /// Whether the step's resident data and its intermediates' peak fit the activation slices
  /// (the memory plan's own refusal is still the final word: see peak_intermediate_words).
  bool activations_fit() const;
  /// Host bytes of the constant matrices decompose creates (norm sums, rotations, routing).
  std::uint64_t constant_host_bytes = 0;
  /// Instructions the lowering issues (a repeat counts its repeats: LoweredProgram::instructions).
  std::int64_t instructions = 0;
  /// Peak host memory of the compile (graph, constants, schedule, program text).
  std::uint64_t host_bytes = 0;
};

/// Words per weight-group slice (one of a plane's 16 weight slices) of a [k_rows, n_cols]
/// weight (y = x w) as the lowering stores it: for every `lanes`-wide input tile and output
/// tile, the output tile's rows in lw words of 16 one-byte (int8, fp8) or 8 fp16 rows. Bytes on
/// the chip: words x 16 slices x lanes.
std::int64_t weight_block_words(std::int64_t k_rows, std::int64_t n_cols, std::int64_t lanes, bool one_byte);

/// Instructions (issued, a repeat counting its repeats, as LoweredProgram::instructions) one
/// compile may produce: about a minute of lowering and up to 8 GB of host memory, within the
/// host-memory guard (docs/limits.md: gemma-2b's prefill and decode step over 20 chips, about
/// 10 M instructions each, compile in 51 s and peak at 3.7 GB). Beyond it the compile is
/// refused rather than left to run.
constexpr std::int64_t kMaxCompiledInstructions = std::int64_t{1} << 24;
/// Instructions one `lpusim estimate` compiles and simulates over all its compiles (a
/// pipeline's stage windows, a prompt's chunks): about 2.7 x 10^8, some 40 minutes of one
/// core at the lowering's 10^5 instructions a second (estimate llama-2-7b: 1.3 x 10^8 in
/// 18 minutes). Beyond it an estimate is refused before any work.
constexpr std::int64_t kMaxEstimateInstructions = std::int64_t{1} << 28;
// A program's lines are at most its issued instructions: `lpusim run` reads whatever fits.
static_assert(kMaxCompiledInstructions <= limits::kMaxProgramInstructions,
              "lpusim run must read every program lpusim compile writes");

/// Host bytes per issued instruction while compiling (the schedule's queue and stream
/// reservations, the placed instructions, the program): measured 210 B (tiny-llama decode) to
/// 680 B (gpt2 prefill of 32 tokens, whose dense attention fills more stream diagonals), so
/// the estimate is within 2x across that range (docs/limits.md).
constexpr std::uint64_t kCompileHostBytesPerInstruction = 480;
/// Host bytes per instruction of a compiled program simulated in a child process, beyond
/// the compile that made it (estimate of tiny-gpt2 and gpt2: docs/limits.md).
constexpr std::uint64_t kSimulateHostBytesPerInstruction = 150;
/// What every compile holds regardless of size (code, chip, tables): a tiny graph's compile
/// peaks at 10 MiB.
constexpr std::uint64_t kCompileHostBaseBytes = std::uint64_t{8} << 20;

/// Names starting with `prefix` count `times` times: a model costed from one layer of each
/// kind it has, each repeated for the layers of that kind.
struct LayerRepeat {
  std::string prefix;
  std::int64_t times = 1;
};

/// The cost of the graph as a front end made it (shapes inferred, before decompose). A
/// tensor or node whose name starts with `repeat_prefix` counts `repeat` times: a model's
/// cost is its one-layer graph's with "l0." repeated for every layer, so that a config of
/// thousands of layers or experts is judged without building it.
/// Each weight at the type `weights` stores it in (stored_weight_type; a MoE router fp16, as
/// decompose leaves it).
CompileCost estimate_graph_cost(const Graph& graph, const ChipConfig& chip, const WeightScenario& weights,
                                const std::string& repeat_prefix = "", std::int64_t repeat = 1);
CompileCost estimate_graph_cost(const Graph& graph, const ChipConfig& chip, const WeightScenario& weights,
                                const std::vector<LayerRepeat>& repeats);

/// The cost of the primitive graph the lowering gets (after decompose, quantization and
/// fusion): exact SRAM for weights and constants, instruction and host-memory estimates. Each
/// matmul at the format the quantization pass gave it (matmul_format); `weights` prices the
/// parameters' bytes. `functional_data`: the compile generates the model weights' values too
/// (verify).
CompileCost estimate_primitive_cost(const Graph& primitive, const ChipConfig& chip, const WeightScenario& weights,
                                    bool functional_data,
                                    const std::string& repeat_prefix = "", std::int64_t repeat = 1);
CompileCost estimate_primitive_cost(const Graph& primitive, const ChipConfig& chip, const WeightScenario& weights,
                                    bool functional_data, const std::vector<LayerRepeat>& repeats);

/// Refuses (InputError naming `what`, with the numbers) a cost that does not fit the chip,
/// exceeds kMaxCompiledInstructions or the host-memory budget.
void require_compile_fits(const CompileCost& cost, const ChipConfig& chip, const WeightScenario& weights,
                          const std::string& what);

/// The chip parameters the compiler's layout relies on (44 MEM slices per hemisphere, 4 MXM
/// planes of lanes x lanes, 16 weight streams, ...): an InputError naming the chip file and
/// key otherwise. Checked before any pass runs.
void require_compilable_chip(const ChipConfig& chip);

/// Host bytes a timing simulation of a compiled program of `instructions` needs.
std::uint64_t simulation_host_bytes(std::int64_t instructions);

/// "12.3 MB", "4.1 GB", "512 B": a byte count in the unit that shows it best (decimal units,
/// as SRAM sizes are given in docs/chip-config.md).
std::string format_bytes(double bytes);

}  // namespace lpusim
