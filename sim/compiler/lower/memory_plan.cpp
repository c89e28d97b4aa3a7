#include "compiler/lower/memory_plan.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/ir/weight_init.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

MemoryPlan::MemoryPlan(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options)
    : g_(graph), chip_(chip), options_(options), lanes_(chip.lanes()) {
  if (chip.mem_slices_per_hemisphere < 44 || chip.mxm_planes != 4)
    throw InputError(fmt::format("{}: the compiler needs at least 44 MEM slices per hemisphere and 4 MXM planes "
                                 "(this chip has {} and {})", chip.file, chip.mem_slices_per_hemisphere, chip.mxm_planes));
  // The weight layout streams one slice of a plane's group per weight stream of an lw.
  if (chip.mxm_max_weight_streams != kWeightSlicesPerPlane || chip.streams_per_direction < 2 * kWeightSlicesPerPlane)
    throw InputError(fmt::format("{}: the compiler's weight layout needs mxm.max_weight_streams = {} and at least {} "
                                 "streams per direction (this chip has {} and {})", chip.file, kWeightSlicesPerPlane,
                                 2 * kWeightSlicesPerPlane, chip.mxm_max_weight_streams, chip.streams_per_direction));
  // The shape chip_capacity() reports: quads first, the weight groups above them.
  using Shape = MemoryPlanShape;
  static_assert(Shape::kSlicesPerQuad == 4 && Shape::kWeightSlicesPerGroup == kWeightSlicesPerPlane);
  for (Hemisphere h : {Hemisphere::West, Hemisphere::East})
    for (int q = 0; q < Shape::kActivationQuadsPerHemisphere; ++q) {
      std::array<SliceRef, 4> quad;
      for (int b = 0; b < 4; ++b) quad[static_cast<std::size_t>(b)] = SliceRef{h, SliceIndex(4 * q + b)};
      quads_.push_back(quad);
      quad_next_.push_back(0);
    }
  free_.resize(quads_.size());
  for (Hemisphere h : {Hemisphere::West, Hemisphere::East})
    for (int p = 0; p < Shape::kWeightGroupsPerHemisphere; ++p) {
      std::array<SliceRef, kWeightSlicesPerPlane> group;
      for (int q = 0; q < kWeightSlicesPerPlane; ++q)
        group[static_cast<std::size_t>(q)] =
            SliceRef{h, SliceIndex(Shape::kFirstWeightSlice + kWeightSlicesPerPlane * p + q)};
      groups_.push_back(group);
      group_next_.push_back(0);
    }
  acts_.resize(g_.tensors.size());
}

std::pair<std::int64_t, std::int64_t> MemoryPlan::matrix_shape(int tensor) const {
  const auto& s = g_.tensors[static_cast<std::size_t>(tensor)].shape;
  if (s.size() == 1) return {1, s[0]};
  return {s[0], s[1]};
}

int MemoryPlan::pick_quad(std::optional<Hemisphere> side, const std::vector<int>& avoid) {
  const int n = static_cast<int>(quads_.size());
  for (int tries = 0; tries < n && !avoid.empty(); ++tries) {
    const int q = (next_quad_ + tries) % n;
    if (side && quads_[static_cast<std::size_t>(q)][0].hemisphere != *side) continue;
    if (std::find(avoid.begin(), avoid.end(), q) != avoid.end()) continue;
    next_quad_ += tries + 1;
    return q;
  }
  for (int tries = 0; tries < 64; ++tries) {
    const int q = next_quad_++ % n;
    if (!side || quads_[static_cast<std::size_t>(q)][0].hemisphere == *side) return q;
  }
  return 0;
}

std::int64_t MemoryPlan::alloc_quad(int q, std::int64_t words, const std::string& what, Cycle* write_after) {
  if (const auto base = try_alloc_quad(q, words, write_after)) return *base;
  fail_activation_capacity(what);
}

std::int64_t MemoryPlan::alloc_some_quad(int& q, std::int64_t words, const std::string& what, Cycle* write_after,
                                         bool same_side) {
  if (const auto base = try_alloc_quad(q, words, write_after)) return *base;
  // The chosen quad is full: the next that has room (on its hemisphere if the caller asked
  // for one). Only what would otherwise be refused gets here, so every schedule that fitted
  // before is unchanged.
  const int n = static_cast<int>(quads_.size());
  for (int k = 1; k < n; ++k) {
    const int other = (q + k) % n;
    if (same_side && quads_[static_cast<std::size_t>(other)][0].hemisphere != quads_[static_cast<std::size_t>(q)][0].hemisphere)
      continue;
    if (const auto base = try_alloc_quad(other, words, write_after)) {
      q = other;
      return *base;
    }
  }
  fail_activation_capacity(what);
}

