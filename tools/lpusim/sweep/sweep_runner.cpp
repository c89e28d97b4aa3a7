#include "sweep/sweep_runner.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim::cli::sweep {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) { g_stop_signal = sig; }

/// Catches SIGINT, SIGTERM and SIGHUP while it lives (no SA_RESTART: a wait returns EINTR),
/// so that running children are stopped and finished points kept.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~StopSignals() {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
}

std::string point_label(const SweepSpec& spec, const SweepPoint& p) {
  std::string label = spec.models[static_cast<std::size_t>(p.model)].name;
  const auto columns = spec.parameter_columns();
  const auto values = spec.parameter_values(p);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = columns[i];
    const auto dot = c.find('.');
    label += fmt::format(" {}={}", c.substr(dot + 1), values[i].is_string() ? values[i].get<std::string>() : values[i].dump());
  }
  return label;
}

/// Progress: on a terminal, a bar redrawn in place with each finished point printed above it;
/// otherwise one plain line per finished point.
class Progress {
 public:
  Progress(std::string label, int total, int cached, int jobs)
      : tty_(isatty(STDERR_FILENO) != 0), label_(std::move(label)), total_(total), done_(cached), to_run_(total - cached),
        jobs_(jobs), start_(Clock::now()) {}

  void finished(const std::string& point_text, const PointOutcome& o) {
    ++done_;
    ++computed_;
    if (!o.ok) ++failed_;
    const std::string outcome =
        o.ok ? fmt::format("ok, {:.6g} tokens/s per user", o.metrics.value("tokens_per_s_per_user", 0.0))
             : fmt::format("failed: {}", o.reason);
    const std::string line = fmt::format("[{}/{}] {}: {} ({:.1f} s)", done_, total_, point_text, outcome, o.host_seconds);
    if (tty_) std::cerr << "\r\x1b[K";
    std::cerr << line << "\n";
    shown_.clear();
    draw();
  }

  void draw() {
    if (!tty_) return;
    // Redrawn when its text changes (a point finished, the elapsed second ticked), not at every poll.
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    constexpr int kWidth = 30;
    const int filled = total_ > 0 ? kWidth * done_ / total_ : kWidth;
    const int remaining = total_ - done_;
    const std::string eta =
        computed_ > 0 ? format_duration(elapsed / computed_ * remaining) : std::string(remaining > 0 ? "--" : "0s");
    std::string bar = fmt::format("{} [{}{}] {}/{}{} elapsed {} ETA {}", label_, std::string(filled, '#'),
                                  std::string(kWidth - filled, '.'), done_, total_,
                                  failed_ ? fmt::format(" ({} failed)", failed_) : "", format_duration(elapsed), eta);
    if (bar == shown_) return;
    shown_ = bar;
    std::cerr << "\r\x1b[K" << bar << std::flush;
  }

  void end() {
    if (tty_ && !shown_.empty()) std::cerr << "\r\x1b[K" << std::flush;
  }

  void start_line() const {
    std::cerr << fmt::format("{}: {} points, {} done before, {} to run with --jobs {}\n", label_, total_, total_ - to_run_,
                             to_run_, jobs_);
  }

 private:
  bool tty_;
  std::string label_;
  int total_, done_, to_run_, jobs_;
  int computed_ = 0, failed_ = 0;
  Clock::time_point start_;
  std::string shown_;  ///< the bar as last drawn
};

struct Running {
  pid_t pid = -1;
  int point = 0;
  Clock::time_point start;
  std::string out_file, err_file, chip_file;
};

pid_t spawn(const std::vector<std::string>& args, const std::string& out_file, const std::string& err_file) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

/// What a finished estimate child means for its point.
PointOutcome classify(const SweepPoint& point, int status, const std::string& out_text, std::string err_text,
                      const std::string& chip_file) {
  PointOutcome o;
  o.key = point.key;
  // The derived chip's file lies in each run's own output folder: name it the same way in
  // every run, so sharded and unsharded results agree byte for byte.
  err_text = replace_all(err_text, chip_file, "chips/" + fs::path(chip_file).filename().string());
  std::string reason = last_line(err_text);
  for (const char* prefix : {"lpusim: error: ", "lpusim: internal error: ", "lpusim: "})
    if (reason.rfind(prefix, 0) == 0) {
      reason = reason.substr(std::string(prefix).size());
      break;
    }
  if (WIFSIGNALED(status)) {
    o.reason = fmt::format("estimate was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
    o.final = false;  // killed from outside (out of memory, interrupted): run again next time
    return o;
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0) {
    try {
      const json estimate = json::parse(out_text);
      std::string missing;
      if (auto metrics = metrics_from_estimate(estimate, missing)) {
        o.ok = true;
        o.metrics = std::move(*metrics);
        return o;
      }
      o.reason = fmt::format("estimate's JSON has no {} (explore and estimate disagree on the format)", missing);
    } catch (const std::exception&) {
      o.reason = "estimate exited 0 without printing JSON";
    }
    o.final = false;
    return o;
  }
  if (code == 2) {
    o.reason = reason.empty() ? "estimate refused the point (exit 2)" : reason;
  } else if (code == 3) {
    o.reason = "schedule error: " + (reason.empty() ? std::string("(no message)") : reason);
  } else {
    o.reason = fmt::format("estimate failed (exit {}){}", code, reason.empty() ? "" : ": " + reason);
    o.final = false;  // an internal error or host memory: worth another try after a fix
  }
  return o;
}

}  // namespace

