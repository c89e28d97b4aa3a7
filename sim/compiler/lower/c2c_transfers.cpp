#include "compiler/lower/c2c_transfers.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

namespace {
constexpr int kPlanes = 4;  // an fp32 vector is 4 byte planes, each its own 320-byte vector on the link
/// How far past its earliest cycle a vector's send or receive is searched for free slots.
constexpr std::int64_t kSearchLimit = 1000000;
}  // namespace

PortIndex port_on(const SystemLink& link, ChipId chip) { return link.a.chip == chip ? link.a.port : link.b.port; }

void TransferBoard::attach(ChipId chip, C2cTransfers* transfers) { chips_[chip.value()] = transfers; }

C2cTransfers& TransferBoard::chip(ChipId chip) const {
  const auto it = chips_.find(chip.value());
  if (it == chips_.end())
    throw InputError(fmt::format("{}: a transfer is routed through chip {}, which runs no program of this compile (the "
                                 "compiler forwards only through the chips it lowers)",
                                 system_.file.empty() ? system_.name : system_.file, chip.value()));
  return *it->second;
}

void TransferBoard::deliver(ChipId source, ChipId destination, std::vector<Hop> route, std::size_t hop,
                            PostedTransfer transfer) {
  const ChipId at = route[hop].to;
  const PortIndex port = port_on(system_.links[static_cast<std::size_t>(route[hop].link.value())], at);
  {
    // Each vector enters the port's buffer when it is sent; the buffer must have room.
    const Cycle flight = chip(route[hop].from).flight_after_send(route[hop].link);
    PortBuffer& b = buffers_[{at.value(), port.value()}];
    const std::size_t room = limits::kC2cPortBufferVectors;
    for (Cycle arrival : transfer.arrivals) {
      const Cycle sent = arrival - flight;
      const std::size_t k = b.pushed.size();
      if (k >= room && b.taken.size() > k - room && b.taken[k - room] >= sent) fail_port_buffer(at, port, sent);
      b.pushed.push_back(sent);
    }
  }
  Inbound in;
  in.id = transfer.id;
  in.forward = at != destination;
  in.source = source;
  in.destination = destination;
  in.hop = hop;
  if (in.forward) {
    in.route = std::move(route);
    in.transfer = std::move(transfer);
  } else {
    transfer.arrives_on = port;
    mail_[{source.value(), destination.value()}].push_back(std::move(transfer));
  }
  inbound_[{at.value(), port.value()}].push_back(std::move(in));
  pump(at, port);
}

void TransferBoard::pump(ChipId at, PortIndex port) {
  auto& queue = inbound_[{at.value(), port.value()}];
  while (!queue.empty() && queue.front().forward) {
    Inbound in = std::move(queue.front());
    queue.pop_front();
    const std::size_t next = in.hop + 1;
    const Hop& hop = in.route[next];
    const PortIndex out = port_on(system_.links[static_cast<std::size_t>(hop.link.value())], at);
    in.transfer.arrivals =
        chip(at).forward(in.transfer.arrivals, port, out, hop.link, in.destination, next + 1 == in.route.size());
    deliver(in.source, in.destination, std::move(in.route), next, std::move(in.transfer));
  }
}

void TransferBoard::post(ChipId from, ChipId to, PostedTransfer transfer) {
  deliver(from, to, system_.route(from, to), 0, std::move(transfer));
}

std::optional<PostedTransfer> TransferBoard::take(ChipId from, ChipId to) {
  auto it = mail_.find({from.value(), to.value()});
  if (it == mail_.end() || it->second.empty()) return std::nullopt;
  PostedTransfer& t = it->second.front();
  auto& queue = inbound_[{to.value(), t.arrives_on.value()}];
  if (queue.empty() || queue.front().id != t.id) return std::nullopt;  // an older transfer on the port first
  queue.pop_front();
  PostedTransfer taken = std::move(t);
  it->second.pop_front();
  return taken;
}

void TransferBoard::note_receive(ChipId chip, PortIndex port, Cycle cycle) {
  PortBuffer& b = buffers_[{chip.value(), port.value()}];
  const std::size_t j = b.taken.size(), room = limits::kC2cPortBufferVectors;
  if (b.pushed.size() > j + room && b.pushed[j + room] <= cycle) fail_port_buffer(chip, port, b.pushed[j + room]);
  b.taken.push_back(cycle);
}

