#include "models/units/mxm.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "numerics/vector_math.hpp"

namespace lpusim {

namespace {
StreamId offset(StreamId s, int k) {
  s.index = StreamIndex(s.index.value() + k);
  return s;
}

using Planes = std::array<const std::uint8_t*, 4>;

/// Decodes lane i of a stream group of type t (planes = streams of the group).
double lane_value(DType t, const Planes& planes, int lane) {
  std::array<std::uint8_t, 4> bytes{};
  for (int b = 0; b < dtype_bytes(t); ++b) bytes[b] = planes[b][lane];
  return decode_element(t, bytes);
}

/// Decodes lanes [0, n) of a stream group into out[0], out[stride], ... int8 and fp16 (the
/// MXM's types) decode directly, to the value the element codec gives; others through it.
template <typename Out>
void decode_lanes(DType t, const Planes& planes, int n, Out* out, Eigen::Index stride) {
  if (t == DType::Int8) {
    for (int i = 0; i < n; ++i) out[i * stride] = static_cast<Out>(static_cast<std::int8_t>(planes[0][i]));
    return;
  }
  if (t == DType::Fp16) {
    for (int i = 0; i < n; ++i) {
      Eigen::half h;
      h.x = static_cast<std::uint16_t>(planes[0][i] | (planes[1][i] << 8));
      out[i * stride] = static_cast<Out>(static_cast<double>(static_cast<float>(h)));
    }
    return;
  }
  for (int i = 0; i < n; ++i) out[i * stride] = static_cast<Out>(lane_value(t, planes, i));
}
}  // namespace

Mxm::Mxm(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere)
    : sc_module(name), context_(context),
      position_(context.chip.queue_position(QueueId{UnitKind::Mxm, hemisphere, 0})),
      planes_(static_cast<std::size_t>(context.chip.mxm_planes / 2)) {
  const auto& chip = context.chip;
  for (auto& p : planes_) {
    p.slots.resize(static_cast<std::size_t>(chip.mxm_accumulator_slots));
    if (context.functional()) p.buffer = RowMajorMatrixXf::Zero(chip.mxm_rows, chip.mxm_cols);
  }
}

void Mxm::attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats) {
  queues_.push_back(std::make_unique<QueueRunner>(queue, context_, *this, icu, stats,
                                                  static_cast<int>(&stats - context_.queue_stats.data())));
  icu.add_queue(*queues_.back());
}

void Mxm::settle_install(Plane& plane, Cycle now) {
  if (plane.install_ready >= Cycle(0) && plane.install_ready <= now && plane.install_start >= Cycle(0)) {
    plane.installed = true;
    plane.install_start = Cycle(-1);
    if (context_.functional()) {
      plane.array.swap(plane.installing);  // installing keeps the old storage for the next iw
      plane.columns_ready = false;
    }
  }
}

void Mxm::load_weights(Plane& plane, const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const int bytes = dtype_bytes(ins.dtype);
  const auto& chip = context_.chip;
  std::vector<Planes> rows(static_cast<std::size_t>(ins.rows));
  for (int r = 0; r < ins.rows; ++r)
    for (int b = 0; b < bytes; ++b)
      rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(b)] =
          context_.read_stream(offset(ins.src_a, r * bytes + b), position_, now, ins, queue);
  if (plane.buffer_rows > 0 && plane.buffer_type != ins.dtype)
    context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                        fmt::format("'{}' (line {}) loads {} rows into a weight buffer holding {} rows", ins.text,
                                    ins.loc.line, dtype_name(ins.dtype), dtype_name(plane.buffer_type)));
  if (plane.buffer_rows + ins.rows > chip.mxm_rows) {
    context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                        fmt::format("'{}' (line {}) overflows the weight buffer: {} rows loaded since the last iw, "
                                    "it holds {}", ins.text, ins.loc.line, plane.buffer_rows + ins.rows, chip.mxm_rows));
    return;
  }
  plane.buffer_type = ins.dtype;
  if (context_.functional()) {
    for (int r = 0; r < ins.rows; ++r)
      decode_lanes(ins.dtype, rows[static_cast<std::size_t>(r)], chip.mxm_cols, &plane.buffer(plane.buffer_rows + r, 0), 1);
  }
  plane.buffer_rows += ins.rows;
}

