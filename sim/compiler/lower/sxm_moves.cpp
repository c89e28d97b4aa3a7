#include "compiler/lower/sxm_moves.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

namespace lpusim {

const std::string& SxmMoves::lane_map(const std::vector<int>& lanes, const std::string& comment) {
  if (auto it = index_.find(lanes); it != index_.end()) return maps_[it->second].name;
  LaneMap m;
  m.name = fmt::format("lm{}", maps_.size());
  m.lanes = lanes;
  m.comment = comment;
  // The SXM waits for the latest superlane any output lane takes its value from.
  const ChipConfig& chip = geo_.chip();
  int worst = 0;
  for (std::size_t lane = 0; lane < lanes.size(); ++lane)
    worst = std::max(worst, lanes[lane] / chip.lanes_per_superlane - static_cast<int>(lane) / chip.lanes_per_superlane);
  wait_[m.name] = chip.superlane_skew * worst;
  index_[lanes] = maps_.size();
  maps_.push_back(std::move(m));
  return maps_.back().name;
}

Cycle SxmMoves::permute(const VecHome& src, const std::string& map, const VecHome& dest, const std::vector<Step>& post,
                        const Burst& burst) {
  if (auto done = try_permute(src, map, dest, post, burst, Cycle(1000000))) return *done;
  throw std::logic_error("lowering found no slot for an SXM permute within a million cycles");
}

std::optional<Cycle> SxmMoves::try_permute(const VecHome& src, const std::string& map, const VecHome& dest,
                                           const std::vector<Step>& post, const Burst& burst, Cycle window) {
  const ChipConfig& chip = geo_.chip();
  const Hemisphere side = memory_.quad(src.quad)[0].hemisphere;
  const Position sxm = chip.queue_position(QueueId{UnitKind::Sxm, side, 0});
  const Cycle read_func = geo_.func(Opcode::Read);
  const Cycle done_after = geo_.func(Opcode::Permute) + wait_.at(map);
  // The farthest plane of the source quad decides the earliest arrival.
  Cycle far{0};
  for (const auto& s : memory_.quad(src.quad)) far = std::max(far, geo_.hops(geo_.pos(s), sxm));
  Cycle t = std::max(src.ready + read_func + far, dest.write_after - Cycle(64));
  const auto& dest_quad = memory_.quad(dest.quad);
  Position out_to = geo_.pos(dest_quad[0]);
  for (const auto& s : dest_quad)
    if (std::abs(geo_.pos(s).value() - sxm.value()) > std::abs(out_to.value() - sxm.value())) out_to = geo_.pos(s);
  if (!post.empty()) out_to = geo_.vxm();  // the result passes the VXM's ALUs on its way
  const Direction out_dir = ScheduleBuilder::toward(sxm, out_to);
  const Direction in_dir = ScheduleBuilder::toward(geo_.pos(memory_.quad(src.quad)[0]), sxm);
  for (const Cycle limit = t + window;; t += Cycle(1)) {
    if (t > limit) return std::nullopt;
    int queue = -1;
    for (int q = 0; q < chip.sxm_queues_per_hemisphere && queue < 0; ++q)
      if (sb_.queue_free(QueueId{UnitKind::Sxm, side, q}, t, burst.repeats(), burst.interval)) queue = q;
    if (queue < 0) continue;
    const Cycle done = t + done_after;
    sb_.begin();
    int in_group = 0;
    if (!chains_.read_to(src, sxm, t, in_group, burst)) {
      sb_.rollback();
      continue;
    }
    // The result's streams are chosen after the input's are reserved: in a burst a later
    // row's input can pass the SXM on the diagonal an earlier row's result leaves on.
    const auto out_group = sb_.find_burst_streams(out_dir, 4, sxm, out_to, done, burst.count, burst.interval);
    if (!out_group) {
      sb_.rollback();
      continue;
    }
    std::optional<Cycle> landed;
    if (post.empty()) {
      if (chains_.write_from(sxm, done, *out_group, out_dir, dest, burst)) landed = chains_.write_commit(sxm, done, dest);
    } else {
      sb_.reserve_burst(out_dir, *out_group, 4, sxm, out_to, done, burst.count, burst.interval);
      ChainInput input;
      input.group = *out_group;
      input.direction = out_dir;
      ChainSink sink;
      sink.dest = dest;
      landed = chains_.try_chain(done + geo_.hops(sxm, geo_.vxm()), input, post, sink, burst);
    }
    if (!landed) {
      sb_.rollback();
      continue;
    }
    sb_.place(QueueId{UnitKind::Sxm, side, queue},
              PlacedInstruction{t, make_instruction(Opcode::Permute, DType::Fp32,
                                                    {stream_operand(out_dir, *out_group), stream_operand(in_dir, in_group),
                                                     name_operand(map)}),
                                  burst.repeats(), burst.interval, 0});
    sb_.commit();
    return *landed + Cycle(1);
  }
}

}  // namespace lpusim
