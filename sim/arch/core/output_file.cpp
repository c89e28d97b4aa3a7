#include "arch/core/output_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void cannot_write(const std::string& path, const std::string& flag, const std::string& why) {
  throw InputError(fmt::format("{} {}: cannot write this file ({})", flag, one_line(path), why));
}

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}
}  // namespace

void require_writable_path(const std::string& path, const std::string& flag) {
  if (path.empty()) cannot_write(path, flag, "empty path");
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::is_directory(status)) cannot_write(path, flag, "it is a directory");
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    if (::access(path.c_str(), W_OK) != 0) cannot_write(path, flag, std::strerror(errno));
    return;  // a device or pipe, written directly
  }
  const std::string folder = folder_of(path);
  if (!fs::is_directory(folder, ec)) cannot_write(path, flag, fmt::format("no folder {}", one_line(folder)));
  if (::access(folder.c_str(), W_OK) != 0) cannot_write(path, flag, std::strerror(errno));
  if (fs::exists(status) && ::access(path.c_str(), W_OK) != 0) cannot_write(path, flag, std::strerror(errno));
}

void write_file_atomically(const std::string& path, const std::string& text, const std::string& flag) {
  require_writable_path(path, flag);
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.flush();
    if (!out) cannot_write(path, flag, "write failed");
    return;
  }
  const std::string temp = fmt::format("{}.tmp-{}", path, ::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      cannot_write(path, flag, "write failed (disk full?)");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    cannot_write(path, flag, why);
  }
}

}  // namespace lpusim
