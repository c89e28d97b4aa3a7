#include "compiler/lower/matmul_schedule.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "compiler/ir/weight_init.hpp"
#include "compiler/passes/passes.hpp"
#include "numerics/fp8.hpp"

namespace lpusim {

namespace {
/// The weights as an MXFP4 checkpoint holds them: each output column quantised in blocks of
/// 32 along K (OCP MX).
std::vector<float> mxfp4_values(const MatmulTerm& term, const std::vector<float>& w, std::int64_t n_cols) {
  std::vector<float> out(w.size());
  std::vector<float> column(static_cast<std::size_t>(term.k_rows));
  auto index = [&](std::int64_t k, std::int64_t c) {
    return static_cast<std::size_t>(term.transpose ? c * term.k_rows + k : k * n_cols + c);
  };
  for (std::int64_t c = 0; c < n_cols; ++c) {
    for (std::int64_t k = 0; k < term.k_rows; ++k) column[static_cast<std::size_t>(k)] = w[index(k, c)];
    const std::vector<float> q = quantize_mxfp4(column);
    for (std::int64_t k = 0; k < term.k_rows; ++k) out[index(k, c)] = q[static_cast<std::size_t>(k)];
  }
  return out;
}
}  // namespace

const Act& MatmulSchedule::lower(const Node& node, int output, const Epilogue& epilogue) {
  const Graph& g = memory_.graph();
  std::vector<MatmulTerm> terms;
  std::int64_t n_cols = -1, rows = -1;
  for (std::size_t i = 0; i + 1 < node.inputs.size(); i += 2) {
    const Act& x = memory_.act(node.inputs[i]);
    const int w = node.inputs[i + 1];
    const bool transpose = node.int_attr("transpose_w", 0) != 0;
    const auto [wr, wc] = memory_.matrix_shape(w);
    const bool activation = g.tensors[static_cast<std::size_t>(w)].role != TensorRole::Weight;
    if (activation && !transpose)
      throw std::logic_error(fmt::format("lowering: matmul '{}' has activation weights that are not transposed", node.name));
    terms.push_back(MatmulTerm{&x, w, transpose, transpose ? wc : wr, activation ? &memory_.act(w) : nullptr});
    n_cols = transpose ? wr : wc;
    rows = x.rows;
  }
  const bool activation_weights = terms.front().weight_rows != nullptr;
  for (const auto& term : terms)
    if ((term.weight_rows != nullptr) != activation_weights)
      throw std::logic_error(fmt::format("lowering: matmul '{}' mixes stored and activation weights", node.name));
  const std::int64_t n_tiles = memory_.tiles_of(n_cols);
  // Model weights follow the scenario's weight type; constants the compiler made (norm
  // sums, head reductions, rotations) stay fp16, which holds them exactly. One format per
  // node keeps the accumulator type uniform.
  const MatmulFormat format = matmul_format(node);
  // Each output tile's blocks, every term's input tiles, go to one plane: their words per
  // weight slice, lw words of 16 one-byte or 8 fp16 rows each (WeightTiling::store_new).
  std::vector<std::int64_t> tile_words;
  const std::int64_t lanes = memory_.lanes();
  const std::int64_t rows_per_lw = dtype_bytes(format.weights) == 1 ? 16 : 8;
  for (std::int64_t n = 0; n < n_tiles; ++n) {
    const std::int64_t rows = std::min<std::int64_t>(lanes, n_cols - n * lanes);
    std::int64_t words = 0;
    for (const auto& term : terms) words += memory_.tiles_of(term.k_rows) * ((rows + rows_per_lw - 1) / rows_per_lw);
    tile_words.push_back(words);
  }
  // Each output tile's result lands in a quad on its plane's side of the chip. Activation
  // weights take no SRAM: their tiles go to the planes that free up first.
  const std::vector<int> tile_plane = activation_weights ? planes_by_availability(n_tiles, rows) : tiling_.assign_planes(tile_words);
  // Not a quad the input is read from: a burst reading and writing one quad would hold its
  // queues twice.
  std::vector<int> input_quads;
  if (options_.max_burst_rows > 1)
    for (const auto& term : terms)
      for (std::int64_t k = 0; k < term.x->tiles; ++k)
        for (int q : term.x->tile_quads(k)) input_quads.push_back(q);
  std::vector<int> tile_quads;
  for (int p : tile_plane) tile_quads.push_back(memory_.pick_quad(p < 2 ? Hemisphere::West : Hemisphere::East, input_quads));
  Act& out = memory_.make_act(output, rows, n_cols, std::nullopt, tile_quads);

  std::vector<std::vector<float>> values;
  for (const auto& term : terms) {
    const bool constant = g.tensors[static_cast<std::size_t>(term.weight)].init == "data";
    values.push_back(!term.weight_rows && (options_.functional_data || constant) ? weight_values(g, term.weight)
                                                                                : std::vector<float>{});
  }
  if (format.mxfp4)
    for (std::size_t ti = 0; ti < terms.size(); ++ti)
      if (!values[ti].empty()) values[ti] = mxfp4_values(terms[ti], values[ti], n_cols);
  const std::vector<float> column_scale = tiling_.column_scales(terms, values, n_cols, format.weights, format.mxfp4);
  const double act_scale = format.scaled_activations() ? node.act_scale.value_or(default_act_scale(format.activations)) : 1.0;
  // int8 and fp8 weights: a dequantisation vector per output tile, act_scale (1 for fp16
  // activations) * column scale.
  std::vector<VecHome> dequant;
  if (format.scaled_weights()) {
    ++dequant_tensors_;
    for (std::int64_t n = 0; n < n_tiles; ++n) {
      const VecHome h = memory_.take_constant_word("a dequantisation vector");
      TensorDecl d;
      d.name = fmt::format("dq{}_{}", dequant_tensors_, n);
      d.dtype = DType::Fp32;
      d.slices.assign(memory_.quad(h.quad).begin(), memory_.quad(h.quad).end());
      d.address = h.address;
      std::vector<double> v(static_cast<std::size_t>(memory_.lanes()), 0.0);
      for (std::int64_t i = 0; i < memory_.lanes() && n * memory_.lanes() + i < n_cols; ++i)
        v[static_cast<std::size_t>(i)] = act_scale * column_scale[static_cast<std::size_t>(n * memory_.lanes() + i)];
      memory_.set_data(d.name, std::move(v));
      memory_.declare(std::move(d));
      dequant.push_back(h);
    }
  }

  const int slots = geo_.chip().mxm_accumulator_slots;
  const std::int64_t max_burst = std::max<std::int64_t>(1, options_.max_burst_rows);
  for (std::int64_t n = 0; n < n_tiles; ++n) {
    const int plane = tile_plane[static_cast<std::size_t>(n)];
    PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
    if (ps.slot_free.empty()) ps.slot_free.assign(static_cast<std::size_t>(slots), floor_);
    std::vector<WeightBlock> blocks;
    for (std::size_t ti = 0; ti < terms.size(); ++ti)
      for (std::int64_t k = 0; k < memory_.tiles_of(terms[ti].k_rows); ++k)
        if (terms[ti].weight_rows)
          blocks.push_back(WeightBlock{static_cast<int>(ti), k, DType::Fp16, -1, 0});
        else if (auto b = tiling_.block(terms[ti], static_cast<int>(ti), k, n, n_cols, plane, format.weights, values[ti],
                                   column_scale))
          blocks.push_back(*b);
    // Rows go through in groups of as many rows as there are accumulator slots.
    for (std::int64_t m0 = 0; m0 < rows; m0 += slots) {
      const std::int64_t m1 = std::min<std::int64_t>(rows, m0 + slots);
      const int first_slot = ps.next_slot;
      ps.next_slot = static_cast<int>((first_slot + (m1 - m0)) % slots);
      // Bursts: runs of rows whose inputs (every term and input tile), slots and epilogue
      // operands are consecutive, at most max_burst rows each.
      std::vector<RowRun> runs;
      for (std::int64_t m = m0; m < m1; ++m) {
        const int slot = static_cast<int>((first_slot + (m - m0)) % slots);
        bool extend = !runs.empty() && runs.back().count < max_burst && slot == runs.back().slot + runs.back().count;
        for (std::size_t ti = 0; extend && ti < terms.size(); ++ti)
          for (std::int64_t k = 0; extend && k < terms[ti].x->tiles; ++k) extend = terms[ti].x->consecutive(m - 1, 2, k);
        if (extend && epilogue && epilogue.breaks_before && epilogue.breaks_before(m, n)) extend = false;
        if (extend) ++runs.back().count;
        else runs.push_back(RowRun{m, 1, slot});
      }
      std::vector<Cycle> row_done(static_cast<std::size_t>(m1 - m0), Cycle(0));
      for (const auto& block : blocks)
        schedule_block(block, terms[static_cast<std::size_t>(block.term)], n, plane, format, runs, m0, row_done, act_scale);
      // The results: a burst per run, split in halves where a whole run finds no room.
      std::function<void(const RowRun&)> emit = [&](const RowRun& run) {
        const Burst burst{run.count, 1};
        Cycle ready{0};
        for (std::int64_t k = 0; k < run.count && !blocks.empty(); ++k)
          ready = std::max(ready, row_done[static_cast<std::size_t>(run.m + k - m0)] - Cycle(k));
        // The result's way to MEM: int32 -> fp32, dequantisation (int8 and fp8 weights), then
        // the epilogue.
        std::vector<Step> post;
        if (format.accumulator() == DType::Int32) post.push_back(Step{Opcode::Cvt, DType::Int32, DType::Fp32});
        if (format.scaled_weights() && !blocks.empty())
          post.push_back(Step::with_vector(Opcode::Mul, dequant[static_cast<std::size_t>(n)], 0));
        if (blocks.empty() && !epilogue) post.clear();  // every block is zero: copy the cleared slot
        if (epilogue) for (auto& s : epilogue.steps(run.m, n, burst)) post.push_back(s);
        const auto first = emit_results(plane, run, ready, format.accumulator(), out.burst_at(run.m, n, burst), post);
        if (!first) {
          const std::int64_t half = run.count / 2;
          emit(RowRun{run.m, half, run.slot});
          emit(RowRun{run.m + half, run.count - half, run.slot + static_cast<int>(half)});
          return;
        }
        for (std::int64_t k = 0; k < run.count; ++k) out.ready_at(run.m + k, n) = *first + Cycle(k);
      };
      for (const RowRun& run : runs) emit(run);
    }
  }
  return out;
}

void MatmulSchedule::start_at(Cycle gate) {
  floor_ = std::max(floor_, gate);
  for (PlaneState& ps : planes_) {
    ps.buffer_free = std::max(ps.buffer_free, floor_);
    ps.install_ready = std::max(ps.install_ready, floor_);
    ps.computing_until = std::max(ps.computing_until, floor_);
    ps.last_abc = std::max(ps.last_abc, floor_ - Cycle(100));
    for (Cycle& c : ps.slot_free) c = std::max(c, floor_);
  }
}

std::vector<int> MatmulSchedule::planes_by_availability(std::int64_t n_tiles, std::int64_t rows) const {
  std::array<Cycle, 4> free_at{};
  for (std::size_t p = 0; p < planes_.size(); ++p) free_at[p] = std::max(planes_[p].computing_until, planes_[p].buffer_free);
  std::vector<int> plane;
  for (std::int64_t n = 0; n < n_tiles; ++n) {
    const auto best = std::min_element(free_at.begin(), free_at.end()) - free_at.begin();
    plane.push_back(static_cast<int>(best));
    // About what the tile's rows will hold the plane for (fp16 abcs).
    free_at[static_cast<std::size_t>(best)] += Cycle(rows * geo_.chip().mxm_fp16_rate_divisor);
  }
  return plane;
}

std::optional<ChainSink> MatmulSchedule::chain_to_mxm(int plane, const VecHome& src, const std::vector<Step>& convert,
                                                      Cycle start, Cycle arrive, const Burst& burst) {
  sb_.begin();
  ChainSink sink;
  sink.kind = ChainSink::Kind::Mxm;
  sink.plane = plane;
  ChainInput input;
  input.mem = &src;
  const auto arrived = chains_.try_chain(start, input, convert, sink, burst);
  if (!arrived || *arrived != arrive) {
    sb_.rollback();
    return std::nullopt;
  }
  return sink;
}

Cycle MatmulSchedule::load_activation_rows(const Act& w, std::int64_t n_tile, std::int64_t k_tile, int plane) {
  PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
  const Position mx = geo_.mxm(plane);
  const Cycle read_func = geo_.func(Opcode::Read);
  const Cycle to_mxm = geo_.hops(geo_.vxm(), mx);
  const std::vector<Step> convert{Step{Opcode::Cvt, DType::Fp32, DType::Fp16}};
  const Cycle chain_length = geo_.func(Opcode::Cvt);
  const std::int64_t lanes = memory_.lanes();
  const std::int64_t first = n_tile * lanes, count = std::min(lanes, w.rows - first);
  // Rows enter the buffer in order, one lw each, as they arrive from the VXM.
  Cycle next = ps.buffer_free;
  for (std::int64_t r = 0; r < count; ++r) {
    const VecHome src = w.at(first + r, k_tile);
    Cycle lw = std::max(next, src.ready + read_func + Cycle(1) + chain_length + to_mxm +
                                  geo_.hops(geo_.pos(memory_.quad(src.quad)[3]), geo_.vxm()));
    for (;; lw += Cycle(1)) {
      if (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 0), lw)) continue;
      const auto sink = chain_to_mxm(plane, src, convert, lw - to_mxm - chain_length, lw);
      if (!sink) continue;
      sb_.place(ChipGeometry::mxm_queue(plane, 0),
                PlacedInstruction{lw, make_instruction(Opcode::LoadWeights, DType::Fp16,
                                                       {stream_operand(sink->direction, sink->group), int_operand(1)})});
      sb_.commit();
      break;
    }
    next = lw + Cycle(1);
  }
  return next;
}