std::optional<std::int64_t> MemoryPlan::try_alloc_quad(int q, std::int64_t words, Cycle* write_after) {
  auto& free = free_[static_cast<std::size_t>(q)];
  // Words loaded before the run (inputs, constants, caches) must be fresh: a reused word
  // is overwritten by the program while its earlier tensor lives.
  for (auto it = free.begin(); write_after && it != free.end(); ++it) {
    if (it->length < words) continue;
    const std::int64_t base = it->start;
    *write_after = it->free_after;
    it->start += words;
    it->length -= words;
    if (it->length == 0) free.erase(it);
    return base;
  }
  const std::int64_t base = quad_next_[static_cast<std::size_t>(q)];
  if (base + words > chip_.mem_slice_words) {
    if (write_after)
      if (auto reused = take_adjacent_free(q, words, write_after)) return *reused;
    return std::nullopt;
  }
  quad_next_[static_cast<std::size_t>(q)] += words;
  if (write_after) *write_after = Cycle(-1);
  return base;
}

void MemoryPlan::release(int tensor) {
  Act& a = acts_[static_cast<std::size_t>(tensor)];
  if (!a.owned) return;  // a view, or never allocated
  for (std::int64_t j = 0; j < a.tiles; ++j) {
    const VecHome first = a.homes[static_cast<std::size_t>(j)];
    Cycle last{0};
    for (std::int64_t m = 0; m < a.rows; ++m) {
      const VecHome h = a.homes[static_cast<std::size_t>(m * a.tiles + j)];
      auto it = last_read_.find({h.quad, h.address});
      if (it != last_read_.end()) last = std::max(last, it->second);
      last = std::max(last, a.ready[static_cast<std::size_t>(m * a.tiles + j)]);
    }
    add_free(first.quad, FreeRange{first.address, a.rows, last});
  }
  a.owned = false;  // released once
}

void MemoryPlan::add_free(int q, FreeRange range) { free_[static_cast<std::size_t>(q)].push_back(range); }

std::optional<std::int64_t> MemoryPlan::take_adjacent_free(int q, std::int64_t words, Cycle* write_after) {
  // No single freed range is long enough: look for neighbouring ones that together are (many
  // small tensors freed next to each other). The words are free after the latest last read.
  auto& free = free_[static_cast<std::size_t>(q)];
  std::vector<std::size_t> order(free.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return free[a].start < free[b].start; });
  for (std::size_t first = 0; first < order.size(); ++first) {
    std::int64_t length = 0;
    Cycle after{-1};
    std::size_t last = first;
    for (; last < order.size(); ++last) {
      const FreeRange& r = free[order[last]];
      if (last > first && free[order[last - 1]].start + free[order[last - 1]].length != r.start) break;
      length += r.length;
      after = std::max(after, r.free_after);
      if (length >= words) break;
    }
    if (length < words) continue;
    const std::int64_t base = free[order[first]].start;
    // Trim the last range (it may be longer than needed) and drop the others.
    FreeRange& tail = free[order[last]];
    const std::int64_t used_of_tail = base + words - tail.start;
    std::vector<std::size_t> drop(order.begin() + static_cast<std::ptrdiff_t>(first),
                                  order.begin() + static_cast<std::ptrdiff_t>(last) + (used_of_tail == tail.length ? 1 : 0));
    tail.start += used_of_tail;
    tail.length -= used_of_tail;
    std::sort(drop.rbegin(), drop.rend());
    for (std::size_t i : drop) free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
    *write_after = after;
    return base;
  }
  return std::nullopt;
}

