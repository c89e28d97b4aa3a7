#include "compiler/lower/chip_capacity.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

ChipCapacity chip_capacity(const ChipConfig& chip) {
  using P = MemoryPlanShape;
  ChipCapacity c;
  c.activation_vectors = 2LL * P::kActivationQuadsPerHemisphere * chip.mem_slice_words;
  c.activation_slices = 2LL * P::kActivationQuadsPerHemisphere * P::kSlicesPerQuad;
  c.activation_bytes = c.activation_vectors * chip.lanes() * 4;
  c.weight_bytes = 2LL * P::kWeightGroupsPerHemisphere * P::kWeightSlicesPerGroup * chip.mem_slice_words *
                   chip.vector_bytes();
  return c;
}

namespace {
std::int64_t model_weight_elements(const Graph& graph) {
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < graph.tensors.size(); ++i)
    if (graph.tensors[i].role == TensorRole::Weight && graph.tensors[i].init != "data")
      elements += graph.elements(static_cast<int>(i));
  return elements;
}
}  // namespace

std::int64_t model_weight_bytes(const Graph& graph, WeightType weights, bool checkpoint_weights) {
  if (!checkpoint_weights) return model_weight_elements(graph) * weight_type_bytes(weights);
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < graph.tensors.size(); ++i) {
    const TensorInfo& t = graph.tensors[i];
    if (t.role == TensorRole::Weight && t.init != "data")
      bytes += graph.elements(static_cast<int>(i)) * (t.checkpoint_format.empty() ? 2 : 1);
  }
  return bytes;
}

void check_weights_fit(const Graph& graph, const ChipConfig& chip, WeightType weights, bool checkpoint_weights) {
  if (model_weight_bytes(graph, weights, checkpoint_weights) > chip_capacity(chip).weight_bytes)
    fail_weight_capacity(graph, chip, weights, "the model", checkpoint_weights);
}

void fail_weight_capacity(const Graph& graph, const ChipConfig& chip, WeightType weights, const std::string& what,
                          bool checkpoint_weights) {
  const auto elements = static_cast<double>(model_weight_elements(graph));
  const auto total = static_cast<double>(model_weight_bytes(graph, weights, checkpoint_weights));
  const int bytes = weight_type_bytes(weights);
  const std::string per_weight = checkpoint_weights ? fmt::format("{:.2f} bytes each, as the checkpoint stores them", total / elements)
                                                    : fmt::format("{} byte{} each", bytes, bytes == 1 ? "" : "s");
  const double sram = static_cast<double>(chip.sram_bytes());
  // A quarter of each chip is left for activations, KV caches and the compiler's constants.
  const auto chips = static_cast<std::int64_t>(std::ceil(total / (sram * 0.75)));
  throw InputError(fmt::format("{}: {} does not fit in one {} chip: the weights alone are {:.1f} MB of {:.1f} MB SRAM "
                               "({}); about {} chips are needed (lpusim estimate spreads such a model over a "
                               "system; --tp/--pp choose the plan)", graph.file.empty() ? graph.name : graph.file, what, chip.name,
                               total / 1e6, sram / 1e6, per_weight, std::max<std::int64_t>(chips, 2)));
}

}  // namespace lpusim
