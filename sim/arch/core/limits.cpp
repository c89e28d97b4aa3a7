#include "arch/core/limits.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim::limits {

std::uint64_t host_memory_budget() {
  if (const char* env = std::getenv("LPUSIM_MAX_HOST_BYTES"); env && *env) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (errno != 0 || *end != '\0' || env[0] == '-')
      throw InputError(fmt::format("LPUSIM_MAX_HOST_BYTES={}: expected a number of bytes", one_line(env)));
    return v;
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::uint64_t{4} << 30;
}

void require_host_memory(std::uint64_t bytes, const std::string& what) {
  const std::uint64_t budget = host_memory_budget();
  if (bytes > budget)
    throw InputError(fmt::format("{} needs {:.1f} MiB of host memory, more than the {:.1f} MiB available{}", what,
                                 static_cast<double>(bytes) / (1 << 20), static_cast<double>(budget) / (1 << 20),
                                 std::getenv("LPUSIM_MAX_HOST_BYTES") ? " (LPUSIM_MAX_HOST_BYTES)" : ""));
}

}  // namespace lpusim::limits

namespace lpusim {

std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

}  // namespace lpusim