Cycle MatmulSchedule::load_stored_block(const WeightBlock& block, int plane) {
  PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
  const auto& group = memory_.weight_group(plane);
  const Position mx = geo_.mxm(plane);
  const Direction to_mxm = ScheduleBuilder::toward(geo_.pos(group[0]), mx);
  const Cycle read_func = geo_.func(Opcode::Read);
  const DType wtype = block.type;
  const int weight_streams = MemoryPlan::kWeightSlicesPerPlane;
  const int rows_per_lw = dtype_bytes(wtype) == 1 ? weight_streams : weight_streams / 2;
  // 1. Stream the block into the weight buffer: lw in cycles LW0 .. LW0 + lws - 1, on one of
  //    the two 16-stream groups toward the MXM.
  Cycle lw0 = ps.buffer_free;
  for (;; lw0 += Cycle(1)) {
    bool ok = sb_.queue_free(ChipGeometry::mxm_queue(plane, 0), lw0, block.lws - 1);
    int first = -1;
    for (int f : {0, weight_streams}) {  // two stream groups toward the MXM
      if (!ok) break;
      bool streams = true;
      for (int q = 0; q < weight_streams && streams; ++q) {
        const SliceRef& s = group[static_cast<std::size_t>(q)];
        const Cycle issue = lw0 - read_func - geo_.hops(geo_.pos(s), mx);
        streams = issue >= Cycle(0) && sb_.queue_free(ChipGeometry::mem_queue(s), issue, block.lws - 1) &&
                  sb_.burst_free(to_mxm, f + q, 1, geo_.pos(s), mx, issue + read_func, block.lws);
      }
      if (streams) {
        first = f;
        break;
      }
    }
    if (!ok || first < 0) continue;
    for (int q = 0; q < weight_streams; ++q) {
      const SliceRef& s = group[static_cast<std::size_t>(q)];
      const Cycle issue = lw0 - read_func - geo_.hops(geo_.pos(s), mx);
      sb_.reserve_burst(to_mxm, first + q, 1, geo_.pos(s), mx, issue + read_func, block.lws);
      sb_.place(ChipGeometry::mem_queue(s),
                PlacedInstruction{issue, make_instruction(Opcode::Read, DType::None,
                                                          {int_operand(block.base), stream_operand(to_mxm, first + q)}),
                                  block.lws - 1, 1, 1});
    }
    sb_.place(ChipGeometry::mxm_queue(plane, 0),
              PlacedInstruction{lw0, make_instruction(Opcode::LoadWeights, wtype,
                                                      {stream_operand(to_mxm, first), int_operand(rows_per_lw)}),
                                block.lws - 1, 1, 0});
    break;
  }
  return lw0 + Cycle(block.lws);
}