void Mxm::install(Plane& plane, const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  settle_install(plane, now);
  if (now < plane.computing_until) {
    context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                        fmt::format("'{}' (line {}) in cycle {} overwrites the array while an abc computes with it "
                                    "until cycle {}", ins.text, ins.loc.line, now.value(), plane.computing_until.value()));
  }
  if (plane.install_start >= Cycle(0)) {
    context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                        fmt::format("'{}' (line {}) in cycle {} while the previous install runs until cycle {}",
                                    ins.text, ins.loc.line, now.value(), plane.install_ready.value()));
    return;
  }
  plane.install_start = now;
  plane.install_ready = now - ins.timing.skew + ins.timing.func;
  plane.installed = false;  // the array is being overwritten
  plane.array_type = plane.buffer_type;
  if (context_.functional()) {
    // The buffer moves into the array without a copy; rows this block did not load are zero.
    // The buffer takes the storage the last install left behind: its rows are stale until
    // loaded, and the next install zeroes those it does not load.
    plane.installing.swap(plane.buffer);
    plane.installing.bottomRows(plane.installing.rows() - plane.buffer_rows).setZero();
    if (plane.buffer.rows() != context_.chip.mxm_rows || plane.buffer.cols() != context_.chip.mxm_cols)
      plane.buffer.resize(context_.chip.mxm_rows, context_.chip.mxm_cols);
  }
  plane.buffer_rows = 0;
}

void Mxm::multiply(Plane& plane, const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const auto& chip = context_.chip;
  Planes x{};
  for (int b = 0; b < ins.src_a_group; ++b) x[static_cast<std::size_t>(b)] = context_.read_stream(offset(ins.src_a, b), position_, now, ins, queue);
  settle_install(plane, now);
  if (plane.install_start >= Cycle(0) && now < plane.install_ready) {
    context_.add_hazard(Hazard::Kind::WeightsNotInstalled, now, queue,
                        fmt::format("'{}' (line {}) uses the array in cycle {}, before the install finishes in cycle {}",
                                    ins.text, ins.loc.line, now.value(), plane.install_ready.value()));
  } else if (!plane.installed) {
    context_.add_hazard(Hazard::Kind::WeightsNotInstalled, now, queue,
                        fmt::format("'{}' (line {}) multiplies with no weights installed", ins.text, ins.loc.line));
  } else if (plane.array_type != DType::None && plane.array_type != ins.dtype &&
             !(ins.dtype == DType::Fp16 && plane.array_type != DType::Fp32)) {
    // Same-type products, or fp16 activations against int8 or fp8 weights: those codes are
    // exact in fp16, so the array holds them as fp16 ("stored low, computed in fp16").
    context_.add_hazard(Hazard::Kind::WeightsNotInstalled, now, queue,
                        fmt::format("'{}' (line {}) multiplies {} activations by {} weights", ins.text, ins.loc.line,
                                    dtype_name(ins.dtype), dtype_name(plane.array_type)));
  }
  // fp16 and fp8 run at 1/divisor of the int8 rate: one abc every divisor cycles.
  const int divisor = ins.dtype == DType::Fp16 ? chip.mxm_fp16_rate_divisor
                      : ins.dtype == DType::Int8 ? 1 : chip.mxm_fp8_rate_divisor;
  if (divisor > 1) {
    if (now < plane.busy_until)
      context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                          fmt::format("'{}' (line {}) in cycle {}: the plane accepts one {} abc every {} cycles, "
                                      "next in cycle {}", ins.text, ins.loc.line, now.value(), dtype_name(ins.dtype),
                                      divisor, plane.busy_until.value()));
    plane.busy_until = now + Cycle(divisor);
  }
  Slot& slot = plane.slots[static_cast<std::size_t>(issue.address)];  // a repeat's stride steps the slot
  Contribution c{now - ins.timing.skew + ins.timing.func, Eigen::VectorXd()};
  if (context_.functional() && plane.installed && plane.array.size() > 0) {
    Eigen::VectorXf xv(chip.mxm_cols);
    decode_lanes(ins.dtype, x, chip.mxm_cols, xv.data(), 1);
    // int8: every product and partial sum is an integer below 2^24, so float is exact.
    if (plane.array_type == DType::Int8 && ins.dtype == DType::Int8) {
      c.values = (plane.array * xv).cast<double>();
    } else {
      if (!plane.columns_ready) {
        plane.array_columns = plane.array;
        plane.columns_ready = true;
      }
      c.values = (plane.array_columns * xv).cast<double>();
    }
  }
  slot.type = ins.dtype == DType::Int8 ? DType::Int32 : DType::Fp32;
  plane.computing_until = std::max(plane.computing_until, c.ready);
  slot.pending.push_back(std::move(c));
  context_.note_effect(slot.pending.back().ready, issue.vector_lanes);
}