void MemoryPlan::place_before_run() {
  for (std::size_t i = 0; i < g_.tensors.size(); ++i)
    if (g_.tensors[i].role == TensorRole::Input) {
      const auto [rows, cols] = matrix_shape(static_cast<int>(i));
      make_act(static_cast<int>(i), rows, cols);
    }
  // Whether the weights fit was asked before the lowering, by the compile cost that every
  // caller checks (require_compile_fits: the weights as the planes store them, an embedding
  // table the host looks up left out); the plane assignment below refuses the rest by name.
  std::int64_t dequant_words = 0;
  for (const Node& n : g_.nodes) {
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const bool weight_block = n.kind == OpKind::MatMul && i % 2 == 1;
      const TensorRole role = g_.tensors[static_cast<std::size_t>(n.inputs[i])].role;
      if (!weight_block && (role == TensorRole::Weight || role == TensorRole::State)) vector_constant(n.inputs[i]);
    }
    if (!matmul_format(n).scaled_weights()) continue;  // int8 and fp8 weights: a dequantisation vector per tile
    const auto [w_rows, w_cols] = matrix_shape(n.inputs[1]);
    dequant_words += tiles_of(n.int_attr("transpose_w", 0) != 0 ? w_rows : w_cols);
  }
  reserve_constant_words(dequant_words);
}

void MemoryPlan::reserve_constant_words(std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    VecHome h;
    h.quad = static_cast<int>(i % static_cast<std::int64_t>(quads_.size()));
    h.address = alloc_quad(h.quad, 1, "a dequantisation vector");
    constant_words_.push_back(h);
  }
  std::reverse(constant_words_.begin(), constant_words_.end());  // taken from the back, in order
}

VecHome MemoryPlan::take_constant_word(const std::string& what) {
  if (constant_words_.empty()) {  // not reserved: a fresh word above everything so far
    VecHome h;
    h.quad = pick_quad(std::nullopt);
    h.address = alloc_some_quad(h.quad, 1, what, nullptr, false);
    h.ready = floor_;
    return h;
  }
  VecHome h = constant_words_.back();
  constant_words_.pop_back();
  return h;
}

void MemoryPlan::settle_reads() {
  for (const auto& [key, cycle] : pending_reads_) last_read_[key] = std::max(last_read_[key], cycle);
  pending_reads_.clear();
  for (const VecHome& t : temporaries_) {
    Cycle last = t.ready;
    if (auto it = last_read_.find({t.quad, t.address}); it != last_read_.end()) last = std::max(last, it->second);
    add_free(t.quad, FreeRange{t.address, 1, last});
  }
  temporaries_.clear();
}

void MemoryPlan::start_at(Cycle gate) {
  floor_ = std::max(floor_, gate);
  for (Act& a : acts_)
    for (Cycle& r : a.ready) r = std::max(r, floor_);
  for (VecHome& h : constant_words_) h.ready = std::max(h.ready, floor_);
}

VecHome MemoryPlan::alloc_temporary(const std::string& what) {
  VecHome h;
  h.quad = pick_quad(std::nullopt);
  h.address = alloc_some_quad(h.quad, 1, what, &h.write_after, false);
  temporaries_.push_back(h);
  return h;
}

void MemoryPlan::set_temporary_ready(const VecHome& home) {
  for (auto& t : temporaries_)
    if (t.quad == home.quad && t.address == home.address) t.ready = home.ready;
}

void MemoryPlan::fail_activation_capacity(const std::string& what) const {
  const double quad_mb = static_cast<double>(quads_.size()) * 4 * static_cast<double>(chip_.mem_slice_words) *
                         lanes_ / 1e6;
  throw InputError(fmt::format("{}: {} does not fit in one {} chip: the activations of this step fill the {} MEM "
                               "slices next to the VXM ({:.1f} MB; weights use the others); a shorter prompt or "
                               "smaller batch fits, or more chips (--tp/--pp)",
                               g_.file.empty() ? g_.name : g_.file, what, chip_.name, quads_.size() * 4, quad_mb));
}

std::int64_t MemoryPlan::alloc_weight_words(int plane, std::int64_t words, const std::string& what) {
  auto& next = group_next_[static_cast<std::size_t>(plane)];
  const std::int64_t base = next;
  if (next + words > chip_.mem_slice_words) fail_plane_capacity(what, plane, words);
  next += words;
  return base;
}

void MemoryPlan::fail_capacity(const std::string& what) const {
  fail_weight_capacity(g_, chip_, options_.weights, what, options_.checkpoint_weights);
}

void MemoryPlan::fail_plane_capacity(const std::string& what, int plane, std::int64_t need) const {
  std::int64_t used = 0;
  for (int p = 0; p < 4; ++p) used += weight_words_used(p);
  throw InputError(fmt::format("{}: does not fit in one {} chip: a block of '{}' needs {} words in each weight slice "
                               "of MXM plane {}, which has {} of its {} words free ({} of the 4 planes' {} words "
                               "used); more chips (--tp/--pp)",
                               g_.file.empty() ? g_.name : g_.file, chip_.name, what, need, plane,
                               chip_.mem_slice_words - weight_words_used(plane), chip_.mem_slice_words, used,
                               4 * chip_.mem_slice_words));
}