void MatmulSchedule::schedule_block(const WeightBlock& block, const MatmulTerm& term, std::int64_t n_tile, int plane,
                                    const MatmulFormat& format, const std::vector<RowRun>& runs, std::int64_t m0,
                                    std::vector<Cycle>& row_done, double act_scale) {
  PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
  const Act& x = *term.x;
  // 1. The block into the weight buffer.
  const Cycle loaded = term.weight_rows ? load_activation_rows(*term.weight_rows, n_tile, block.k_tile, plane)
                                        : load_stored_block(block, plane);
  // 2. Install once the buffer is full and the array is free.
  Cycle iw = std::max({loaded, ps.computing_until, ps.install_ready});
  while (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 0), iw)) iw += Cycle(1);
  sb_.place(ChipGeometry::mxm_queue(plane, 0), PlacedInstruction{iw, make_instruction(Opcode::InstallWeights, DType::None, {})});
  ps.buffer_free = iw + Cycle(1);
  ps.install_ready = iw + geo_.func(Opcode::InstallWeights);
  // 3. Every row's activation tile, converted on the VXM on its way, through the array.
  const DType xtype = format.activations;
  const Cycle rate = xtype == DType::Int8   ? Cycle(1)
                     : xtype == DType::Fp16 ? Cycle(geo_.chip().mxm_fp16_rate_divisor)
                                            : Cycle(geo_.chip().mxm_fp8_rate_divisor);
  // int8 and fp8 activations are scaled and rounded on the VXM (cvt saturates); fp16 rounded.
  std::vector<Step> convert;
  if (format.scaled_activations()) convert.push_back(Step::with_immediate(Opcode::Mul, 1.0 / act_scale));
  convert.push_back(Step{Opcode::Cvt, DType::Fp32, xtype});
  Cycle chain_length{0};
  for (const auto& s : convert) chain_length += geo_.func(s.op);
  for (const RowRun& run : runs)
    place_abc_run(plane, xtype, x, block.k_tile, run, m0, row_done, convert, chain_length, rate);
}