void Mxm::accumulate(Plane& plane, const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const auto& chip = context_.chip;
  Slot& slot = plane.slots[static_cast<std::size_t>(issue.address)];  // a repeat's stride steps the slot
  if (slot.value.size() == 0) slot.value = Eigen::VectorXd::Zero(chip.mxm_rows);
  std::vector<Contribution> late;
  for (auto& c : slot.pending) {
    if (c.ready > now) {
      context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                          fmt::format("'{}' (line {}) reads accumulator slot {} in cycle {}, before an abc result "
                                      "lands in cycle {}", ins.text, ins.loc.line, issue.address, now.value(), c.ready.value()));
      late.push_back(std::move(c));
      continue;
    }
    if (c.values.size() == 0) continue;
    slot.value += c.values;
    if (slot.type == DType::Fp32) slot.value = slot.value.cast<float>().cast<double>();  // fp32 accumulator
  }
  if (slot.type != DType::None && slot.type != ins.dtype)
    context_.add_hazard(Hazard::Kind::UnitBusy, now, queue,
                        fmt::format("'{}' (line {}) reads a {} accumulator as {}", ins.text, ins.loc.line,
                                    dtype_name(slot.type), dtype_name(ins.dtype)));
  // The result goes straight into the stream buffers (functional mode; null in timing mode).
  const Cycle done = now - ins.timing.skew + ins.timing.func;
  std::array<std::uint8_t*, 4> out{};
  for (int b = 0; b < ins.dst_group; ++b) out[static_cast<std::size_t>(b)] = context_.write_stream(offset(ins.dst, b), position_, done, ins);
  if (context_.functional()) {
    const auto bytes = static_cast<std::size_t>(chip.vector_bytes());
    for (int b = 0; b < ins.dst_group; ++b) std::memset(out[static_cast<std::size_t>(b)], 0, bytes);
    for (int j = 0; j < chip.mxm_rows && j < issue.vector_lanes; ++j) {
      const double v = slot.value(j);
      std::uint32_t bits;
      if (ins.dtype == DType::Int32) {
        // int32 accumulators wrap; the wrapped value is what encode_element would store.
        bits = static_cast<std::uint32_t>(static_cast<std::int64_t>(v) & 0xffffffff);
      } else if (ins.dtype == DType::Fp32) {
        const auto f = static_cast<float>(v);
        std::memcpy(&bits, &f, 4);
      } else {
        const auto e = encode_element(ins.dtype, v);
        bits = static_cast<std::uint32_t>(e[0] | (e[1] << 8) | (e[2] << 16)) | (static_cast<std::uint32_t>(e[3]) << 24);
      }
      for (int b = 0; b < ins.dst_group; ++b) out[static_cast<std::size_t>(b)][j] = static_cast<std::uint8_t>(bits >> (8 * b));
    }
  }
  slot.value.setZero();
  slot.pending = std::move(late);
  slot.type = DType::None;
  context_.note_effect(done, issue.vector_lanes);
}

void Mxm::execute(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  // Three queues per plane: plane = queue index / 3 within the hemisphere.
  Plane& plane = planes_[static_cast<std::size_t>(issue.queue->id.index / 3)];
  switch (ins.opcode) {
    case Opcode::LoadWeights: load_weights(plane, issue, now, queue); break;
    case Opcode::InstallWeights: install(plane, issue, now, queue); break;
    case Opcode::ActivationBuffer: multiply(plane, issue, now, queue); break;
    case Opcode::Accumulate: accumulate(plane, issue, now, queue); break;
    default: break;
  }
  if (ins.opcode == Opcode::LoadWeights || ins.opcode == Opcode::InstallWeights)
    context_.note_effect(now - ins.timing.skew + ins.timing.func, issue.vector_lanes);
}

}  // namespace lpusim
