#include "engine/fabric/stream_fabric.hpp"

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
}

void StreamFabric::allocate_ring() { ring_.resize(static_cast<std::size_t>(streams_) * 2 * ring_size_); }

std::uint8_t* StreamFabric::overwrite(StreamWriteRecord& rec, StreamId stream, Cycle cycle, int writer,
                                      std::size_t bytes) {
  collisions_.push_back(StreamCollision{stream, rec.position, cycle, rec.writer, writer});
  return fill(rec, cycle, writer, bytes);  // the later write replaces the value
}

std::uint8_t* StreamFabric::allocate(StreamWriteRecord& rec, std::size_t bytes) {
  rec.bytes = std::make_unique<std::uint8_t[]>(bytes);
  rec.capacity = bytes;
  return rec.bytes.get();
}

void StreamFabric::write(StreamId stream, Position position, Cycle cycle, StreamData data, int writer) {
  std::uint8_t* out = write(stream, position, cycle, writer, data ? data->size() : 0);
  if (out && !data->empty()) std::memcpy(out, data->data(), data->size());
}

}  // namespace lpusim
