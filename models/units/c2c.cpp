#include "models/units/c2c.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace lpusim {

C2c::C2c(const sc_core::sc_module_name& name, ChipState& context, C2cNetwork* network)
    : sc_module(name), context_(context), network_(network) {}

void C2c::attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats) {
  queues_.push_back(std::make_unique<QueueRunner>(queue, context_, *this, icu, stats,
                                                  static_cast<int>(&stats - context_.queue_stats.data())));
  icu.add_queue(*queues_.back());
}

void C2c::execute(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  if (!network_) throw std::logic_error("c2c: a C2C instruction on a chip without a system");
  switch (ins.opcode) {
    case Opcode::Send: send(issue, now, queue); break;
    case Opcode::Receive: receive(issue, now, queue); break;
    default: break;  // deskew: its issue slot only (one global cycle count)
  }
  context_.note_effect(now - ins.timing.skew + ins.timing.func, issue.vector_lanes);
}

void C2c::send(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const int link = static_cast<int>(ins.integer);
  // Read in both modes: the read is what the schedule checker verifies.
  const std::uint8_t* data = context_.read_stream(ins.src_a, issue.queue->position, now, ins, queue);
  const Cycle waited = network_->send(context_.index, link, now, issue.vector_lanes, context_.chip.clock_mhz,
                                      static_cast<int>(ins.address), data, ins.id);
  if (waited > Cycle(0))
    context_.add_hazard(Hazard::Kind::LinkBusy, now, queue,
                        fmt::format("'{}' (line {}) sends on link {} in cycle {}, while the link is still "
                                    "serialising an earlier vector for {} more cycles",
                                    ins.text, ins.loc.line, link, now.value(), waited.value()));
}

void C2c::receive(const Issue& issue, Cycle now, const std::string& queue) {
  const BoundInstruction& ins = *issue.instruction;
  const int link = static_cast<int>(ins.integer);
  const Cycle done = now - ins.timing.skew + ins.timing.func;
  std::optional<C2cMessage> message = network_->receive(context_.index, link, now);
  if (!message) {
    const C2cMessage* next = network_->next_inbound(context_.index, link);
    context_.add_hazard(Hazard::Kind::ReceiveEmpty, now, queue,
                        fmt::format("'{}' (line {}) receives on link {} in cycle {}, where no vector has arrived{}",
                                    ins.text, ins.loc.line, link, now.value(),
                                    next ? fmt::format(" (the next, from chip {}, arrives in cycle {})",
                                                       next->source.value(), next->arrival.value())
                                         : std::string()));
  }
  std::uint8_t* out = context_.write_stream(ins.dst, issue.queue->position, done, ins);
  if (!out) return;
  const auto bytes = static_cast<std::size_t>(context_.chip.vector_bytes());
  std::memset(out, 0, bytes);
  if (message && !message->data.empty()) {
    const auto lanes = std::min({message->data.size(), bytes, static_cast<std::size_t>(issue.vector_lanes)});
    std::memcpy(out, message->data.data(), lanes);
  }
}

}  // namespace lpusim
