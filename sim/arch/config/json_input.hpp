#pragma once
// Strict JSON input: every file a user hands in goes through here, so that an unknown
// key, a wrong type or an out-of-range value is reported the same way everywhere:
// one line naming the file, the key and what was expected (InputError, exit code 2).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lpusim {

/// Reads a whole text file that the user named. Rejects a missing path, a directory, an
/// unreadable file, a file larger than `max_bytes` and a file holding NUL bytes.
/// Checks that a path the user named is a readable regular file; returns its size in bytes.
std::uintmax_t check_user_file(const std::string& path, std::uintmax_t max_bytes);

std::string read_user_text_file(const std::string& path, std::uintmax_t max_bytes = 64u << 20);

/// Parses JSON text with a nesting limit; errors name file:line:column.
nlohmann::json parse_user_json(const std::string& text, const std::string& file, int max_depth = 32);

/// Loads and parses a user JSON file (read_user_text_file + parse_user_json).
nlohmann::json load_user_json(const std::string& path);

/// A view of one JSON object that remembers which keys were read. `finish()` rejects any
/// key nobody asked for, so a typo in a config is an error instead of a silent default.
class JsonObject {
 public:
  JsonObject(const nlohmann::json& value, std::string file, std::string path);

  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t min, std::int64_t max);
  double number(const std::string& key, double min, double max);
  std::string string(const std::string& key);
  std::optional<std::string> optional_string(const std::string& key);
  bool boolean(const std::string& key);
  JsonObject object(const std::string& key);
  /// The value of a key (marked as read), for arrays and free-form values.
  const nlohmann::json& raw(const std::string& key) { return get(key); }
  bool has(const std::string& key) const;
  /// Keys of this object, in file order (for maps such as per-opcode tables).
  std::vector<std::string> keys() const;

  /// Throws if any key was not read.
  void finish() const;
  /// Keys not read so far, in file order (for readers that warn instead of refusing).
  std::vector<std::string> unread_keys() const;

  const std::string& file() const { return file_; }
  std::string key_path(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json& get(const std::string& key);
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
  std::set<std::string> used_;
};

/// Short description of a JSON value for error messages (type and a clipped rendering).
std::string describe_json(const nlohmann::json& value);

}  // namespace lpusim
