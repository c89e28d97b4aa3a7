#pragma once
// What a model costs one chip, known before anything is compiled or run: whether it fits
// (its weights, then its KV caches, against the memory plan's capacity) and the weight MACs
// of a step. Plain C++ (no simulator).
#include <cstdint>

#include "arch/config/chip_config.hpp"
#include "compiler/ir/graph.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

/// The model must fit one chip, checked in this order so that the message a user gets is the
/// one that matters: its weights (an InputError naming the chips they need, from
/// check_weights_fit in sim/compiler/lower/chip_capacity.hpp), then the KV caches of `batch`
/// sequences of `positions` positions (check_kv_caches_fit).
/// With `checkpoint_weights`, each weight counts as its quantized checkpoint stores it.
void check_model_fits(const TransformerSpec& spec, const ChipConfig& chip, WeightType weights, std::int64_t batch,
                      std::int64_t positions, bool checkpoint_weights = false);

/// The KV caches of `batch` sequences of `positions` positions each must fit in the
/// activation SRAM that the memory plan places them in (chip_capacity); otherwise an
/// InputError naming what they need, what one chip holds and how many sequences would fit.
/// A necessary condition: activations need room too, and the lowering says when they lack it.
void check_kv_caches_fit(const TransformerSpec& spec, const ChipConfig& chip, std::int64_t batch, std::int64_t positions);

/// Multiply-accumulates of a graph's weight matmuls (rows x in x out each; a mixture of
/// experts counts its router and the top_k experts each row is routed to). Attention's
/// products with the KV cache are not weight MACs.
std::int64_t weight_macs(const Graph& graph);

}  // namespace lpusim
