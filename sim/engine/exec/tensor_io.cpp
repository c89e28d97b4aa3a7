#include "engine/exec/tensor_io.hpp"

#include <cmath>
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
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
  // Reduce modulo 2^bits first: converting a double beyond the int64 range is undefined.
  const auto x = static_cast<std::int64_t>(std::fmod(v, std::ldexp(1.0, bits)));
  const std::uint64_t m = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
  std::uint64_t u = static_cast<std::uint64_t>(x) & m;
  if (u >> (bits - 1)) return static_cast<double>(static_cast<std::int64_t>(u) - static_cast<std::int64_t>(1ULL << bits));
  return static_cast<double>(u);
}
}  // namespace

std::uint64_t tensor_host_bytes(const BoundTensor& t, int lanes) {
  std::uint64_t bytes = 0;
  if (t.vectors < 0 || lanes < 0 ||
      !checked_mul(static_cast<std::uint64_t>(t.vectors), static_cast<std::uint64_t>(lanes) * sizeof(double), bytes))
    return UINT64_MAX;
  return bytes;
}

namespace {
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, a) ? a : UINT64_MAX; }
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, a) ? a : UINT64_MAX; }
}  // namespace

std::uint64_t run_host_bytes(const ChipConfig& chip, const BoundProgram& program, const SimOptions& options) {
  const int lanes = chip.lanes();
  std::uint64_t total = 0;
  std::set<std::string> loaded;
  for (const auto& t : program.tensors)
    if (t.fill.kind != TensorFill::Kind::None) loaded.insert(t.name);
  for (const auto& [name, path] : options.inputs) loaded.insert(name);
  for (const auto& t : program.tensors) {
    if (loaded.count(t.name)) total = sat_add(total, tensor_host_bytes(t, lanes));
    // A dump holds the values and their text (at most 24 characters a value).
    for (const auto& d : options.dumps)
      if (d == t.name) total = sat_add(total, sat_mul(tensor_host_bytes(t, lanes), 4));
  }
  // SRAM is allocated in pages of 256 words on first write. Per slice: the pages tensors
  // fill, plus one page for every word a write (and its repeats) or a scatter lane can reach,
  // but never more than the slice itself.
  constexpr std::uint64_t kPageWords = 256;
  const auto page_bytes = kPageWords * static_cast<std::uint64_t>(chip.vector_bytes());
  const auto slice_pages = (static_cast<std::uint64_t>(chip.mem_slice_words) + kPageWords - 1) / kPageWords;
  std::map<std::pair<int, int>, std::uint64_t> pages;
  for (const auto& t : program.tensors) {
    if (!loaded.count(t.name)) continue;
    const auto words = static_cast<std::uint64_t>(t.words_per_slice());
    for (const auto& s : t.slices)
      pages[{static_cast<int>(s.hemisphere), s.index.value()}] += words / kPageWords + 2;
  }
  std::uint64_t issued = 0;
  for (const auto& q : program.queues) {
    for (std::size_t i = 0; i < q.instructions.size(); ++i) {
      const auto& ins = q.instructions[i];
      issued = sat_add(issued, ins.opcode == Opcode::Repeat ? static_cast<std::uint64_t>(ins.integer) : 1);
      if (q.id.unit != UnitKind::Mem) continue;
      std::uint64_t touched = 0;
      if (ins.opcode == Opcode::Write) touched = 1;
      if (ins.opcode == Opcode::Scatter) touched = std::min<std::uint64_t>(static_cast<std::uint64_t>(lanes), 65536);
      for (std::size_t j = i + 1; touched && j < q.instructions.size() && q.instructions[j].opcode == Opcode::Repeat; ++j)
        touched = sat_mul(touched, static_cast<std::uint64_t>(q.instructions[j].integer) + 1);
      auto& p = pages[{static_cast<int>(q.id.hemisphere), q.id.index}];
      p = sat_add(p, touched);
    }
  }
  for (const auto& [slice, n] : pages) total = sat_add(total, sat_mul(std::min(n, slice_pages), page_bytes));
  // A trace keeps an event per issued instruction and renders it as JSON at the end.
  if (options.trace) total = sat_add(total, sat_mul(issued, 1024));
  return total;
}

