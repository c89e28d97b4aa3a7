#include "models/c2c_network.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/exec/calendar.hpp"

namespace lpusim {

C2cNetwork::C2cNetwork(const SystemConfig& system)
    : system_(system), ports_(system.chip.c2c_links),
      busy_until_(static_cast<std::size_t>(system.chips) * static_cast<std::size_t>(ports_), Cycle(0)),
      inbound_(static_cast<std::size_t>(system.chips) * static_cast<std::size_t>(ports_)),
      sent_(static_cast<std::size_t>(system.chips)), received_(static_cast<std::size_t>(system.chips)),
      busy_cycles_(static_cast<std::size_t>(system.chips)),
      overflow_of_port_(static_cast<std::size_t>(system.chips) * static_cast<std::size_t>(ports_), -1) {}

std::optional<C2cNetwork::FarEnd> C2cNetwork::far_end(ChipId chip, int port) const {
  const auto link = system_.link_at(chip, PortIndex(port));
  if (!link) return std::nullopt;
  const SystemLink& l = system_.links[static_cast<std::size_t>(link->value())];
  const bool from_a = l.a.chip == chip && l.a.port == PortIndex(port);
  const LinkEnd& other = from_a ? l.b : l.a;
  return FarEnd{other.chip, other.port.value(), &system_.link_class_of(*link)};
}

std::int64_t C2cNetwork::lookahead() const {
  const auto latency = system_.min_link_latency();
  return latency ? latency->value() : Calendar::kNever;
}

Cycle C2cNetwork::send(ChipId chip, int port, Cycle now, int bytes, double clock_mhz, int destination,
                       const std::uint8_t* data, int sender) {
  const auto far = far_end(chip, port);
  if (!far) throw std::logic_error(fmt::format("c2c: chip {} port {} is not connected", chip.value(), port));
  Cycle& busy = busy_until_[port_index(chip, port)];
  const Cycle start = std::max(now, busy);
  const Cycle done = start + far->link_class->serialization(bytes, clock_mhz);
  busy = done;
  C2cMessage m;
  m.sent = start;
  m.arrival = done + far->link_class->latency;
  m.source = chip;
  m.destination = destination;
  m.sender = sender;
  if (data) m.data.assign(data, data + bytes);
  if (calendar_ && m.arrival.value() < calendar_->window_end())
    throw std::logic_error(fmt::format("c2c: a vector arriving at cycle {} inside the window ending at {}: the "
                                       "lookahead is longer than the link",
                                       m.arrival.value(), calendar_->window_end()));
  const std::size_t to = port_index(far->chip, far->port);
  auto& buffer = inbound_[to];
  if (buffer.size() >= kMaxBuffered) {
    int& o = overflow_of_port_[to];
    if (o < 0) {
      o = static_cast<int>(overflows_.size());
      overflows_.push_back(Overflow{far->chip, far->port, 0, std::move(buffer.front())});
    }
    ++overflows_[static_cast<std::size_t>(o)].count;
    buffer.pop_front();
  }
  buffer.push_back(std::move(m));
  ++sent_[index(chip)];
  busy_cycles_[index(chip)] += static_cast<std::uint64_t>((done - start).value());
  return start - now;
}

std::optional<C2cMessage> C2cNetwork::receive(ChipId chip, int port, Cycle now) {
  auto& buffer = inbound_[port_index(chip, port)];
  if (buffer.empty() || buffer.front().arrival > now) return std::nullopt;
  C2cMessage m = std::move(buffer.front());
  buffer.pop_front();
  ++received_[index(chip)];
  return m;
}

const C2cMessage* C2cNetwork::next_inbound(ChipId chip, int port) const {
  const auto& buffer = inbound_[port_index(chip, port)];
  return buffer.empty() ? nullptr : &buffer.front();
}

std::vector<C2cNetwork::Leftover> C2cNetwork::leftovers() const {
  std::vector<Leftover> out;
  for (int c = 0; c < system_.chips; ++c)
    for (int p = 0; p < ports_; ++p)
      for (const auto& m : inbound_[port_index(ChipId(c), p)]) out.push_back(Leftover{ChipId(c), p, &m});
  return out;
}

}  // namespace lpusim
