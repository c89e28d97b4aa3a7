#include "sweep/sweep_output.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "content_hash.hpp"
#include "external_command.hpp"

namespace lpusim::cli::sweep {

namespace fs = std::filesystem;

std::string simulator_key() {
  // Results of another build are not reused: the binary's bytes are part of every point's key.
  std::ifstream in("/proc/self/exe", std::ios::binary);
  ContentHash hash;
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
    hash.add(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  return hash.hex();
}

OutputLock::OutputLock(const std::string& dir) {
  const std::string path = dir + "/.lock";
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(fmt::format("{}: cannot create {}", dir, path));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0)
    throw InputError(fmt::format("{}: another lpusim explore or merge is writing this folder", dir));
}

OutputLock::~OutputLock() { close(fd_); }

void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw InputError(fmt::format("{}: cannot create this folder", dir));
  if (access(dir.c_str(), W_OK) != 0) throw InputError(fmt::format("{}: folder is not writable", dir));
}

/// Draws the plots of DIR/results.csv into DIR/plots with tools/plot_sweep.py; a missing
/// python3 or matplotlib is a warning, not a failed sweep.
void draw_sweep_plots(const std::string& dir) {
  const std::string script = tools_script("plot_sweep.py");
  const ExternalResult r = run_external({"python3", script, dir + "/results.csv", "--out", dir + "/plots"});
  if (r.exit_code == 0) {
    std::cout << "  plots    " << dir << "/plots (tps_vs_*.png, pareto_chips.png, pareto_sram.png and .svg)\n";
    return;
  }
  std::string text = r.output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const auto nl = text.rfind('\n');
  std::cerr << fmt::format("lpusim: warning: plots not drawn ({} exited {}): {}\n", script, r.exit_code,
                           nl == std::string::npos ? text : text.substr(nl + 1));
}
}  // namespace lpusim::cli::sweep