void TransferBoard::fail_port_buffer(ChipId chip, PortIndex port, Cycle when) const {
  throw PortBufferOverflow(fmt::format(
      "{}: chip {}'s C2C port {} would hold more than {} vectors in cycle {} (they are sent to it faster than the "
      "chip takes them: forwards waiting for a busy link, or receives for their words); lpusim's compiler does not "
      "schedule around a port's buffer yet: a shorter prompt chunk, a smaller batch or a tensor-parallel group of "
      "one node's chips fits",
      system_.file.empty() ? system_.name : system_.file, chip.value(), port.value(), limits::kC2cPortBufferVectors,
      when.value()));
}

std::int64_t TransferBoard::untaken() const {
  std::int64_t n = 0;
  for (const auto& [key, queue] : inbound_) n += static_cast<std::int64_t>(queue.size());
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

Cycle C2cTransfers::serialisation(LinkId link) const {
  return board_->system().link_class_of(link).serialization(geo_.chip().lanes(), geo_.chip().clock_mhz);
}

Cycle C2cTransfers::flight_after_send(LinkId link) const {
  return serialisation(link) + board_->system().link_class_of(link).latency + board_->system().hop_margin;
}

std::vector<Cycle> C2cTransfers::arrival_cycles(LinkId link, const std::vector<Cycle>& sends) const {
  // Arrival: after the vector's serialisation and the link's latency, plus the margin the
  // system asks the compiler to leave for what the deskew did not remove.
  // The link starts serialising when the send samples its stream, skew cycles after issue.
  const Cycle flight = geo_.chip().timing_of(Opcode::Send).skew + flight_after_send(link);
  std::vector<Cycle> out;
  out.reserve(sends.size());
  for (Cycle t : sends) out.push_back(t + flight);
  return out;
}

void C2cTransfers::send(const Node& node) {
  require_board(node);
  const ChipId peer(node.peer);
  const SystemConfig& system = board_->system();
  const std::vector<Hop> route = system.route(chip_, peer);
  if (route.empty()) throw std::logic_error(fmt::format("lowering: '{}' sends to its own chip", node.name));
  const SystemLink& first = system.links[static_cast<std::size_t>(route[0].link.value())];
  const PortIndex out = port_on(first, chip_);
  const ChipConfig& chip = geo_.chip();
  const Act& a = memory_.act(node.inputs[0]);
  const Position port = port_position(out);
  const QueueId queue{UnitKind::C2c, Hemisphere::West, out.value()};
  const Cycle read_func = geo_.func(Opcode::Read);
  const Cycle send_skew = chip.timing_of(Opcode::Send).skew;
  const Cycle serialised = serialisation(route[0].link);
  Cycle& link_free = link_free_.try_emplace(out.value(), sb_.floor()).first->second;
  // A vector that must be forwarded carries its destination.
  std::vector<Operand> tail;
  if (route.size() > 1) tail.push_back(int_operand(peer.value()));

  PostedTransfer posted;
  posted.id = board_->next_id();
  posted.tensor = memory_.graph().tensors[static_cast<std::size_t>(node.inputs[0])].name;
  posted.rows = a.rows;
  posted.cols = a.cols;
  std::vector<Cycle> sends;
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
          std::vector<Operand> ops{int_operand(out.value()), stream_operand(dir, *stream)};
          ops.insert(ops.end(), tail.begin(), tail.end());
          sb_.place(queue, PlacedInstruction{t, make_instruction(Opcode::Send, DType::None, ops)});
          break;
        }
        link_free = t + serialised;
        sends.push_back(t);
      }
    }
  stats_.note_node_end(node, sends.empty() ? 0 : (sends.back() + serialised).value());
  posted.arrivals = arrival_cycles(route[0].link, sends);
  board_->post(chip_, peer, std::move(posted));  // forwarded on the way, if the peer is further
}

