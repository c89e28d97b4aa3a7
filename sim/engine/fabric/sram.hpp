#pragma once
// Contents of one MEM slice: `words` words of `word_bytes` bytes, allocated a page at a
// time on first write so that timing-only runs and sparse programs cost no host memory.
// Writes commit at a cycle; a read in cycle c sees the writes committed before c.
#include <cstdint>
#include <memory>
#include <vector>

#include "arch/core/types.hpp"

namespace lpusim {

class SramSlice {
 public:
  static constexpr std::int64_t kPageWords = 256;

  SramSlice(std::int64_t words, int word_bytes);

  /// Reads the word at `address` as seen in `cycle` into `out` (word_bytes bytes).
  void read(Address address, Cycle cycle, std::uint8_t* out);
  /// Schedules a write of `data` into `address` that commits at the end of `commit` cycle.
  void write(Address address, Cycle commit, const std::uint8_t* data, int lanes_to_write);
  /// Writes one byte of one lane (scatter).
  void write_lane(Address address, Cycle commit, int lane, std::uint8_t value);
  /// Direct access for loading inputs and dumping results outside simulated time.
  void poke(Address address, const std::uint8_t* data);
  void peek(Address address, std::uint8_t* out);
  /// Commits every pending write.
  void flush();
  /// Commits the writes that commit before `cycle` (no read of an earlier cycle may follow).
  void commit_before(Cycle cycle);

  std::int64_t words() const { return words_; }
  std::int64_t allocated_bytes() const;

 private:
  struct PendingWrite {
    Cycle commit;
    Address address;
    int lane_begin;
    int lane_end;
    std::size_t chunk;  // its lane_end - lane_begin bytes start at chunks_[chunk * word_bytes_]
  };
  std::uint8_t* word(Address address, bool allocate);
  /// Queues a write of `data` to lanes [lane_begin, lane_end) of `address`.
  void enqueue(Address address, Cycle commit, int lane_begin, int lane_end, const std::uint8_t* data);

  std::int64_t words_;
  int word_bytes_;
  std::vector<std::unique_ptr<std::uint8_t[]>> pages_;
  // Pending writes, sorted by commit cycle (writes arrive nearly in order): [head_, end) are
  // live. Their bytes live in reused word-sized chunks, so a write allocates nothing once
  // the pool has grown to the number of writes in flight.
  std::vector<PendingWrite> pending_;
  std::size_t head_ = 0;
  std::vector<std::uint8_t> chunks_;
  std::vector<std::size_t> free_chunks_;
};

}  // namespace lpusim