void MatmulSchedule::place_abc_run(int plane, DType xtype, const Act& x, std::int64_t k_tile, const RowRun& run,
                                   std::int64_t m0, std::vector<Cycle>& row_done, const std::vector<Step>& convert,
                                   Cycle chain_length, Cycle rate) {
  PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
  const Position mx = geo_.mxm(plane);
  const Cycle read_func = geo_.func(Opcode::Read);
  const Cycle to_vxm = geo_.hops(geo_.vxm(), mx);
  const Burst burst{run.count, rate.value()};
  const VecHome xv = x.burst_at(run.m, k_tile, burst);
  // Every slot must have been emptied by the acc of its previous user.
  Cycle abc = std::max(ps.install_ready, ps.last_abc + rate);
  for (std::int64_t k = 0; k < run.count; ++k)
    abc = std::max(abc, ps.slot_free[static_cast<std::size_t>(run.slot + k)] - Cycle(k * burst.interval));
  abc = std::max(abc, xv.ready + read_func + Cycle(1) + chain_length + to_vxm +
                          geo_.hops(geo_.pos(memory_.quad(xv.quad)[3]), geo_.vxm()));
  const Cycle give_up = run.count > 1 ? abc + burst_search_window(burst) : abc + Cycle(1000000000);
  for (;; abc += Cycle(1)) {
    if (abc > give_up) {  // no room for the whole burst: its halves on their own
      const std::int64_t half = run.count / 2;
      place_abc_run(plane, xtype, x, k_tile, RowRun{run.m, half, run.slot}, m0, row_done, convert, chain_length, rate);
      place_abc_run(plane, xtype, x, k_tile, RowRun{run.m + half, run.count - half, run.slot + static_cast<int>(half)}, m0,
                    row_done, convert, chain_length, rate);
      return;
    }
    if (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 1), abc, burst.repeats(), burst.interval)) continue;
    const auto sink = chain_to_mxm(plane, xv, convert, abc - to_vxm - chain_length, abc, burst);
    if (!sink) continue;
    sb_.place(ChipGeometry::mxm_queue(plane, 1),
              PlacedInstruction{abc, make_instruction(Opcode::ActivationBuffer, xtype,
                                                      {stream_operand(sink->direction, sink->group), int_operand(run.slot)}),
                                burst.repeats(), burst.interval, run.count > 1 ? 1 : 0});
    sb_.commit();
    break;
  }
  ps.last_abc = abc + burst.span();
  ps.computing_until = std::max(ps.computing_until, ps.last_abc + geo_.func(Opcode::ActivationBuffer));
  for (std::int64_t k = 0; k < run.count; ++k)
    row_done[static_cast<std::size_t>(run.m + k - m0)] = abc + Cycle(k * burst.interval) + geo_.func(Opcode::ActivationBuffer);
}

