#include "fabric/stream_fabric.hpp"

#include <cstring>

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

std::uint8_t* StreamFabric::write(StreamId stream, Position position, Cycle cycle, int writer, std::size_t bytes) {
  const std::int64_t key = diagonal_key(stream.direction, position, cycle);
  Diagonal& d = slot(stream, key);
  if (d.key != key) {
    d.key = key;
    d.count = 0;
  }
  ++writes_;
  StreamWriteRecord* rec = nullptr;
  for (std::size_t i = 0; i < d.count; ++i) {
    if (d.writers[i].position == position) {
      collisions_.push_back(StreamCollision{stream, position, cycle, d.writers[i].writer, writer});
      rec = &d.writers[i];  // the later write replaces the value
      break;
    }
  }
  if (!rec) {
    if (d.count == d.writers.size()) d.writers.emplace_back();
    rec = &d.writers[d.count++];
    rec->position = position;
  }
  rec->cycle = cycle;
  rec->writer = writer;
  if (bytes == 0) {
    rec->data.reset();
    return nullptr;
  }
  if (!rec->data) rec->data = std::make_unique<VectorBytes>(bytes);
  else if (rec->data->size() != bytes) rec->data->resize(bytes);
  return rec->data->data();
}

void StreamFabric::write(StreamId stream, Position position, Cycle cycle, StreamData data, int writer) {
  std::uint8_t* out = write(stream, position, cycle, writer, data ? data->size() : 0);
  if (out && !data->empty()) std::memcpy(out, data->data(), data->size());
}

const StreamWriteRecord* StreamFabric::read(StreamId stream, Position position, Cycle cycle) const {
  ++reads_;
  const std::int64_t key = diagonal_key(stream.direction, position, cycle);
  const Diagonal& d = slot(stream, key);
  if (d.key != key) return nullptr;
  const StreamWriteRecord* best = nullptr;
  const bool east = stream.direction == Direction::East;
  for (std::size_t i = 0; i < d.count; ++i) {
    const auto& w = d.writers[i];
    const bool upstream = east ? w.position <= position : w.position >= position;
    if (!upstream) continue;
    if (!best || (east ? w.position > best->position : w.position < best->position)) best = &w;
  }
  return best;
}

}  // namespace lpusim
