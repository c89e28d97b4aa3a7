#include "compiler/lower/c2c_transfers.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

namespace {
constexpr int kPlanes = 4;  // an fp32 vector is 4 byte planes, each its own 320-byte vector on the link
/// How far past its earliest cycle a vector's send or receive is searched for free slots.
constexpr std::int64_t kSearchLimit = 1000000;
}  // namespace

TransferBoard::DirectLink TransferBoard::direct_link(ChipId from, ChipId to) const {
  const std::vector<Hop> hops = system_.route(from, to);
  if (hops.size() != 1)
    throw InputError(fmt::format("{}: chip {} sends to chip {}, {} hops away; the compiler schedules transfers over "
                                 "direct links only (a plan whose stages and tensor-parallel groups are directly "
                                 "linked, e.g. within a GroqNode, compiles)",
                                 system_.file.empty() ? system_.name : system_.file, from.value(), to.value(),
                                 hops.size()));
  const SystemLink& link = system_.links[static_cast<std::size_t>(hops[0].link.value())];
  DirectLink d;
  const bool a_sends = link.a.chip == from;
  d.from_port = a_sends ? link.a.port : link.b.port;
  d.to_port = a_sends ? link.b.port : link.a.port;
  d.link_class = &system_.link_class_of(hops[0].link);
  return d;
}

void TransferBoard::post(ChipId from, ChipId to, PostedTransfer transfer) {
  mail_[{from.value(), to.value()}].push_back(std::move(transfer));
}

std::optional<PostedTransfer> TransferBoard::take(ChipId from, ChipId to) {
  auto it = mail_.find({from.value(), to.value()});
  if (it == mail_.end() || it->second.empty()) return std::nullopt;
  PostedTransfer t = std::move(it->second.front());
  it->second.pop_front();
  return t;
}

std::int64_t TransferBoard::untaken() const {
  std::int64_t n = 0;
  for (const auto& [pair, box] : mail_) n += static_cast<std::int64_t>(box.size());
  return n;
}

void C2cTransfers::require_board(const Node& node) const {
  if (!board_)
    throw InputError(fmt::format("{}: node '{}': a {} needs a system of chips to run on (lower the partitioned "
                                 "graphs together, e.g. lpusim verify --tp/--pp)",
                                 memory_.graph().file, node.name, op_name(node.kind)));
}

Position C2cTransfers::port_position(PortIndex port) const {
  return geo_.chip().queue_position(QueueId{UnitKind::C2c, Hemisphere::West, port.value()});
}

void C2cTransfers::send(const Node& node) {
  require_board(node);
  const ChipId peer(node.peer);
  const TransferBoard::DirectLink link = board_->direct_link(chip_, peer);
  const ChipConfig& chip = geo_.chip();
  const Act& a = memory_.act(node.inputs[0]);
  const Position port = port_position(link.from_port);
  const QueueId queue{UnitKind::C2c, Hemisphere::West, link.from_port.value()};
  const Cycle read_func = geo_.func(Opcode::Read);
  const Cycle send_skew = chip.timing_of(Opcode::Send).skew;
  const Cycle serialisation = link.link_class->serialization(chip.lanes(), chip.clock_mhz);
  const Cycle flight = link.link_class->latency + board_->system().hop_margin;
  Cycle& link_free = link_free_.try_emplace(link.from_port.value(), Cycle(0)).first->second;

  PostedTransfer posted;
  posted.tensor = memory_.graph().tensors[static_cast<std::size_t>(node.inputs[0])].name;
  posted.rows = a.rows;
  posted.cols = a.cols;
  posted.arrives_on = link.to_port;
  Cycle last_send{0};
  for (std::int64_t m = 0; m < a.rows; ++m)
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      const VecHome v = a.at(m, j);
      for (int b = 0; b < kPlanes; ++b) {
        const SliceRef& slice = memory_.quad(v.quad)[static_cast<std::size_t>(b)];
        const Position from = geo_.pos(slice);
        const Direction dir = ScheduleBuilder::toward(from, port);
        // The send samples the plane at the port in cycle t + skew; the read leaves the
        // slice read_func after its issue and travels hops(slice, port) cycles.
        const Cycle travel = read_func + geo_.hops(from, port);
        Cycle t = std::max(link_free, v.ready + travel - send_skew);
        for (const Cycle limit = t + Cycle(kSearchLimit);; t += Cycle(1)) {
          if (t > limit) throw std::logic_error("lowering found no slot for a C2C send within a million cycles");
          const Cycle issue = t + send_skew - travel;
          if (!sb_.queue_free(queue, t) || !sb_.queue_free(ChipGeometry::mem_queue(slice), issue)) continue;
          const auto stream = sb_.find_streams(dir, 1, from, port, issue + read_func);
          if (!stream) continue;
          sb_.reserve_streams(dir, *stream, 1, from, port, issue + read_func);
          sb_.place(ChipGeometry::mem_queue(slice),
                    PlacedInstruction{issue, make_instruction(Opcode::Read, DType::None,
                                                              {int_operand(v.address), stream_operand(dir, *stream)})});
          memory_.note_read(v.quad, v.address, issue);
          sb_.place(queue, PlacedInstruction{t, make_instruction(Opcode::Send, DType::None,
                                                                 {int_operand(link.from_port.value()),
                                                                  stream_operand(dir, *stream)})});
          break;
        }
        link_free = t + serialisation;
        last_send = t;
        posted.arrivals.push_back(t + serialisation + flight);
      }
    }
  stats_.note_node_end(node, (last_send + serialisation).value());
  board_->post(chip_, peer, std::move(posted));
}

