#include "compiler/lower/matmul_schedule.hpp"

#include <algorithm>

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
    terms.push_back(MatmulTerm{&x, w, transpose, transpose ? wc : wr});
    n_cols = transpose ? wr : wc;
    rows = x.rows;
  }
  const int bias = static_cast<int>(node.int_attr("bias", -1));
  const std::int64_t n_tiles = memory_.tiles_of(n_cols);
  // Each output tile's result lands in a quad on its plane's side of the chip.
  const std::vector<int> tile_plane = tiling_.assign_planes(n_tiles);
  std::vector<int> tile_quads;
  for (int p : tile_plane) tile_quads.push_back(memory_.pick_quad(p < 2 ? Hemisphere::West : Hemisphere::East));
  Act& out = memory_.make_act(output, rows, n_cols, std::nullopt, tile_quads);
  const Act* bias_act = bias >= 0 ? &memory_.vector_constant(bias) : nullptr;

  // Model weights follow the scenario's weight type; constants the compiler made (norm
  // sums, head reductions, rotations) stay fp16, which holds them exactly. One format per
  // node keeps the accumulator type uniform.
  const MatmulFormat format = matmul_format(node);

  std::vector<std::vector<float>> values;
  for (const auto& term : terms) {
    const bool constant = g.tensors[static_cast<std::size_t>(term.weight)].init == "data";
    values.push_back(options_.functional_data || constant ? weight_values(g, term.weight) : std::vector<float>{});
  }
  if (format.mxfp4)
    for (std::size_t ti = 0; ti < terms.size(); ++ti)
      if (!values[ti].empty()) values[ti] = mxfp4_values(terms[ti], values[ti], n_cols);
  const std::vector<float> column_scale = tiling_.column_scales(terms, values, n_cols, format.weights, format.mxfp4);
  const double act_scale = format.scaled_activations() ? node.float_attr("act_scale", default_act_scale(format.activations)) : 1.0;
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
  for (std::int64_t n = 0; n < n_tiles; ++n) {
    const int plane = tile_plane[static_cast<std::size_t>(n)];
    PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
    if (ps.slot_free.empty()) ps.slot_free.assign(static_cast<std::size_t>(slots), Cycle(0));
    std::vector<WeightBlock> blocks;
    for (std::size_t ti = 0; ti < terms.size(); ++ti)
      for (std::int64_t k = 0; k < memory_.tiles_of(terms[ti].k_rows); ++k)
        if (auto b = tiling_.block(terms[ti], static_cast<int>(ti), k, n, n_cols, plane, format.weights, values[ti],
                                   column_scale))
          blocks.push_back(*b);
    // Rows go through in groups of as many rows as there are accumulator slots.
    for (std::int64_t m0 = 0; m0 < rows; m0 += slots) {
      const std::int64_t m1 = std::min<std::int64_t>(rows, m0 + slots);
      const int first_slot = ps.next_slot;
      ps.next_slot = static_cast<int>((first_slot + (m1 - m0)) % slots);
      std::vector<Cycle> row_done(static_cast<std::size_t>(m1 - m0), Cycle(0));
      for (const auto& block : blocks)
        schedule_block(block, plane, format, *terms[static_cast<std::size_t>(block.term)].x, m0, m1, row_done, act_scale,
                       first_slot);
      for (std::int64_t m = m0; m < m1; ++m) {
        const Cycle ready = blocks.empty() ? Cycle(0) : row_done[static_cast<std::size_t>(m - m0)];
        const int slot = static_cast<int>((first_slot + (m - m0)) % slots);
        // The result's way to MEM: int32 -> fp32, dequantisation, bias, then the epilogue.
        std::vector<Step> post;
        if (format.accumulator() == DType::Int32) post.push_back(Step{Opcode::Cvt, DType::Int32, DType::Fp32});
        if (format.scaled_weights() && !blocks.empty())
          post.push_back(Step::with_vector(Opcode::Mul, dequant[static_cast<std::size_t>(n)]));
        if (bias_act && !blocks.empty()) post.push_back(Step::with_vector(Opcode::Add, bias_act->at(0, n)));
        if (blocks.empty() && epilogue == nullptr) post.clear();  // every block is zero: copy the cleared slot
        if (epilogue) for (auto& s : epilogue(m, n)) post.push_back(s);
        out.ready_at(m, n) = emit_result(plane, slot, ready, format.accumulator(), out.at(m, n), std::move(post));
      }
    }
  }
  return out;
}

