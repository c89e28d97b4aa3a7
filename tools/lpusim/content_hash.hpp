#pragma once
// A stable 64-bit content hash (FNV-1a) for keying results by their inputs: a sweep point's
// derived chip, model config and scenario; a regression case's outputs. Not cryptographic;
// the same bytes give the same key on every machine and build.
#include <cstdint>
#include <string>
#include <string_view>

namespace lpusim::cli {

class ContentHash {
 public:
  ContentHash& add(std::string_view bytes);
  /// Adds a separator-terminated field, so ("ab", "c") and ("a", "bc") differ.
  ContentHash& field(std::string_view bytes);
  std::uint64_t value() const { return state_; }
  /// 16 lower-case hex digits.
  std::string hex() const;

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

std::string content_hash_hex(std::string_view bytes);

}  // namespace lpusim::cli
