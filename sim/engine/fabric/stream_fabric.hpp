#pragma once
// The stream registers, as a timestamped record instead of a clocked shift register.
//
// A value written onto stream s at position p in cycle t is in s's register at position q
// in cycle t + |q - p| * hop (q downstream of p), until a producer further upstream-of-q
// writes into the same register slot: the nearest upstream writer wins. Every register
// slot along one "diagonal" (constant t - p*hop eastward, t + p*hop westward) therefore
// holds the value of the nearest writer upstream of it on that diagonal. Storing writes
// per diagonal makes a read O(writers on the diagonal) and needs no process that ticks.
//
// Writes are always recorded before the cycle they become visible (func > skew, checked by
// the chip config), so a read in cycle c sees every write that can reach it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/core/types.hpp"

namespace lpusim {

using VectorBytes = std::vector<std::uint8_t>;
/// The data of one stream vector; null in timing-only mode, where only presence matters.
using StreamData = std::shared_ptr<const VectorBytes>;

struct StreamWriteRecord {
  Position position;
  Cycle cycle;
  int writer = -1;  ///< id of the writing instruction, for hazard reports
  /// The `size` bytes written (null in timing-only mode, where only presence matters).
  const std::uint8_t* data() const { return size > 0 ? bytes.get() : nullptr; }

  // Owned by the record and reused when its ring slot is reused, so a functional run
  // allocates no memory per write; one indirection, the simulation's hottest data access.
  std::unique_ptr<std::uint8_t[]> bytes;
  std::size_t size = 0;
  std::size_t capacity = 0;
};

/// Two writes into the same stream register at the same position and cycle.
struct StreamCollision {
  StreamId stream;
  Position position;
  Cycle cycle;
  int first_writer = -1;
  int second_writer = -1;
};

class StreamFabric {
 public:
  /// `positions` along the chip, `streams` per direction, `hop` cycles per position, and
  /// `max_lookahead`: the largest number of cycles a write may be recorded ahead of time.
  StreamFabric(int positions, int streams, Cycle hop, Cycle max_lookahead);

  /// Records a write and returns its buffer of `bytes` bytes for the writer to fill
  /// completely (nullptr when `bytes` is 0: timing-only). The buffer stays valid until the
  /// ring slot of its diagonal is reused, long after every read that can see it.
  /// Inline: every simulated stream access goes through here.
  std::uint8_t* write(StreamId stream, Position position, Cycle cycle, int writer, std::size_t bytes) {
    if (ring_.empty()) allocate_ring();
    const std::int64_t key = diagonal_key(stream.direction, position, cycle);
    Diagonal& d = slot(stream, key);
    ++writes_;
    if (d.key != key) {  // the first write on this diagonal: reuse the ring slot
      d.key = key;
      d.count = 0;
    } else {
      for (std::size_t i = 0; i < d.count; ++i)
        if (d.writers[i].position == position) return overwrite(d.writers[i], stream, cycle, writer, bytes);
    }
    if (d.count == d.writers.size()) d.writers.emplace_back();
    StreamWriteRecord& rec = d.writers[d.count++];
    rec.position = position;
    return fill(rec, cycle, writer, bytes);
  }
  /// Records a write of `data` (copied; null: presence only).
  void write(StreamId stream, Position position, Cycle cycle, StreamData data, int writer);
  /// The value in the register of `stream` at `position` during `cycle`, or nullptr with
  /// `found` false if no value has arrived there.
  const StreamWriteRecord* read(StreamId stream, Position position, Cycle cycle) const {
    ++reads_;
    if (ring_.empty()) return nullptr;  // nothing was ever written
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

  const std::vector<StreamCollision>& collisions() const { return collisions_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t reads() const { return reads_; }
  int positions() const { return positions_; }
  Cycle hop() const { return hop_; }

 private:
  struct Diagonal {
    std::int64_t key = INT64_MIN;
    std::size_t count = 0;                  // live records: writers[0, count)
    std::vector<StreamWriteRecord> writers;  // records past count are kept for their buffers
  };
  static std::uint8_t* fill(StreamWriteRecord& rec, Cycle cycle, int writer, std::size_t bytes) {
    rec.cycle = cycle;
    rec.writer = writer;
    rec.size = bytes;
    if (bytes == 0) return nullptr;
    if (rec.capacity < bytes) return allocate(rec, bytes);
    return rec.bytes.get();
  }
  // Out of line: rare (a collision is a hazard; a buffer is allocated once per ring slot).
  std::uint8_t* overwrite(StreamWriteRecord& rec, StreamId stream, Cycle cycle, int writer, std::size_t bytes);
  static std::uint8_t* allocate(StreamWriteRecord& rec, std::size_t bytes);
  // On the first write: a chip whose program never writes a stream (one idle in a window of
  // a large system) allocates nothing.
  void allocate_ring();
  std::int64_t diagonal_key(Direction d, Position p, Cycle c) const {
    return d == Direction::East ? c.value() - p.value() * hop_.value() : c.value() + p.value() * hop_.value();
  }
  Diagonal& slot(StreamId s, std::int64_t key) {
    return ring_[ring_index(s) + static_cast<std::size_t>(key & mask_)];
  }
  const Diagonal& slot(StreamId s, std::int64_t key) const {
    return ring_[ring_index(s) + static_cast<std::size_t>(key & mask_)];
  }
  std::size_t ring_index(StreamId s) const {
    return (static_cast<std::size_t>(s.index.value()) * 2 + (s.direction == Direction::West ? 1 : 0)) * ring_size_;
  }

  int positions_;
  int streams_;
  Cycle hop_;
  std::size_t ring_size_;
  std::int64_t mask_;
  std::vector<Diagonal> ring_;
  std::vector<StreamCollision> collisions_;
  std::uint64_t writes_ = 0;
  mutable std::uint64_t reads_ = 0;
};

}  // namespace lpusim
