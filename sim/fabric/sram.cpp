#include "fabric/sram.hpp"

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
  std::size_t done = 0;
  for (; done < pending_.size() && pending_[done].commit < cycle; ++done) {
    const auto& w = pending_[done];
    std::uint8_t* dst = word(w.address, true);
    std::memcpy(dst + w.lane_begin, w.bytes.data(), static_cast<std::size_t>(w.lane_end - w.lane_begin));
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
}

void SramSlice::read(Address address, Cycle cycle, std::uint8_t* out) {
  commit_before(cycle);
  const std::uint8_t* src = word(address, false);
  if (src) std::memcpy(out, src, static_cast<std::size_t>(word_bytes_));
  else std::memset(out, 0, static_cast<std::size_t>(word_bytes_));
}

void SramSlice::write(Address address, Cycle commit, const std::uint8_t* data, int lanes_to_write) {
  PendingWrite w{commit, address, 0, lanes_to_write, std::vector<std::uint8_t>(data, data + lanes_to_write)};
  // Keep the list ordered by commit cycle; writes from one queue nearly always arrive in order.
  auto it = std::upper_bound(pending_.begin(), pending_.end(), commit,
                             [](Cycle c, const PendingWrite& p) { return c < p.commit; });
  pending_.insert(it, std::move(w));
}

void SramSlice::write_lane(Address address, Cycle commit, int lane, std::uint8_t value) {
  PendingWrite w{commit, address, lane, lane + 1, std::vector<std::uint8_t>{value}};
  auto it = std::upper_bound(pending_.begin(), pending_.end(), commit,
                             [](Cycle c, const PendingWrite& p) { return c < p.commit; });
  pending_.insert(it, std::move(w));
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