std::vector<Cycle> C2cTransfers::forward(const std::vector<Cycle>& arrivals, PortIndex in, PortIndex out, LinkId link,
                                         ChipId destination, bool last_hop) {
  // Forwarding belongs to no node of this chip's graph.
  const int attribution = sb_.attribution();
  sb_.set_attribution(-1);
  const bool floor_was = sb_.apply_floor(false);
  const ChipConfig& chip = geo_.chip();
  const Position in_pos = port_position(in), out_pos = port_position(out);
  const QueueId in_queue{UnitKind::C2c, Hemisphere::West, in.value()};
  const QueueId out_queue{UnitKind::C2c, Hemisphere::West, out.value()};
  const Cycle receive_skew = chip.timing_of(Opcode::Receive).skew;
  const Cycle receive_func = chip.timing_of(Opcode::Receive).func;
  const Cycle send_skew = chip.timing_of(Opcode::Send).skew;
  const Cycle crossing = geo_.hops(in_pos, out_pos);
  const Direction dir = ScheduleBuilder::toward(in_pos, out_pos);
  const Cycle serialised = serialisation(link);
  Cycle& last = last_receive_.try_emplace(in.value(), sb_.floor() - Cycle(1)).first->second;
  Cycle& link_free = link_free_.try_emplace(out.value(), sb_.floor()).first->second;
  std::vector<Cycle> sends;
  for (Cycle arrival : arrivals) {
    // The value is on the stream at the in-port in r + receive_func and reaches the out-port
    // `crossing` cycles later, where the send samples it in t + send_skew.
    Cycle r = std::max({last + Cycle(1), arrival - receive_skew, link_free + send_skew - receive_func - crossing});
    Cycle t{0};
    for (const Cycle limit = r + Cycle(kSearchLimit);; r += Cycle(1)) {
      if (r > limit) throw std::logic_error("lowering found no slot to forward a C2C vector within a million cycles");
      t = r + receive_func + crossing - send_skew;
      if (t < link_free) continue;
      if (!sb_.queue_free(in_queue, r) || !sb_.queue_free(out_queue, t)) continue;
      const auto stream = sb_.find_streams(dir, 1, in_pos, out_pos, r + receive_func);
      if (!stream) continue;
      sb_.reserve_streams(dir, *stream, 1, in_pos, out_pos, r + receive_func);
      sb_.place(in_queue, PlacedInstruction{r, make_instruction(Opcode::Receive, DType::None,
                                                                {int_operand(in.value()), stream_operand(dir, *stream)})});
      std::vector<Operand> ops{int_operand(out.value()), stream_operand(dir, *stream)};
      if (!last_hop) ops.push_back(int_operand(destination.value()));
      sb_.place(out_queue, PlacedInstruction{t, make_instruction(Opcode::Send, DType::None, ops)});
      break;
    }
    board_->note_receive(chip_, in, r + receive_skew);  // the moment the vector leaves the buffer
    last = r;
    link_free = t + serialised;
    sends.push_back(t);
  }
  sb_.set_attribution(attribution);
  sb_.apply_floor(floor_was);
  return arrival_cycles(link, sends);
}

void C2cTransfers::start_at(Cycle gate) {
  for (auto& [port, free] : link_free_) free = std::max(free, gate);
  for (auto& [port, last] : last_receive_) last = std::max(last, gate - Cycle(1));
}

Hemisphere C2cTransfers::arrival_side(const Node& recv) const {
  require_board(recv);
  const std::vector<Hop> route = board_->system().route(ChipId(recv.peer), chip_);
  if (route.empty()) throw std::logic_error(fmt::format("lowering: '{}' receives from its own chip", recv.name));
  const PortIndex port = port_on(board_->system().links[static_cast<std::size_t>(route.back().link.value())], chip_);
  return port_position(port).value() == 0 ? Hemisphere::West : Hemisphere::East;
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
  // A hand-off into a gated stage was placed before the run (place_stage_input), so that
  // its words do not depend on the order the hand-offs arrive in.
  Act& a = memory_.placed(out) ? memory_.mutable_act(out) : memory_.make_act(out, rows, cols, side);
  Cycle& last = last_receive_.try_emplace(port_index.value(), sb_.floor() - Cycle(1)).first->second;
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
        board_->note_receive(chip_, port_index, r + receive_skew);
        last = r;
      }
      a.ready_at(m, j) = ready;
      end = std::max(end, ready);
    }
  stats_.note_node_end(node, end.value());
  board_->pump(chip_, port_index);  // forwards that waited behind this transfer on the port
  return true;
}

}  // namespace lpusim
