#include "compiler/ir/weight_init.hpp"

#include <Eigen/Core>
#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float to_fp16_value(double x) { return static_cast<float>(Eigen::half(static_cast<float>(x))); }
}  // namespace

std::uint64_t seed_from_name(const std::string& name) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

std::vector<float> make_weight_values(const TensorInfo& tensor) {
  if (tensor.slice_of) {
    // A shard: the values of the whole tensor (same name, init and seed), cut out.
    TensorInfo whole = tensor;
    whole.shape = tensor.slice_of->full_shape;
    whole.slice_of.reset();
    const std::vector<float> all = make_weight_values(whole);
    const bool matrix = whole.shape.size() == 2;
    const std::int64_t full_cols = whole.shape.back();
    const std::int64_t rows = matrix ? tensor.shape[0] : 1, cols = tensor.shape.back();
    std::vector<float> part(static_cast<std::size_t>(rows * cols));
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c)
        part[static_cast<std::size_t>(r * cols + c)] = all[static_cast<std::size_t>(
            (r + (matrix ? tensor.slice_of->row_begin : 0)) * full_cols + c + tensor.slice_of->col_begin)];
    return part;
  }
  std::int64_t count = 1;
  for (const auto d : tensor.shape) count *= d;
  std::vector<float> values(static_cast<std::size_t>(count));
  if (tensor.init == "ones") {
    std::fill(values.begin(), values.end(), 1.0f);
  } else if (tensor.init == "zeros") {
    std::fill(values.begin(), values.end(), 0.0f);
  } else if (tensor.init == "random") {
    std::uint64_t state = tensor.seed;
    for (auto& v : values) {
      // The top 53 bits give a uniform double in [0, 1); map it to [-scale, scale).
      const double unit = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
      v = to_fp16_value((2.0 * unit - 1.0) * tensor.init_scale);
    }
  } else {
    throw InputError(fmt::format("tensor '{}': unknown init '{}' (expected random, ones or zeros)", tensor.name,
                                 tensor.init));
  }
  return values;
}

std::vector<float> weight_values(const Graph& graph, int tensor) {
  const TensorInfo& t = graph.tensors[static_cast<std::size_t>(tensor)];
  if (auto it = graph.values.find(t.name); it != graph.values.end()) return it->second;
  return make_weight_values(t);
}

}  // namespace lpusim
