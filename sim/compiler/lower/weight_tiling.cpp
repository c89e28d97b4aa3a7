#include "compiler/lower/weight_tiling.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "compiler/passes/passes.hpp"
#include "numerics/vector_math.hpp"

namespace lpusim {

namespace {

// One lw takes a stream per weight slice of the plane: 16 one-byte rows (int8, fp8) or 8 fp16 rows.
constexpr int kWeightStreams = MemoryPlan::kWeightSlicesPerPlane;

}  // namespace

std::vector<int> WeightTiling::assign_planes(const std::vector<std::int64_t>& tile_words) const {
  std::array<std::int64_t, 4> projected{}, words{};
  for (int p = 0; p < 4; ++p)
    projected[static_cast<std::size_t>(p)] = words[static_cast<std::size_t>(p)] = memory_.weight_words_used(p);
  const std::int64_t capacity = memory_.chip().mem_slice_words;
  std::vector<int> planes;
  for (std::int64_t need : tile_words) {
    int p = static_cast<int>(std::min_element(projected.begin(), projected.end()) - projected.begin());
    // Near full, balance gives way to room: the least-filled plane. `need` counts every block
    // (some may be skipped: all-zero constants, blocks already on the plane), so the
    // allocation itself, not this guess, refuses a plane that really overflows.
    if (words[static_cast<std::size_t>(p)] + need > capacity)
      p = static_cast<int>(std::min_element(words.begin(), words.end()) - words.begin());
    planes.push_back(p);
    projected[static_cast<std::size_t>(p)] += 40;  // about one block's words per input tile
    words[static_cast<std::size_t>(p)] += need;
  }
  return planes;
}

std::vector<float> WeightTiling::column_scales(const std::vector<MatmulTerm>& terms,
                                               const std::vector<std::vector<float>>& values, std::int64_t n_cols,
                                               DType type, bool power_of_two) const {
  std::vector<float> scale(static_cast<std::size_t>(n_cols), 1.0f);
  if (type == DType::Fp16 || !functional_data_) return scale;  // timing-only: the scales do not change the schedule
  const auto largest = static_cast<float>(largest_code(type));
  for (std::int64_t c = 0; c < n_cols; ++c) {
    float m = 0;
    for (std::size_t ti = 0; ti < terms.size(); ++ti)
      for (std::int64_t k = 0; k < terms[ti].k_rows; ++k) {
        const float v = terms[ti].transpose ? values[ti][static_cast<std::size_t>(c * terms[ti].k_rows + k)]
                                            : values[ti][static_cast<std::size_t>(k * n_cols + c)];
        m = std::max(m, std::fabs(v));
      }
    float s = m > 0 ? m / largest : 1.0f;
    if (power_of_two && m > 0) s = std::ldexp(1.0f, static_cast<int>(std::ceil(std::log2(s))));
    scale[static_cast<std::size_t>(c)] = s;
  }
  return scale;
}

std::optional<WeightBlock> WeightTiling::block(const MatmulTerm& term, int term_index, std::int64_t k_tile,
                                               std::int64_t n, std::int64_t n_cols, int plane, DType type,
                                               const std::vector<float>& w, const std::vector<float>& column_scale) {
  const auto key = std::make_tuple(term.weight, term.transpose, n, k_tile, plane, type);
  if (auto it = stored_.find(key); it != stored_.end()) {
    if (!it->second) return std::nullopt;
    WeightBlock b = *it->second;
    b.term = term_index;
    return b;
  }
  auto stored = store_new(term, term_index, k_tile, n, n_cols, plane, type, w, column_scale);
  stored_[key] = stored;
  return stored;
}

std::optional<WeightBlock> WeightTiling::store_new(const MatmulTerm& term, int term_index, std::int64_t k_tile,
                                                   std::int64_t n, std::int64_t n_cols, int plane, DType type,
                                                   const std::vector<float>& w, const std::vector<float>& column_scale) {
  const bool one_byte = dtype_bytes(type) == 1;
  const std::int64_t lanes = memory_.lanes();
  const std::int64_t rows = std::min<std::int64_t>(lanes, n_cols - n * lanes);
  // w is [K, N] (or [N, K] transposed); block row r, lane i = w[k_tile*L + i, n*L + r].
  auto at = [&](std::int64_t k, std::int64_t col) -> float {
    const std::int64_t K = term.k_rows;
    return term.transpose ? w[static_cast<std::size_t>(col * K + k)] : w[static_cast<std::size_t>(k * n_cols + col)];
  };
  // Blocks of a constant matrix that are all zero are skipped; model weights are not
  // inspected when their values are not generated (timing-only compiles).
  bool all_zero = !w.empty();
  for (std::int64_t r = 0; r < rows && all_zero; ++r)
    for (std::int64_t i = 0; i < lanes && k_tile * lanes + i < term.k_rows; ++i)
      if (at(k_tile * lanes + i, n * lanes + r) != 0.0f) {
        all_zero = false;
        break;
      }
  if (all_zero) return std::nullopt;
  const int rows_per_lw = one_byte ? kWeightStreams : kWeightStreams / 2;
  WeightBlock b{term_index, k_tile, type, 0, (rows + rows_per_lw - 1) / rows_per_lw};
  b.base = memory_.alloc_weight_words(plane, b.lws, memory_.graph().tensors[static_cast<std::size_t>(term.weight)].name);
  const auto& group = memory_.weight_group(plane);
  ++stats_.weight_blocks;
  memory_.weight_bytes() += b.lws * kWeightStreams * lanes;
  const std::string& wname = memory_.graph().tensors[static_cast<std::size_t>(term.weight)].name;
  const int parts = one_byte ? kWeightStreams : kWeightStreams / 2;
  for (int j = 0; j < parts; ++j) {
    TensorDecl d;
    d.name = fmt::format("w{}_{}_{}_{}", blocks_declared_, n, k_tile, j);
    d.dtype = type;
    d.vectors = b.lws;
    if (one_byte) d.slices = {group[static_cast<std::size_t>(j)]};
    else d.slices = {group[static_cast<std::size_t>(2 * j)], group[static_cast<std::size_t>(2 * j + 1)]};
    d.address = b.base;
    if (j == 0) d.comment = fmt::format("{} block (out tile {}, in tile {})", wname, n, k_tile);
    if (functional_data_) {
      std::vector<double> v(static_cast<std::size_t>(b.lws * lanes), 0.0);
      for (std::int64_t t = 0; t < b.lws; ++t) {
        const std::int64_t r = t * rows_per_lw + j;
        if (r >= rows) continue;
        for (std::int64_t i = 0; i < lanes && k_tile * lanes + i < term.k_rows; ++i) {
          double x = at(k_tile * lanes + i, n * lanes + r);
          // int8: the code round(w / scale); fp8: w / scale rounded to the format (saturating).
          const double scaled = x / column_scale[static_cast<std::size_t>(n * lanes + r)];
          if (type == DType::Int8) x = std::nearbyint(scaled);
          else if (one_byte) x = decode_element(type, encode_element(type, scaled));
          v[static_cast<std::size_t>(t * lanes + i)] = x;
        }
      }
      memory_.set_data(d.name, std::move(v));
    }
    memory_.declare(std::move(d));
  }
  ++blocks_declared_;
  return b;
}

}  // namespace lpusim
