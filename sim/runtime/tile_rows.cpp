#include "runtime/tile_rows.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace lpusim {

void pack_rows(const TensorPlacement& p, const std::vector<float>& values, std::int64_t lanes,
               std::map<std::string, std::vector<double>>& tiles) {
  if (static_cast<std::int64_t>(values.size()) > p.rows * p.cols || values.size() % static_cast<std::size_t>(p.cols) != 0)
    throw std::logic_error(fmt::format("pack_rows: {} values for a [{}, {}] tensor", values.size(), p.rows, p.cols));
  const std::int64_t given_rows = static_cast<std::int64_t>(values.size()) / p.cols;
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    const std::int64_t first_col = static_cast<std::int64_t>(j) * lanes;
    std::vector<double> v(static_cast<std::size_t>(p.rows * lanes), 0.0);
    for (std::int64_t m = 0; m < given_rows; ++m)
      for (std::int64_t i = 0; i < lanes && first_col + i < p.cols; ++i)
        v[static_cast<std::size_t>(m * lanes + i)] = values[static_cast<std::size_t>(m * p.cols + first_col + i)];
    tiles[p.tiles[j]] = std::move(v);
  }
}

HostTensor unpack_rows(const TensorPlacement& p, const std::map<std::string, std::vector<double>>& tiles,
                       std::int64_t lanes) {
  HostTensor t;
  t.rows = p.rows;
  t.cols = p.cols;
  t.values.assign(static_cast<std::size_t>(p.rows * p.cols), 0.0f);
  for (std::size_t j = 0; j < p.tiles.size(); ++j) {
    const auto it = tiles.find(p.tiles[j]);
    if (it == tiles.end()) throw std::logic_error("unpack_rows: tile " + p.tiles[j] + " was not dumped");
    const std::vector<double>& tile = it->second;
    if (static_cast<std::int64_t>(tile.size()) < p.rows * lanes)
      throw std::logic_error(fmt::format("unpack_rows: tile {} holds {} values, expected {} rows x {} lanes", p.tiles[j],
                                         tile.size(), p.rows, lanes));
    const std::int64_t first_col = static_cast<std::int64_t>(j) * lanes;
    for (std::int64_t m = 0; m < p.rows; ++m)
      for (std::int64_t i = 0; i < lanes && first_col + i < p.cols; ++i)
        t.values[static_cast<std::size_t>(m * p.cols + first_col + i)] =
            static_cast<float>(tile[static_cast<std::size_t>(m * lanes + i)]);
  }
  return t;
}

}  // namespace lpusim