void MatmulSchedule::schedule_block(const WeightBlock& block, int plane, const MatmulFormat& format, const Act& x, std::int64_t m0,
                                    std::int64_t m1, std::vector<Cycle>& row_done, double act_scale, int first_slot) {
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
  // 2. Install once the buffer is full and the array is free.
  Cycle iw = std::max({lw0 + Cycle(block.lws), ps.computing_until, ps.install_ready});
  while (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 0), iw)) iw += Cycle(1);
  sb_.place(ChipGeometry::mxm_queue(plane, 0), PlacedInstruction{iw, make_instruction(Opcode::InstallWeights, DType::None, {})});
  ps.buffer_free = iw + Cycle(1);
  ps.install_ready = iw + geo_.func(Opcode::InstallWeights);
  // 3. Every row's activation tile, converted on the VXM on its way, through the array.
  const DType xtype = format.activations;
  const Cycle rate = xtype == DType::Int8   ? Cycle(1)
                     : xtype == DType::Fp16 ? Cycle(geo_.chip().mxm_fp16_rate_divisor)
                                            : Cycle(geo_.chip().mxm_fp8_rate_divisor);
  const Cycle to_vxm = geo_.hops(geo_.vxm(), mx);
  // int8 and fp8 activations are scaled and rounded on the VXM (cvt saturates); fp16 rounded.
  std::vector<Step> convert;
  if (format.scaled_activations()) convert.push_back(Step::with_immediate(Opcode::Mul, 1.0 / act_scale));
  convert.push_back(Step{Opcode::Cvt, DType::Fp32, xtype});
  Cycle chain_length{0};
  for (const auto& s : convert) chain_length += geo_.func(s.op);
  for (std::int64_t m = m0; m < m1; ++m) {
    const VecHome xv = x.at(m, block.k_tile);
    const int slot = static_cast<int>((first_slot + (m - m0)) % geo_.chip().mxm_accumulator_slots);
    // The slot must have been emptied by the acc of its previous user.
    Cycle abc = std::max({ps.install_ready, ps.last_abc + rate, ps.slot_free[static_cast<std::size_t>(slot)]});
    abc = std::max(abc, xv.ready + read_func + Cycle(1) + chain_length + to_vxm +
                            geo_.hops(geo_.pos(memory_.quad(xv.quad)[3]), geo_.vxm()));
    for (;; abc += Cycle(1)) {
      if (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 1), abc)) continue;
      sb_.begin();
      ChainSink sink;
      sink.kind = ChainSink::Kind::Mxm;
      sink.plane = plane;
      ChainInput input;
      input.mem = &xv;
      const Cycle start = abc - to_vxm - chain_length;
      auto arrive = chains_.try_chain(start, input, convert, sink);
      if (!arrive || *arrive != abc) {
        sb_.rollback();
        continue;
      }
      sb_.place(ChipGeometry::mxm_queue(plane, 1),
                PlacedInstruction{abc, make_instruction(Opcode::ActivationBuffer, xtype,
                                                        {stream_operand(sink.direction, sink.group), int_operand(slot)})});
      sb_.commit();
      break;
    }
    ps.last_abc = abc;
    ps.computing_until = std::max(ps.computing_until, abc + geo_.func(Opcode::ActivationBuffer));
    row_done[static_cast<std::size_t>(m - m0)] = abc + geo_.func(Opcode::ActivationBuffer);
  }
}

Cycle MatmulSchedule::emit_result(int plane, int slot, Cycle ready, DType acc_type, const VecHome& dest,
                                  std::vector<Step> post) {
  const Position mx = geo_.mxm(plane);
  const auto& quad = memory_.quad(dest.quad);
  const Position first_slice = geo_.pos(quad[0]);
  const Direction away = ScheduleBuilder::toward(mx, post.empty() ? first_slice : geo_.vxm());
  for (Cycle q = std::max(ready, dest.write_after - Cycle(128));; q += Cycle(1)) {
    if (!sb_.queue_free(ChipGeometry::mxm_queue(plane, 2), q)) continue;
    const Cycle out_at = q + geo_.func(Opcode::Accumulate);
    sb_.begin();
    const Position to = post.empty() ? geo_.pos(quad[3]) : geo_.vxm();
    const auto group = sb_.find_streams(away, 4, mx, to, out_at);
    if (!group) {
      sb_.rollback();
      continue;
    }
    if (!post.empty()) sb_.reserve_streams(away, *group, 4, mx, to, out_at);
    sb_.place(ChipGeometry::mxm_queue(plane, 2),
              PlacedInstruction{q, make_instruction(Opcode::Accumulate, acc_type,
                                                    {stream_operand(away, *group), int_operand(slot)})});
    planes_[static_cast<std::size_t>(plane)].slot_free[static_cast<std::size_t>(slot)] = q + Cycle(1);
    if (post.empty()) {
      if (!chains_.write_from(mx, out_at, *group, away, dest)) {
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
    auto done = chains_.try_chain(out_at + geo_.hops(mx, geo_.vxm()), input, post, sink);
    if (!done) {
      sb_.rollback();
      continue;
    }
    sb_.commit();
    return *done + Cycle(1);
  }
}

}  // namespace lpusim
