#include "exec/tensor_io.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "config/json_input.hpp"
#include "core/error.hpp"
#include "numerics/vector_math.hpp"

namespace lpusim {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double wrap_integer(DType t, double v) {
  const int bits = dtype_bytes(t) * 8;
  const auto x = static_cast<std::int64_t>(v);
  const std::uint64_t m = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
  std::uint64_t u = static_cast<std::uint64_t>(x) & m;
  if (u >> (bits - 1)) return static_cast<double>(static_cast<std::int64_t>(u) - static_cast<std::int64_t>(1ULL << bits));
  return static_cast<double>(u);
}
}  // namespace

std::vector<double> fill_values(const BoundTensor& t, int lanes) {
  const auto n = static_cast<std::size_t>(t.vectors) * static_cast<std::size_t>(lanes);
  std::vector<double> v(n, 0.0);
  const bool is_float = dtype_is_float(t.dtype);
  std::uint64_t state = static_cast<std::uint64_t>(t.fill.first);
  for (std::size_t i = 0; i < n; ++i) {
    double x = 0;
    switch (t.fill.kind) {
      case TensorFill::Kind::None: break;
      case TensorFill::Kind::Const: x = t.fill.first; break;
      case TensorFill::Kind::Ramp: x = t.fill.first + t.fill.step * static_cast<double>(i); break;
      case TensorFill::Kind::Random: {
        const std::uint64_t r = splitmix64(state);
        if (t.fill.lanes > 0 && static_cast<int>(i % static_cast<std::size_t>(lanes)) >= t.fill.lanes) break;
        x = is_float ? static_cast<double>(r >> 11) / 9007199254740992.0 * 2.0 - 1.0
                     : static_cast<double>(static_cast<std::int64_t>(r));
        break;
      }
    }
    if (is_float) x = decode_element(t.dtype, encode_element(t.dtype, x));
    else x = wrap_integer(t.dtype, std::floor(x));
    v[i] = x;
  }
  return v;
}

std::vector<double> read_tensor_file(const std::string& path, const BoundTensor& t, int lanes) {
  const auto expected = static_cast<std::size_t>(t.vectors) * static_cast<std::size_t>(lanes);
  const int bytes = dtype_bytes(t.dtype);
  std::vector<double> values;
  const bool binary = path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
  if (binary) {
    // Binary files may hold NUL bytes, so they are read without the text checks.
    std::string text;
    {
      FILE* f = std::fopen(path.c_str(), "rb");
      if (!f) (void)read_user_text_file(path);  // produces the right error for missing/dir paths
      if (!f) throw InputError(fmt::format("{}: cannot open file for reading", path));
      char buffer[65536];
      std::size_t got;
      while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
        text.append(buffer, got);
        if (text.size() > expected * static_cast<std::size_t>(bytes)) break;
      }
      std::fclose(f);
    }
    if (text.size() != expected * static_cast<std::size_t>(bytes))
      throw InputError(fmt::format("{}: tensor '{}' needs {} {} elements = {} bytes, the file has {}{}", path, t.name,
                                   expected, dtype_name(t.dtype), expected * static_cast<std::size_t>(bytes),
                                   text.size() > expected * static_cast<std::size_t>(bytes) ? "more" : "",
                                   text.size() > expected * static_cast<std::size_t>(bytes) ? "" : std::to_string(text.size())));
    values.resize(expected);
    for (std::size_t i = 0; i < expected; ++i) {
      std::array<std::uint8_t, 4> b{};
      for (int k = 0; k < bytes; ++k) b[k] = static_cast<std::uint8_t>(text[i * static_cast<std::size_t>(bytes) + k]);
      values[i] = decode_element(t.dtype, b);
    }
    return values;
  }
  const std::string text = read_user_text_file(path, 1ULL << 30);
  std::size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '\n') { ++line; ++pos; continue; }
    if (c == ' ' || c == '\t' || c == '\r' || c == ',') { ++pos; continue; }
    std::size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\r' && text[end] != '\n' &&
           text[end] != ',')
      ++end;
    const std::string token = text.substr(pos, end - pos);
    char* stop = nullptr;
    const double v = std::strtod(token.c_str(), &stop);
    if (stop != token.c_str() + token.size() || !std::isfinite(v))
      throw InputError(fmt::format("{}:{}: expected a finite number for tensor '{}', got '{}'", path, line, t.name, token));
    if (!dtype_is_float(t.dtype) && !representable(t.dtype, v))
      throw InputError(fmt::format("{}:{}: {} is not a {} value (tensor '{}')", path, line, token, dtype_name(t.dtype), t.name));
    if (values.size() == expected)
      throw InputError(fmt::format("{}:{}: tensor '{}' takes {} values ({} vectors x {} lanes); the file has more", path,
                                   line, t.name, expected, t.vectors, lanes));
    values.push_back(dtype_is_float(t.dtype) ? decode_element(t.dtype, encode_element(t.dtype, v)) : v);
    pos = end;
  }
  if (values.size() != expected)
    throw InputError(fmt::format("{}: tensor '{}' takes {} values ({} vectors x {} lanes), the file has {}", path,
                                 t.name, expected, t.vectors, lanes, values.size()));
  return values;
}

std::string format_tensor(const std::vector<double>& values, int lanes) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += fmt::format("{}", values[i]);
    out += (i + 1) % static_cast<std::size_t>(lanes) == 0 ? "\n" : " ";
  }
  return out;
}

}  // namespace lpusim
