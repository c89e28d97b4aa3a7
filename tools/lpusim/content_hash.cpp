#include "content_hash.hpp"

#include <fmt/format.h>

namespace lpusim::cli {

ContentHash& ContentHash::add(std::string_view bytes) {
  for (const unsigned char c : bytes) {
    state_ ^= c;
    state_ *= 0x100000001b3ULL;
  }
  return *this;
}

ContentHash& ContentHash::field(std::string_view bytes) {
  add(std::to_string(bytes.size()));
  add(":");
  return add(bytes);
}

std::string ContentHash::hex() const { return fmt::format("{:016x}", state_); }

std::string content_hash_hex(std::string_view bytes) { return ContentHash().add(bytes).hex(); }

}  // namespace lpusim::cli
