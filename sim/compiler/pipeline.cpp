#include "compiler/pipeline.hpp"

#include <chrono>

#include <fmt/format.h>

#include "compiler/passes/passes.hpp"
#include "arch/core/error.hpp"

namespace lpusim {

const std::vector<std::string>& pass_names() {
  static const std::vector<std::string> names{"shape_inference", "decompose", "quantization", "calibration",
                                              "fuse_pointwise", "lowering"};
  return names;
}

namespace {
/// For each output produced by a matmul of a multi-row input, multiply only the last row of
/// each of the `sequences` equal-length sequences stacked in its rows.
void keep_last_output_row(Graph& g, std::int64_t sequences) {
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind != OpKind::MatMul || g.nodes[i].outputs.empty()) continue;
    const int out_id = g.nodes[i].outputs[0], x_id = g.nodes[i].inputs[0];
    const auto x_shape = g.tensors[static_cast<std::size_t>(x_id)].shape;
    if (g.tensors[static_cast<std::size_t>(out_id)].role != TensorRole::Output || x_shape.size() != 2 ||
        x_shape[0] % sequences != 0 || x_shape[0] / sequences < 2)
      continue;
    const std::int64_t per_sequence = x_shape[0] / sequences;
    const std::string x_name = g.tensors[static_cast<std::size_t>(x_id)].name;
    std::vector<Node> inserted;
    std::vector<int> last_rows;
    for (std::int64_t b = 0; b < sequences; ++b) {
      TensorInfo last;
      last.name = sequences == 1 ? x_name + ".last_row" : fmt::format("{}.last_row.s{}", x_name, b);
      last.shape = {1, x_shape[1]};
      const int last_id = g.add_tensor(last);
      Node slice;
      slice.kind = OpKind::Slice;
      slice.name = last.name;
      slice.inputs = {x_id};
      slice.outputs = {last_id};
      const std::int64_t row = (b + 1) * per_sequence - 1;
      slice.attrs = {{"axis", std::int64_t{0}}, {"begin", row}, {"end", row + 1}};
      inserted.push_back(slice);
      last_rows.push_back(last_id);
    }
    int matmul_input = last_rows[0];
    if (sequences > 1) {
      TensorInfo joined;
      joined.name = x_name + ".last_rows";
      joined.shape = {sequences, x_shape[1]};
      matmul_input = g.add_tensor(joined);
      Node concat;
      concat.kind = OpKind::Concat;
      concat.name = joined.name;
      concat.inputs = last_rows;
      concat.outputs = {matmul_input};
      concat.attrs = {{"axis", std::int64_t{0}}};
      inserted.push_back(concat);
    }
    g.nodes[i].inputs[0] = matmul_input;
    g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(i), inserted.begin(), inserted.end());
    i += inserted.size();
  }
}
}  // namespace

CompileResult compile_graph(Graph graph, const ChipConfig& chip, const CompileOptions& options) {
  if (!options.dump_after.empty() &&
      std::find(pass_names().begin(), pass_names().end(), options.dump_after) == pass_names().end()) {
    std::string names;
    for (const auto& n : pass_names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("--dump-after {}: no such pass (expected one of {})", options.dump_after, names));
  }
  CompileResult result;
  auto timed = [&](const std::string& pass, auto&& body) {
    const auto start = std::chrono::steady_clock::now();
    body();
    result.pass_seconds[pass] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto dump = [&](const std::string& pass, const Graph& g) {
    if (options.dump_after == pass) result.dump = dump_graph(g);
  };
  if (options.sequences < 1) throw InputError(fmt::format("{} sequences: a batch needs at least one", options.sequences));
  if (options.last_row_outputs) keep_last_output_row(graph, options.sequences);
  timed("shape_inference", [&] { infer_shapes(graph); });
  verify_graph(graph, "shape_inference");
  dump("shape_inference", graph);
  timed("decompose", [&] { result.primitive = decompose(graph); });
  verify_graph(result.primitive, "decompose");
  dump("decompose", result.primitive);
  timed("quantization", [&] { plan_quantization(result.primitive, options.lowering.weights, options.lowering.compute,
                                                     options.lowering.checkpoint_weights); });
  verify_graph(result.primitive, "quantization");
  dump("quantization", result.primitive);
  // Calibration needs weight values; a timing-only compile keeps the default scales (the
  // schedule, and so every cycle count, is the same for any scale).
  timed("calibration", [&] {
    if ((options.lowering.weights != WeightType::Fp16 || options.lowering.checkpoint_weights) &&
        options.lowering.compute == MatmulCompute::Native && options.lowering.functional_data)
      calibrate_int8_scales(result.primitive, options.calibration);
  });
  verify_graph(result.primitive, "calibration");
  dump("calibration", result.primitive);
  if (options.fuse_pointwise) {
    timed("fuse_pointwise", [&] { result.primitive = fuse_pointwise(result.primitive); });
    verify_graph(result.primitive, "fuse_pointwise");
  }
  dump("fuse_pointwise", result.primitive);
  timed("lowering", [&] { result.lowered = lower_graph(result.primitive, chip, options.lowering); });
  if (options.dump_after == "lowering") result.dump = print_program(result.lowered.program);
  return result;
}

}  // namespace lpusim