std::vector<double> fill_values(const BoundTensor& t, int lanes) {
  limits::require_host_memory(tensor_host_bytes(t, lanes), fmt::format("the fill of tensor '{}'", t.name));
  const auto n = static_cast<std::size_t>(t.vectors) * static_cast<std::size_t>(lanes);
  if (t.fill.kind == TensorFill::Kind::Ramp && n > 0 &&
      !std::isfinite(t.fill.first + t.fill.step * static_cast<double>(n - 1)))
    throw InputError(fmt::format("tensor '{}': fill=ramp:{}:{} passes the largest double before its last element",
                                 t.name, t.fill.first, t.fill.step));
  std::vector<double> v(n, 0.0);
  const bool is_float = dtype_is_float(t.dtype);
  // Only a random fill's first value is a seed (checked to be in [0, 2^32)); converting
  // any other, e.g. const:-1e300, to an integer is undefined.
  std::uint64_t state = t.fill.kind == TensorFill::Kind::Random ? static_cast<std::uint64_t>(t.fill.first) : 0;
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
    if (is_float) {
      const double stored = decode_element(t.dtype, encode_element(t.dtype, x));
      // A finite value the type cannot hold would become inf silently.
      if (!std::isfinite(stored))
        throw InputError(fmt::format("tensor '{}': the fill's element {} is {}, beyond the largest {} value", t.name, i,
                                     x, dtype_name(t.dtype)));
      x = stored;
    } else {
      x = wrap_integer(t.dtype, std::floor(x));
    }
    v[i] = x;
  }
  return v;
}

std::vector<double> read_tensor_file(const std::string& path, const BoundTensor& t, int lanes) {
  limits::require_host_memory(tensor_host_bytes(t, lanes), fmt::format("{}: tensor '{}'", path, t.name));
  const auto expected = static_cast<std::size_t>(t.vectors) * static_cast<std::size_t>(lanes);
  const int bytes = dtype_bytes(t.dtype);
  const bool binary = path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
  if (!binary) {
    // A text file is read whole: count it too (it can be up to 1 GiB).
    const auto size = check_user_file(path, 1ULL << 30);
    limits::require_host_memory(sat_add(tensor_host_bytes(t, lanes), size), fmt::format("{}: tensor '{}'", path, t.name));
  }
  if (binary) {
    // Binary files may hold NUL bytes, so they are read without the text checks.
    std::string text;
    {
      // Missing, directory, device or oversized: refused before opening. A file larger
      // than the tensor is reported without reading all of it.
      (void)check_user_file(path, UINTMAX_MAX);
      FILE* f = std::fopen(path.c_str(), "rb");
      if (!f) throw InputError(fmt::format("{}: cannot open file for reading", path));
      char buffer[65536];
      std::size_t got;
      while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
        text.append(buffer, got);
        if (text.size() > expected * static_cast<std::size_t>(bytes)) break;
      }
      std::fclose(f);
    }
    return parse_tensor_data(text, true, path, t, lanes);
  }
  return parse_tensor_data(read_user_text_file(path, 1ULL << 30), false, path, t, lanes);
}

std::vector<double> parse_tensor_data(const std::string& text, bool binary, const std::string& path,
                                      const BoundTensor& t, int lanes) {
  const auto expected = static_cast<std::size_t>(t.vectors) * static_cast<std::size_t>(lanes);
  const int bytes = dtype_bytes(t.dtype);
  std::vector<double> values;
  if (binary) {
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
      if (!std::isfinite(values[i]))
        throw InputError(fmt::format("{}: element {} of tensor '{}' is {} (bytes {:02x}): expected a finite {} value",
                                     path, i, t.name, values[i], fmt::join(b.begin(), b.begin() + bytes, " "),
                                     dtype_name(t.dtype)));
    }
    return values;
  }
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
    const double stored = dtype_is_float(t.dtype) ? decode_element(t.dtype, encode_element(t.dtype, v)) : v;
    if (!std::isfinite(stored))
      throw InputError(fmt::format("{}:{}: {} is beyond the largest {} value (tensor '{}')", path, line, token,
                                   dtype_name(t.dtype), t.name));
    values.push_back(stored);
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