std::optional<Cycle> MatmulSchedule::emit_results(int plane, const RowRun& run, Cycle ready, DType acc_type,
                                                  const VecHome& dest, const std::vector<Step>& post) {
  const Position mx = geo_.mxm(plane);
  const auto& quad = memory_.quad(dest.quad);
  const Position first_slice = geo_.pos(quad[0]);
  const Direction away = ScheduleBuilder::toward(mx, post.empty() ? first_slice : geo_.vxm());
  const Burst burst{run.count, 1};
  const Cycle start = std::max(ready, dest.write_after - Cycle(128));
  for (Cycle q = start;; q += Cycle(1)) {
    if (run.count > 1 && q > start + burst_search_window(burst)) return std::nullopt;  // the caller splits the burst
    if (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 2), q, burst.repeats(), burst.interval)) continue;
    const Cycle out_at = q + geo_.func(Opcode::Accumulate);
    sb_.begin();
    const Position to = post.empty() ? geo_.pos(quad[3]) : geo_.vxm();
    const auto group = sb_.find_burst_streams(away, 4, mx, to, out_at, burst.count, burst.interval);
    if (!group) {
      sb_.rollback();
      continue;
    }
    if (!post.empty()) sb_.reserve_burst(away, *group, 4, mx, to, out_at, burst.count, burst.interval);
    sb_.place(ChipGeometry::mxm_queue(plane, 2),
              PlacedInstruction{q, make_instruction(Opcode::Accumulate, acc_type,
                                                    {stream_operand(away, *group), int_operand(run.slot)}),
                                burst.repeats(), burst.interval, run.count > 1 ? 1 : 0});
    for (std::int64_t k = 0; k < run.count; ++k)
      planes_[static_cast<std::size_t>(plane)].slot_free[static_cast<std::size_t>(run.slot + k)] = q + Cycle(k + 1);
    if (post.empty()) {
      if (!chains_.write_from(mx, out_at, *group, away, dest, burst)) {
        sb_.rollback();
        continue;
      }
      sb_.commit();
      return chains_.write_commit(mx, out_at, dest) + Cycle(1);
    }
    ChainSink sink;
    sink.dest = dest;
    ChainInput input;
    input.group = *group;
    input.direction = away;
    input.type = acc_type;
    auto done = chains_.try_chain(out_at + geo_.hops(mx, geo_.vxm()), input, post, sink, burst);
    if (!done) {
      sb_.rollback();
      continue;
    }
    sb_.commit();
    return *done + Cycle(1);
  }
}

}  // namespace lpusim
