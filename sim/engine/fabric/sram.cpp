#include "engine/fabric/sram.hpp"

#include <algorithm>
#include <cstring>

namespace lpusim {

SramSlice::SramSlice(std::int64_t words, int word_bytes)
    : words_(words), word_bytes_(word_bytes),
      pages_(static_cast<std::size_t>((words + kPageWords - 1) / kPageWords)) {}

std::uint8_t* SramSlice::word(Address address, bool allocate) {
  auto& page = pages_[static_cast<std::size_t>(address.value() / kPageWords)];
  if (!page) {
    if (!allocate) return nullptr;
    page = std::make_unique<std::uint8_t[]>(static_cast<std::size_t>(kPageWords * word_bytes_));
  }
  return page.get() + (address.value() % kPageWords) * word_bytes_;
}

void SramSlice::commit_before(Cycle cycle) {
  std::size_t i = head_;
  for (; i < pending_.size() && pending_[i].commit < cycle; ++i) {
    const auto& w = pending_[i];
    std::uint8_t* dst = word(w.address, true);
    std::memcpy(dst + w.lane_begin, &chunks_[w.chunk * static_cast<std::size_t>(word_bytes_)],
                static_cast<std::size_t>(w.lane_end - w.lane_begin));
    free_chunks_.push_back(w.chunk);
  }
  head_ = i;
  if (head_ == pending_.size()) {
    pending_.clear();
    head_ = 0;
  } else if (head_ >= 64 && 2 * head_ >= pending_.size()) {  // drop the committed prefix now and then
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void SramSlice::enqueue(Address address, Cycle commit, int lane_begin, int lane_end, const std::uint8_t* data) {
  std::size_t chunk;
  if (!free_chunks_.empty()) {
    chunk = free_chunks_.back();
    free_chunks_.pop_back();
  } else {
    chunk = chunks_.size() / static_cast<std::size_t>(word_bytes_);
    chunks_.resize(chunks_.size() + static_cast<std::size_t>(word_bytes_));
  }
  std::memcpy(&chunks_[chunk * static_cast<std::size_t>(word_bytes_)], data, static_cast<std::size_t>(lane_end - lane_begin));
  const PendingWrite w{commit, address, lane_begin, lane_end, chunk};
  // Keep the list ordered by commit cycle (stable: equal cycles commit in arrival order).
  if (pending_.size() == head_ || !(commit < pending_.back().commit)) {
    pending_.push_back(w);
    return;
  }
  auto it = std::upper_bound(pending_.begin() + static_cast<std::ptrdiff_t>(head_), pending_.end(), commit,
                             [](Cycle c, const PendingWrite& p) { return c < p.commit; });
  pending_.insert(it, w);
}

void SramSlice::read(Address address, Cycle cycle, std::uint8_t* out) {
  commit_before(cycle);
  const std::uint8_t* src = word(address, false);
  if (src) std::memcpy(out, src, static_cast<std::size_t>(word_bytes_));
  else std::memset(out, 0, static_cast<std::size_t>(word_bytes_));
}

void SramSlice::write(Address address, Cycle commit, const std::uint8_t* data, int lanes_to_write) {
  enqueue(address, commit, 0, lanes_to_write, data);
}

void SramSlice::write_lane(Address address, Cycle commit, int lane, std::uint8_t value) {
  enqueue(address, commit, lane, lane + 1, &value);
}

void SramSlice::poke(Address address, const std::uint8_t* data) {
  std::memcpy(word(address, true), data, static_cast<std::size_t>(word_bytes_));
}

void SramSlice::peek(Address address, std::uint8_t* out) {
  const std::uint8_t* src = word(address, false);
  if (src) std::memcpy(out, src, static_cast<std::size_t>(word_bytes_));
  else std::memset(out, 0, static_cast<std::size_t>(word_bytes_));
}

void SramSlice::flush() { commit_before(Cycle(INT64_MAX)); }

std::int64_t SramSlice::allocated_bytes() const {
  std::int64_t pages = 0;
  for (const auto& p : pages_) pages += p ? 1 : 0;
  return pages * kPageWords * word_bytes_;
}

}  // namespace lpusim