RunSummary run_points(const SweepSpec& spec, const std::vector<int>& selected, const RunnerOptions& options) {
  const auto start = Clock::now();
  RunSummary summary;
  const std::string out = options.out_dir;
  for (const char* sub : {"points", "chips", "work"}) fs::create_directories(fs::path(out) / sub);
  // Output of children of a run that was killed outright (SIGKILL leaves no chance to clean up).
  for (const auto& entry : fs::directory_iterator(fs::path(out) / "work")) {
    std::error_code ec;
    fs::remove(entry.path(), ec);
  }

  std::vector<int> pending;
  for (int index : selected) {
    const SweepPoint& p = spec.points[static_cast<std::size_t>(index)];
    const DerivedChip& chip = spec.chips[static_cast<std::size_t>(p.chip)];
    if (auto cached = read_cached_outcome(out, p.key)) {
      summary.outcomes[index] = *cached;
      ++summary.cached;
    } else if (!chip.error.empty()) {
      // Nothing to run: the strict loader refused the derived chip.
      PointOutcome o;
      o.key = p.key;
      o.reason = chip.error;
      write_cached_outcome(out, o);
      summary.outcomes[index] = o;
      ++summary.cached;
    } else {
      pending.push_back(index);
    }
  }
  Progress progress(options.label, static_cast<int>(selected.size()), summary.cached, options.jobs);
  progress.start_line();

  StopSignals stop_signals;
  std::vector<Running> running;
  std::size_t next = 0;
  while (next < pending.size() || !running.empty()) {
    if (g_stop_signal) break;
    while (static_cast<int>(running.size()) < options.jobs && next < pending.size()) {
      const int index = pending[next++];
      const SweepPoint& p = spec.points[static_cast<std::size_t>(index)];
      const DerivedChip& chip = spec.chips[static_cast<std::size_t>(p.chip)];
      Running r;
      r.point = index;
      r.chip_file = fs::absolute(fs::path(out) / "chips" / (chip.key + ".json")).string();
      if (!fs::exists(r.chip_file)) write_file_atomically(r.chip_file, chip.config.dump(2) + "\n");
      r.out_file = (fs::path(out) / "work" / (p.key + ".out")).string();
      r.err_file = (fs::path(out) / "work" / (p.key + ".err")).string();
      std::vector<std::string> args = {"lpusim", "estimate", spec.models[static_cast<std::size_t>(p.model)].path,
                                       "--chip", r.chip_file, "--weights", p.scenario.weights,
                                       "--batch", std::to_string(p.scenario.batch),
                                       "--prompt-len", std::to_string(p.scenario.prompt_len),
                                       "--gen-len", std::to_string(p.scenario.gen_len), "--json"};
      if (p.scenario.tp > 0) args.insert(args.end(), {"--tp", std::to_string(p.scenario.tp)});
      if (p.scenario.pp > 0) args.insert(args.end(), {"--pp", std::to_string(p.scenario.pp)});
      if (!p.scenario.system.empty()) args.insert(args.end(), {"--system", p.scenario.system});
      r.start = Clock::now();
      r.pid = spawn(args, r.out_file, r.err_file);
      running.push_back(std::move(r));
    }
    int status = 0;
    struct rusage usage {};
    const pid_t pid = wait4(-1, &status, WNOHANG, &usage);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      progress.draw();
      continue;
    }
    if (pid < 0) throw std::runtime_error(fmt::format("waiting for sweep children failed: {}", std::strerror(errno)));
    auto it = std::find_if(running.begin(), running.end(), [&](const Running& r) { return r.pid == pid; });
    if (it == running.end()) continue;
    const Running r = *it;
    running.erase(it);
    const SweepPoint& p = spec.points[static_cast<std::size_t>(r.point)];
    if (g_stop_signal && WIFSIGNALED(status)) break;  // stopped along with us (Ctrl-C): not an outcome
    PointOutcome o = classify(p, status, read_file(r.out_file), read_file(r.err_file), r.chip_file);
    o.host_seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
    o.peak_rss_bytes = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
    if (o.final) write_cached_outcome(out, o);
    std::error_code ec;
    fs::remove(r.out_file, ec);
    fs::remove(r.err_file, ec);
    summary.outcomes[r.point] = o;
    ++summary.computed;
    summary.computed_points.insert(r.point);
    progress.finished(point_label(spec, p), o);
  }
  if (g_stop_signal) {
    summary.interrupted = true;
    for (const auto& r : running) kill(r.pid, SIGTERM);
    for (const auto& r : running) {
      int status = 0;
      waitpid(r.pid, &status, 0);
      std::error_code ec;
      fs::remove(r.out_file, ec);
      fs::remove(r.err_file, ec);
    }
  }
  progress.end();
  std::error_code ec;
  fs::remove(fs::path(out) / "work", ec);  // only when empty
  summary.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace lpusim::cli::sweep
