#pragma once
// Deterministic weight values for a graph's Weight tensors, so the compiler (which loads
// them into simulated SRAM) and the reference forward pass (sim/frontend/reference_transformer.hpp) see
// the same numbers without any weight file. Plain C++.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"

namespace lpusim {

/// The values of a weight tensor, row-major, from its init description: "ones", "zeros", or
/// "random" = uniform in [-init_scale, init_scale] from a splitmix64 stream seeded by `seed`.
/// Every value is rounded to the nearest fp16-representable float, so storing the weights
/// as fp16 on the chip loses nothing. An unknown init kind throws InputError.
std::vector<float> make_weight_values(const TensorInfo& tensor);

/// Values of weight tensor `tensor`: the graph's explicit values, or its deterministic init.
std::vector<float> weight_values(const Graph& graph, int tensor);

/// A 64-bit seed from a tensor name (FNV-1a), distinct per name in practice.
std::uint64_t seed_from_name(const std::string& name);

}  // namespace lpusim
