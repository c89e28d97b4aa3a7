#include "arch/config/json_input.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {
namespace fs = std::filesystem;

std::uintmax_t check_user_file(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  // A symlink loop or an unreadable folder is said as such, not as a missing file.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw InputError(fmt::format("{}: cannot open ({})", one_line(path), ec.message()));
  if (ec || !fs::exists(status)) throw InputError(fmt::format("{}: file not found", path));
  if (fs::is_directory(status)) throw InputError(fmt::format("{}: is a directory, expected a file", path));
  if (!fs::is_regular_file(status)) throw InputError(fmt::format("{}: not a regular file", path));
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read file size ({})", path, ec.message()));
  if (size > max_bytes)
    throw InputError(fmt::format("{}: file is {} bytes, larger than the {} bytes accepted", path, size, max_bytes));
  return size;
}

std::string read_user_text_file(const std::string& path, std::uintmax_t max_bytes) {
  (void)check_user_file(path, max_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file for reading", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
  std::string text = buffer.str();
  if (text.find('\0') != std::string::npos)
    throw InputError(fmt::format("{}: file holds NUL bytes, expected text", path));
  return text;
}

namespace {
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return {line, col};
}
}  // namespace

nlohmann::json parse_user_json(const std::string& text, const std::string& file, int max_depth) {
  bool too_deep = false;
  // The callback sees every nesting step; refusing deep input keeps recursion bounded.
  auto limit_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > max_depth) too_deep = true;
    return !too_deep;
  };
  try {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw InputError(fmt::format("{}: file is empty, expected a JSON object", file));
    nlohmann::json value = nlohmann::json::parse(text, limit_depth, /*allow_exceptions=*/true);
    if (too_deep) throw InputError(fmt::format("{}: JSON nested deeper than {} levels", file, max_depth));
    return value;
  } catch (const nlohmann::json::out_of_range& e) {
    // Numbers beyond double range (1e400) are refused by the parser itself.
    std::string what = e.what();
    const auto pos = what.find("] ");
    throw InputError(fmt::format("{}: invalid JSON: {}", file, pos == std::string::npos ? what : what.substr(pos + 2)));
  } catch (const nlohmann::json::parse_error& e) {
    if (too_deep) throw InputError(fmt::format("{}: JSON nested deeper than {} levels", file, max_depth));
    const auto [line, col] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    const auto pos = what.find("syntax error");
    throw InputError(fmt::format("{}:{}:{}: invalid JSON: {}", file, line, col,
                                 pos == std::string::npos ? what : what.substr(pos)));
  }
}

nlohmann::json load_user_json(const std::string& path) {
  return parse_user_json(read_user_text_file(path), path);
}

std::string describe_json(const nlohmann::json& value) {
  if (value.is_null()) return "null";  // not "null null"
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", value.type_name(), text);
}

JsonObject::JsonObject(const nlohmann::json& value, std::string file, std::string path)
    : value_(&value), file_(std::move(file)), path_(std::move(path)) {
  if (!value.is_object()) {
    throw InputError(fmt::format("{}: {}: expected an object, got {}", file_,
                                 path_.empty() ? std::string("top level") : path_, describe_json(value)));
  }
}

std::string JsonObject::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void JsonObject::fail(const std::string& key, const std::string& expected) const {
  throw InputError(fmt::format("{}: key '{}': {}", file_, key_path(key), expected));
}

bool JsonObject::has(const std::string& key) const { return value_->contains(key); }

std::vector<std::string> JsonObject::keys() const {
  std::vector<std::string> result;
  for (auto it = value_->begin(); it != value_->end(); ++it) result.push_back(it.key());
  return result;
}

const nlohmann::json& JsonObject::get(const std::string& key) {
  auto it = value_->find(key);
  if (it == value_->end()) fail(key, "missing (required)");
  used_.insert(key);
  return *it;
}

std::int64_t JsonObject::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  const auto& v = get(key);
  if (!v.is_number_integer())
    fail(key, fmt::format("expected an integer in [{}, {}], got {}", min, max, describe_json(v)));
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max))
      fail(key, fmt::format("expected an integer in [{}, {}], got {}", min, max, u));
    x = static_cast<std::int64_t>(u);
  } else {
    x = v.get<std::int64_t>();
  }
  if (x < min || x > max) fail(key, fmt::format("expected an integer in [{}, {}], got {}", min, max, x));
  return x;
}

std::optional<std::int64_t> JsonObject::optional_integer(const std::string& key, std::int64_t min,
                                                         std::int64_t max) {
  if (!has(key)) return std::nullopt;
  return integer(key, min, max);
}

double JsonObject::number(const std::string& key, double min, double max) {
  const auto& v = get(key);
  if (!v.is_number()) fail(key, fmt::format("expected a number in [{}, {}], got {}", min, max, describe_json(v)));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max)
    fail(key, fmt::format("expected a number in [{}, {}], got {}", min, max, x));
  return x;
}

std::string JsonObject::string(const std::string& key) {
  const auto& v = get(key);
  if (!v.is_string()) fail(key, fmt::format("expected a string, got {}", describe_json(v)));
  return v.get<std::string>();
}

std::optional<std::string> JsonObject::optional_string(const std::string& key) {
  if (!has(key)) return std::nullopt;
  return string(key);
}

bool JsonObject::boolean(const std::string& key) {
  const auto& v = get(key);
  if (!v.is_boolean()) fail(key, fmt::format("expected true or false, got {}", describe_json(v)));
  return v.get<bool>();
}

JsonObject JsonObject::object(const std::string& key) {
  const auto& v = get(key);
  if (!v.is_object()) fail(key, fmt::format("expected an object, got {}", describe_json(v)));
  return JsonObject(v, file_, key_path(key));
}

std::vector<std::string> JsonObject::unread_keys() const {
  std::vector<std::string> result;
  for (auto it = value_->begin(); it != value_->end(); ++it)
    if (!used_.count(it.key())) result.push_back(it.key());
  return result;
}

void JsonObject::finish() const {
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (!used_.count(it.key())) {
      throw InputError(fmt::format("{}: key '{}': unknown key", file_, key_path(it.key())));
    }
  }
}

}  // namespace lpusim