Act& MemoryPlan::make_act(int tensor, std::int64_t rows, std::int64_t cols, std::optional<Hemisphere> side,
                          const std::vector<int>& tile_quads) {
  Act& a = acts_[static_cast<std::size_t>(tensor)];
  a.rows = rows;
  a.cols = cols;
  a.tiles = tiles_of(cols);
  a.ready.assign(static_cast<std::size_t>(rows * a.tiles), floor_);
  a.homes.assign(static_cast<std::size_t>(rows * a.tiles), VecHome{});
  a.owned = true;
  const TensorInfo& info = g_.tensors[static_cast<std::size_t>(tensor)];
  // Only tensors with data in or out are declared: intermediates' words are reused. Outputs
  // are read after the run, so they may take reused words (written after the last read).
  const bool declared = info.role != TensorRole::Intermediate;
  const bool may_reuse = !declared || info.role == TensorRole::Output;
  for (std::int64_t j = 0; j < a.tiles; ++j) {
    const bool placed_by_caller = j < static_cast<std::int64_t>(tile_quads.size());
    int q = placed_by_caller ? tile_quads[static_cast<std::size_t>(j)] : pick_quad(side);
    Cycle write_after{-1};
    const std::int64_t base = alloc_some_quad(q, rows, fmt::format("activation '{}'", info.name),
                                              may_reuse ? &write_after : nullptr, placed_by_caller || side.has_value());
    for (std::int64_t m = 0; m < rows; ++m)
      a.homes[static_cast<std::size_t>(m * a.tiles + j)] = VecHome{q, base + m, Cycle(0), write_after};
    if (!declared) continue;
    const std::string asm_name = fmt::format("t{}_{}", tensor, j);
    a.names.push_back(asm_name);
    TensorDecl d;
    d.name = asm_name;
    d.dtype = DType::Fp32;
    d.vectors = rows;
    d.slices.assign(quads_[static_cast<std::size_t>(q)].begin(), quads_[static_cast<std::size_t>(q)].end());
    d.address = base;
    d.comment = fmt::format("{} tile {}", info.name, j);
    decls_.push_back(d);
  }
  return a;
}

void MemoryPlan::store_values(const Act& a, const std::vector<float>& values) {
  for (std::int64_t j = 0; j < a.tiles; ++j) {
    std::vector<double> v(static_cast<std::size_t>(a.rows * lanes_), 0.0);
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t i = 0; i < lanes_ && j * lanes_ + i < a.cols; ++i)
        v[static_cast<std::size_t>(m * lanes_ + i)] = values[static_cast<std::size_t>(m * a.cols + j * lanes_ + i)];
    data_[a.names[static_cast<std::size_t>(j)]] = std::move(v);
  }
}

const Act& MemoryPlan::vector_constant(int tensor) {
  Act& a = acts_[static_cast<std::size_t>(tensor)];
  if (a.tiles > 0) return a;
  const auto [rows, cols] = matrix_shape(tensor);
  make_act(tensor, rows, cols);
  store_values(a, weight_values(g_, tensor));
  weight_bytes_ += rows * a.tiles * 4 * lanes_;
  return a;
}

const Act& MemoryPlan::act(int tensor) {
  const auto& t = g_.tensors[static_cast<std::size_t>(tensor)];
  if (t.role == TensorRole::Weight || t.role == TensorRole::State) return vector_constant(tensor);
  const Act& a = acts_[static_cast<std::size_t>(tensor)];
  if (a.tiles == 0) throw InputError(fmt::format("{}: tensor '{}' is used before it is computed", g_.file, t.name));
  return a;
}

std::map<std::string, TensorPlacement> MemoryPlan::placements() const {
  std::map<std::string, TensorPlacement> out;
  for (std::size_t i = 0; i < g_.tensors.size(); ++i) {
    const Act& a = acts_[i];
    if (a.tiles == 0) continue;
    out[g_.tensors[i].name] = TensorPlacement{a.rows, a.cols, a.names};
  }
  return out;
}

std::int64_t MemoryPlan::activation_bytes() const {
  std::int64_t bytes = 0;
  for (auto n : quad_next_) bytes += n * 4 * lanes_;
  return bytes;
}

}  // namespace lpusim
