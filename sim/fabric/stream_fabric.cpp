#include "fabric/stream_fabric.hpp"

namespace lpusim {

StreamFabric::StreamFabric(int positions, int streams, Cycle hop, Cycle max_lookahead)
    : positions_(positions), streams_(streams), hop_(hop) {
  // Live diagonals at any moment span positions*hop (values in flight) plus the lookahead
  // of future writes; a ring larger than that never holds two live diagonals in one slot.
  const std::int64_t span = static_cast<std::int64_t>(positions) * hop.value() + max_lookahead.value() + 2;
  std::size_t size = 1;
  while (static_cast<std::int64_t>(size) < span) size <<= 1;
  ring_size_ = size;
  mask_ = static_cast<std::int64_t>(size) - 1;
  ring_.resize(static_cast<std::size_t>(streams) * 2 * size);
}

void StreamFabric::write(StreamId stream, Position position, Cycle cycle, StreamData data, int writer) {
  const std::int64_t key = diagonal_key(stream.direction, position, cycle);
  Diagonal& d = slot(stream, key);
  if (d.key != key) {
    d.key = key;
    d.writers.clear();
  }
  ++writes_;
  for (auto& w : d.writers) {
    if (w.position == position) {
      collisions_.push_back(StreamCollision{stream, position, cycle, w.writer, writer});
      w.data = std::move(data);
      w.writer = writer;
      return;
    }
  }
  d.writers.push_back(StreamWriteRecord{position, cycle, std::move(data), writer});
}

const StreamWriteRecord* StreamFabric::read(StreamId stream, Position position, Cycle cycle) const {
  ++reads_;
  const std::int64_t key = diagonal_key(stream.direction, position, cycle);
  const Diagonal& d = slot(stream, key);
  if (d.key != key) return nullptr;
  const StreamWriteRecord* best = nullptr;
  for (const auto& w : d.writers) {
    const bool upstream = stream.direction == Direction::East ? w.position <= position : w.position >= position;
    if (!upstream) continue;
    if (!best || (stream.direction == Direction::East ? w.position > best->position : w.position < best->position))
      best = &w;
  }
  return best;
}

}  // namespace lpusim