bool C2cTransfers::receive(const Node& node) {
  require_board(node);
  const ChipId peer(node.peer);
  std::optional<PostedTransfer> posted = board_->take(peer, chip_);
  if (!posted) return false;
  const int out = node.outputs[0];
  const auto [rows, cols] = memory_.matrix_shape(out);
  if (rows != posted->rows || cols != posted->cols)
    throw std::logic_error(fmt::format("lowering: '{}' on chip {} receives [{}, {}] where chip {} sent '{}' [{}, {}] "
                                       "(the chips' transfers are out of order)",
                                       node.name, chip_.value(), rows, cols, peer.value(), posted->tensor,
                                       posted->rows, posted->cols));
  const ChipConfig& chip = geo_.chip();
  const PortIndex port_index = posted->arrives_on;
  const Position port = port_position(port_index);
  const QueueId queue{UnitKind::C2c, Hemisphere::West, port_index.value()};
  const Cycle receive_skew = chip.timing_of(Opcode::Receive).skew;
  const Cycle receive_func = chip.timing_of(Opcode::Receive).func;
  const Cycle write_func = geo_.func(Opcode::Write);
  // The hemisphere at the port's edge: the planes' way to MEM is shortest there.
  const Hemisphere side = port.value() == 0 ? Hemisphere::West : Hemisphere::East;
  Act& a = memory_.make_act(out, rows, cols, side);
  Cycle& last = last_receive_.try_emplace(port_index.value(), Cycle(-1)).first->second;
  std::size_t k = 0;
  Cycle end{0};
  for (std::int64_t m = 0; m < a.rows; ++m)
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      const VecHome v = a.at(m, j);
      Cycle ready{0};
      for (int b = 0; b < kPlanes; ++b, ++k) {
        const SliceRef& slice = memory_.quad(v.quad)[static_cast<std::size_t>(b)];
        const Position to = geo_.pos(slice);
        const Direction dir = ScheduleBuilder::toward(port, to);
        // Receives go in send order: the port hands over its oldest vector.
        Cycle r = std::max(last + Cycle(1), posted->arrivals[k] - receive_skew);
        for (const Cycle limit = r + Cycle(kSearchLimit);; r += Cycle(1)) {
          if (r > limit) throw std::logic_error("lowering found no slot for a C2C receive within a million cycles");
          const Cycle on_stream = r + receive_func;
          const Cycle write = on_stream + geo_.hops(port, to);
          if (write <= v.write_after) continue;  // the word's previous tensor is still being read
          if (!sb_.queue_free(queue, r) || !sb_.queue_free(ChipGeometry::mem_queue(slice), write)) continue;
          const auto stream = sb_.find_streams(dir, 1, port, to, on_stream);
          if (!stream) continue;
          sb_.reserve_streams(dir, *stream, 1, port, to, on_stream);
          sb_.place(queue, PlacedInstruction{r, make_instruction(Opcode::Receive, DType::None,
                                                                 {int_operand(port_index.value()),
                                                                  stream_operand(dir, *stream)})});
          sb_.place(ChipGeometry::mem_queue(slice),
                    PlacedInstruction{write, make_instruction(Opcode::Write, DType::None,
                                                              {int_operand(v.address), stream_operand(dir, *stream)})});
          // Committed write_func after the write's issue; a read sees it the cycle after.
          ready = std::max(ready, write + write_func + Cycle(1));
          break;
        }
        last = r;
      }
      a.ready_at(m, j) = ready;
      end = std::max(end, ready);
    }
  stats_.note_node_end(node, end.value());
  return true;
}

}  // namespace lpusim
