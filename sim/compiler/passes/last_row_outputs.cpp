// last_row_outputs: a prefill needs only the last token's logits to pick the next token, so
// each output a matmul computes from a multi-row input is computed from the last row of each
// sequence instead (the graph's rows are `sequences` equal-length sequences one after
// another). A row slice per sequence (a free view in the lowering), joined by a row concat
// when there are several, feeds the matmul; its output becomes [sequences, N].
#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

void keep_last_output_rows(Graph& g, std::int64_t sequences) {
  if (sequences < 1) throw InputError(fmt::format("{} sequences: a batch needs at least one", sequences));
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind != OpKind::MatMul || g.nodes[i].outputs.empty()) continue;
    const int out_id = g.nodes[i].outputs[0], x_id = g.nodes[i].inputs[0];
    const auto x_shape = g.tensors[static_cast<std::size_t>(x_id)].shape;
    if (g.tensors[static_cast<std::size_t>(out_id)].role != TensorRole::Output || x_shape.size() != 2 ||
        x_shape[0] % sequences != 0 || x_shape[0] / sequences < 2)
      continue;
    const std::int64_t per_sequence = x_shape[0] / sequences;
    const std::string x_name = g.tensors[static_cast<std::size_t>(x_id)].name;
    const int layer = g.nodes[i].layer;
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
      slice.layer = layer;
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
      concat.layer = layer;
      concat.attrs = {{"axis", std::int64_t{0}}};
      inserted.push_back(concat);
    }
    g.nodes[i].inputs[0] = matmul_input;
    auto& out_shape = g.tensors[static_cast<std::size_t>(out_id)].shape;
    if (out_shape.size() == 2) out_shape[0] = sequences;
    g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(i), inserted.begin(), inserted.end());
    i += inserted.size();
  }
}

}  // namespace lpusim
