// Fuzzes the JSON graph loader and shape inference, then the cost estimates, decompose and
// the pass verifier: any text must load and decompose into a graph the verifier accepts, or
// be refused with an InputError. The lowering is not run (it needs seconds on large graphs);
// the cost checks that guard it are.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "compiler/cost/compile_cost.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/passes/passes.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("LPUSIM_MAX_HOST_BYTES", "536870912", 1);  // 512 MiB, under run.sh's -rss_limit_mb=2048
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lpusim::ChipConfig chip = lpusim::load_chip_config(LPUSIM_TSP_V1);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') != std::string::npos) return 0;  // refused by read_user_text_file
  try {
    lpusim::Graph graph = lpusim::graph_from_json(lpusim::parse_user_json(text, "graph.json"), "graph.json");
    lpusim::infer_shapes(graph);
    lpusim::verify_graph(graph, "shape_inference");
    const auto weights = lpusim::WeightType::Fp16;
    lpusim::require_compile_fits(lpusim::estimate_graph_cost(graph, chip, weights), chip, weights, "graph.json");
    lpusim::Graph primitive = lpusim::decompose(graph);
    lpusim::verify_graph(primitive, "decompose");
    lpusim::plan_quantization(primitive, weights);
    primitive = lpusim::fuse_pointwise(primitive);
    lpusim::verify_graph(primitive, "fuse_pointwise");
    (void)lpusim::estimate_primitive_cost(primitive, chip, weights, false);
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
