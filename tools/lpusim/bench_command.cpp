// `lpusim bench`: simulation speed, one command. Every measured case runs in its own child
// process (SystemC elaborates once per process and sc_start cannot restart): the parent
// re-executes this binary with the hidden `bench-case` subcommand, which builds the
// program, simulates it once and prints one JSON object. The parent repeats each case,
// keeps the fastest run, and writes the results, ratios and targets as JSON (and a
// Markdown table on stdout, the one docs/performance.md holds).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/pipeline.hpp"
#include "model_source.hpp"

#include "microbench.hpp"
#include "arch/core/child_process.hpp"
#include "models/system.hpp"
#include "commands.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "arch/core/output_file.hpp"

namespace lpusim::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// ---------------------------------------------------------------------------------------
// Programs. A case's program comes from a source: the generated microbenchmark, an
// assembly file, or (hook) a compiler. `compile_seconds` is the time to get from the
// source to a bound program: generation + assembly + binding, or the compiler's time.

/// Hook for the model compiler (GPT-2, LSTM, Llama): given the chip, return the assembly
/// text of the case's program. Null until the compiler exists; until then the case reports
/// "not available yet", or measures a program given with `lpusim bench --program NAME=FILE`.
using CompileFn = std::string (*)(const ChipConfig& chip);

struct CompiledCase {
  const char* name;
  const char* description;
  CompileFn compile;          ///< the compiler's entry point for this case (null: not yet)
  const char* needs;          ///< what is missing while compile is null
  int chips;                  ///< chips the case runs on
};

std::string compile_with(const ModelRequest& request, const ChipConfig& chip) {
  CompileOptions options;
  options.lowering.weights = WeightType::Int8;
  options.lowering.functional_data = false;  // timed, not run functionally: no SRAM contents or calibration
  return print_program(compile_graph(load_model_graph(request), chip, options).lowered.program);
}
std::string compile_lstm(const ChipConfig& chip) {
  return compile_with(ModelRequest{std::string(LPUSIM_SOURCE_DIR) + "/workloads/graphs/lstm512.json", "decode", 1}, chip);
}
std::string compile_gpt2_small_decode(const ChipConfig& chip) {
  return compile_with(ModelRequest{"gpt2", "decode", 64}, chip);  // one token after 64 cached positions, int8
}

const CompiledCase kCompiledCases[] = {
    {"lstm", "(b) LSTM-512 step, batch 1, compiled (int8)", &compile_lstm, "", 1},
    {"gpt2-small-decode", "(c) one decode token of GPT-2 small after 64 tokens, one chip, compiled (int8)",
     &compile_gpt2_small_decode, "", 1},
    {"llama2-70b-576chips", "(d) Llama-2-70B decode token on ~576 chips", nullptr,
     "the model compiler and multi-chip (C2C) simulation", 576},
};

/// The multi-chip case (d) is an `lpusim estimate` in a child process: the plan, the
/// compile of each stage class and its simulation (docs/multichip.md, "Stage reuse"). The
/// shortest estimate that includes a decode token is a 1-token prompt and one generated
/// token: a prefill of one token and a decode step of about the same size, so the decode
/// token's own cost is about half of what is measured.
const char* const kSystemCaseName = "llama2-70b-576chips";
const std::vector<std::string> kSystemCaseArgs = {"estimate", "llama-2-70b", "--prompt-len", "1", "--gen-len", "1",
                                                  "--json"};
constexpr double kSystemCaseTargetSeconds = 10.0;                      // issue 12: one decode token
constexpr std::int64_t kSystemCaseTargetBytes = std::int64_t{4} << 30;  // 4 GiB


/// Runs this binary with `args` in a child process; returns its stdout and peak RSS.
json run_child(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  const std::string text = read_to_end(fds[0]);
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  json out;
  try {
    out = json::parse(text);
  } catch (const std::exception&) {
    out = json{{"status", "failed"}, {"error", fmt::format("child exited with status {} and no result", status)}};
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out["status"] = "failed";
    if (!out.contains("error")) out["error"] = fmt::format("child exited with status {}", status);
  }
  out["child_max_rss_bytes"] = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
  return out;
}

/// Issue 11's prefill targets: `estimate gpt2` at prompts of 16, 32 and 64 tokens (one
/// generated token, so the host time is almost all the prefill's compile and simulation),
/// each in a child process, the exponent of host time and cycles fitted over them, and the
/// default `estimate gpt2` (64-token prompt, 64 generated) against its wall-time and memory
/// target.
constexpr std::int64_t kPrefillPrompts[] = {16, 32, 64};
constexpr double kPrefillEstimateTargetSeconds = 3.0;                      // issue 11
constexpr std::int64_t kPrefillEstimateTargetBytes = std::int64_t{1} << 30;  // 1 GiB
constexpr double kPrefillGrowthTarget = 1.1;                                // host time ~ P^1.1 at most

/// Least-squares slope of log(y) over log(x).
double fitted_exponent(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += std::log(x[i]) / static_cast<double>(x.size());
    my += std::log(y[i]) / static_cast<double>(y.size());
  }
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    den += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return den > 0 ? num / den : 0.0;
}

json measure_prefill_scaling(const std::string& chip) {
  json out{{"status", "ok"}, {"points", json::array()}};
  std::vector<double> prompts, seconds, cycles;
  for (std::int64_t p : kPrefillPrompts) {
    std::cerr << fmt::format("lpusim bench: gpt2 prefill of {} tokens (an estimate in a child process)\n", p);
    const json e = run_child({"lpusim", "estimate", "gpt2", "--chip", chip, "--prompt-len", std::to_string(p), "--gen-len",
                              "1", "--json"});
    if (e.value("status", "") == "failed") return e;
    const double host = e["host"]["compile_seconds"].get<double>() + e["host"]["simulate_seconds"].get<double>();
    out["points"].push_back({{"prompt_tokens", p},
                             {"prefill_cycles", e["prefill"]["cycles"]},
                             {"host_seconds", host},
                             {"peak_rss_bytes", e["child_max_rss_bytes"]}});
    prompts.push_back(static_cast<double>(p));
    seconds.push_back(host);
    cycles.push_back(e["prefill"]["cycles"].get<double>());
  }
  out["host_seconds_exponent"] = fitted_exponent(prompts, seconds);
  out["prefill_cycles_exponent"] = fitted_exponent(prompts, cycles);
  std::cerr << "lpusim bench: lpusim estimate gpt2 (a child process)\n";
  const auto t0 = Clock::now();
  const json e = run_child({"lpusim", "estimate", "gpt2", "--chip", chip, "--json"});
  if (e.value("status", "") == "failed") return e;
  out["estimate_gpt2"] = {{"wall_seconds", std::chrono::duration<double>(Clock::now() - t0).count()},
                          {"peak_rss_bytes", e["child_max_rss_bytes"]},
                          {"prefill_cycles", e["prefill"]["cycles"]}};
  return out;
}

std::string prefill_markdown(const json& scaling) {
  if (scaling.value("status", "") != "ok")
    return fmt::format("\nprefill scaling: {}\n", scaling.value("status", "") + " " + scaling.value("error", scaling.value("needs", "")));
  std::string s = "\n| gpt2 prompt tokens | prefill cycles | host s (compile + simulate) | peak RSS MiB |\n|---:|---:|---:|---:|\n";
  for (const auto& p : scaling["points"])
    s += fmt::format("| {} | {} | {:.2f} | {:.0f} |\n", p["prompt_tokens"].get<std::int64_t>(), p["prefill_cycles"].get<std::int64_t>(),
                     p["host_seconds"].get<double>(), p["peak_rss_bytes"].get<double>() / (1 << 20));
  s += fmt::format("\nfitted over the prompts: host time ~ P^{:.2f}, prefill cycles ~ P^{:.2f}\n",
                   scaling["host_seconds_exponent"].get<double>(), scaling["prefill_cycles_exponent"].get<double>());
  return s;
}

json measure_system_case(const std::string& chip) {
  std::vector<std::string> args{"lpusim"};
  args.insert(args.end(), kSystemCaseArgs.begin(), kSystemCaseArgs.end());
  args.push_back("--chip");
  args.push_back(chip);
  const auto t0 = Clock::now();
  json estimate = run_child(args);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string command = "lpusim";
  for (std::size_t i = 1; i < args.size(); ++i) command += " " + args[i];
  if (estimate.value("status", "") == "failed") {
    estimate["command"] = command;
    return estimate;
  }
  json j;
  j["status"] = "ok";
  j["command"] = command;
  j["host_seconds"] = seconds;
  j["peak_rss_bytes"] = estimate.value("child_max_rss_bytes", std::int64_t{0});
  j["compile_seconds"] = estimate["host"].value("compile_seconds", 0.0);
  j["simulate_seconds"] = estimate["host"].value("simulate_seconds", 0.0);
  j["decode_step_seconds"] = estimate["host"].value("decode_step_seconds", 0.0);
  j["plan"] = estimate["plan"].value("describe", std::string());
  j["system"] = estimate.value("system", std::string());
  j["chips"] = estimate.value("chips_needed", 0);
  j["decode_cycles"] = estimate["decode"].value("cycles", std::int64_t{0});
  j["total_cycles"] = estimate["decode"].value("cycles", std::int64_t{0});
  j["instructions"] = estimate["simulation"]["decode"].value("instructions_simulated", std::int64_t{0}) +
                      estimate["simulation"]["prefill"].value("instructions_simulated", std::int64_t{0});
  j["instructions_per_second"] = j["instructions"].get<double>() / std::max(seconds, 1e-9);
  j["cycles_per_second"] = j["total_cycles"].get<double>() / std::max(seconds, 1e-9);
  j["scheduler"] = "event-driven";
  j["note"] = "a prefill of one token and one decode token; decode_step_seconds is the decode token's own compile "
              "and simulation";
  return j;
}

/// A case its child refused (bad input, the host-memory guard) stops the bench with exit 2.
json refuse_if_refused(const std::string& name, json result) {
  if (result.value("status", "") == "refused")
    throw InputError(fmt::format("bench case {}: {}", name, result.value("error", std::string("refused"))));
  return result;
}

struct CaseSpec {
  std::string name;
  std::string description;
  std::string source;       ///< "micro" or an assembly file
  std::string mode;         ///< timing | functional
  std::string scheduler;    ///< event | clocked
  std::int64_t micro_cycles = 0;
  int micro_streams = 0;    ///< microbenchmark streams (0: all)
  int chips = 1;            ///< copies of the program, one per chip of a system in one kernel
};

json measure(const std::string& chip, const CaseSpec& c, int repetitions) {
  std::vector<std::string> args = {"lpusim", "bench-case", "--chip", chip, "--source", c.source, "--mode", c.mode,
                                   "--scheduler", c.scheduler};
  if (c.micro_cycles > 0) {
    args.push_back("--micro-cycles");
    args.push_back(std::to_string(c.micro_cycles));
  }
  if (c.micro_streams > 0) {
    args.push_back("--micro-streams");
    args.push_back(std::to_string(c.micro_streams));
  }
  if (c.chips > 1) {
    args.push_back("--chips");
    args.push_back(std::to_string(c.chips));
  }
  std::optional<json> best;
  std::int64_t peak = 0;
  std::vector<double> times;
  for (int r = 0; r < repetitions; ++r) {
    json run = run_child(args);
    if (run.value("status", "") != "ok") return run;
    peak = std::max({peak, run.value("peak_rss_bytes", std::int64_t(0)), run.value("child_max_rss_bytes", std::int64_t(0))});
    times.push_back(run["host_seconds"].get<double>());
    if (!best || run["host_seconds"].get<double>() < (*best)["host_seconds"].get<double>()) best = run;
  }
  json j = *best;
  j["name"] = c.name;
  j["description"] = c.description;
  j["mode"] = c.mode;
  j["scheduler"] = c.scheduler == "clocked" ? "clocked" : "event-driven";
  j["repetitions"] = repetitions;
  j["chips"] = c.chips;
  j["host_seconds_all"] = times;
  j["peak_rss_bytes"] = peak;
  const double s = std::max(j["host_seconds"].get<double>(), 1e-9);
  j["instructions_per_second"] = j["instructions"].get<double>() / s;
  j["cycles_per_second"] = j["total_cycles"].get<double>() / s;
  j.erase("child_max_rss_bytes");
  return j;
}

std::string si(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

std::string markdown(const json& report) {
  std::string s = "| case | mode | scheduler | instructions | cycles | host s | instr/s | cycles/s | compile s | peak RSS MiB |\n"
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& c : report["cases"]) {
    if (c.value("status", "") != "ok") {
      s += fmt::format("| {} | {} | | | | | | | | {} |\n", c.value("name", "?"), c.value("mode", ""),
                       c.value("status", "") + (c.contains("needs") ? ": needs " + c["needs"].get<std::string>() : ""));
      continue;
    }
    s += fmt::format("| {} | {} | {} | {} | {} | {:.4f} | {}instr/s | {}cycles/s | {:.4f} | {:.1f} |\n", c["name"].get<std::string>(),
                     c["mode"].get<std::string>(), c["scheduler"].get<std::string>(), c["instructions"].get<std::uint64_t>(),
                     c["total_cycles"].get<std::int64_t>(), c["host_seconds"].get<double>(),
                     si(c["instructions_per_second"].get<double>()), si(c["cycles_per_second"].get<double>()),
                     c["compile_seconds"].get<double>(), c["peak_rss_bytes"].get<double>() / (1 << 20));
  }
  s += "\n| target | value | goal | met |\n|---|---:|---:|---|\n";
  for (const auto& t : report["targets"])
    s += fmt::format("| {} | {} | {} | {} |\n", t["name"].get<std::string>(),
                     t["value"].is_null() ? std::string("n/a") : fmt::format("{:.3g}", t["value"].get<double>()),
                     t["goal"].get<std::string>(), t["met"].is_null() ? std::string("not measurable yet")
                                                                        : (t["met"].get<bool>() ? "yes" : "NO"));
  return s;
}

struct BenchArgs {
  std::string chip = "tsp-v1";
  std::string out = "bench.json";
  bool quick = false;
  int repetitions = 0;
  std::vector<std::string> programs;
};

int bench(const BenchArgs& args) {
  const std::string chip_path = resolve_chip_path(args.chip);
  (void)load_chip_config(chip_path);  // refuse a bad chip before forking
  std::map<std::string, std::string> given;
  for (const auto& text : args.programs) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
      throw InputError(fmt::format("--program {}: expected NAME=FILE", text));
    const std::string name = text.substr(0, eq);
    bool known = false;
    for (const auto& c : kCompiledCases) known = known || name == c.name;
    if (!known) throw InputError(fmt::format("--program {}: no case named '{}' (lstm, gpt2-small-decode, llama2-70b-576chips)", text, name));
    if (!std::ifstream(text.substr(eq + 1))) throw InputError(fmt::format("--program {}: cannot read this file", text));
    given[name] = text.substr(eq + 1);
  }
  require_writable_path(args.out, "--out");

  const std::int64_t micro = args.quick ? 1024 : 16384;
  const int reps = args.repetitions > 0 ? args.repetitions : (args.quick ? 1 : 3);
  const std::string examples = LPUSIM_EXAMPLES_DIR;
  std::vector<CaseSpec> specs = {
      {"micro", "(a) MEM -> VXM -> MEM streaming, 64 instructions a cycle", "micro", "timing", "event", micro, 0},
      {"micro", "(a) MEM -> VXM -> MEM streaming, 64 instructions a cycle", "micro", "functional", "event", micro, 0},
      {"micro-clocked", "(a) on the clocked reference: every queue an SC_METHOD on every clock edge", "micro", "timing",
       "clocked", micro, 0},
      // The same streaming with one stream (4 of the chip's 144 queues busy): how the gain
      // over the clocked reference depends on occupancy (docs/performance.md).
      {"micro-1stream", "(a) one MEM -> VXM -> MEM stream, 4 instructions a cycle", "micro", "timing", "event", micro, 1},
      {"micro-1stream-clocked", "(a) one stream on the clocked reference", "micro", "timing", "clocked", micro, 1},
      // Eight chips in one kernel, each streaming the dense microbenchmark (no links, so one
      // lookahead window): what the multi-chip dispatcher costs per instruction against micro.
      {"micro-8chips", "(a) eight chips in one kernel, each running the dense microbenchmark", "micro", "timing",
       "event", micro, 0, 8},
      {"gemv320", "(b) int8 GEMV 320 x 320, one plane", examples + "/gemv320.s", "timing", "event", 0, 0},
      {"gemv320", "(b) int8 GEMV 320 x 320, one plane", examples + "/gemv320.s", "functional", "event", 0, 0},
      {"gemv1024x512", "(b) int8 GEMV 1024 x 512, four planes", examples + "/gemv1024x512.s", "timing", "event", 0, 0},
      {"gemv1024x512", "(b) int8 GEMV 1024 x 512, four planes", examples + "/gemv1024x512.s", "functional", "event", 0, 0},
      {"softmax", "(b) fp32 softmax (stands in for LSTM until it exists)", examples + "/softmax.s", "timing", "event", 0, 0},
      {"softmax", "(b) fp32 softmax (stands in for LSTM until it exists)", examples + "/softmax.s", "functional", "event", 0, 0},
      {"gemv1024x512-clocked", "(b) GEMV 1024 x 512 on the clocked reference", examples + "/gemv1024x512.s", "timing",
       "clocked", 0, 0},
      {"softmax-clocked", "(b) softmax on the clocked reference", examples + "/softmax.s", "timing", "clocked", 0, 0},
  };
  json report;
  report["lpusim_version"] = "0.1.0";
  report["chip"] = args.chip;
  report["quick"] = args.quick;
  report["host"] = {{"hardware_threads", std::thread::hardware_concurrency()},
                    {"note", "one core per case; other processes on the machine may slow a run: the fastest of "
                             "`repetitions` runs is kept"}};
  report["cases"] = json::array();
  for (const auto& spec : specs) {
    std::cerr << fmt::format("lpusim bench: {} ({}, {})\n", spec.name, spec.mode, spec.scheduler);
    report["cases"].push_back(refuse_if_refused(spec.name, measure(chip_path, spec, reps)));
  }
  for (const auto& c : kCompiledCases) {
    for (const char* mode : {"timing", "functional"}) {
      json j;
      if (c.name == std::string(kSystemCaseName)) {
        if (std::string(mode) == "functional") {
          j = {{"status", "not available yet"},
               {"needs", "the values of 70 B parameters (lpusim verify runs models of up to 200 M functionally)"}};
        } else if (args.quick) {
          j = {{"status", "skipped"}, {"needs", "a full run (it takes minutes): lpusim bench without --quick"}};
        } else {
          std::cerr << fmt::format("lpusim bench: {} (timing, an estimate in a child process)\n", c.name);
          j = refuse_if_refused(c.name, measure_system_case(chip_path));
        }
      } else if (given.count(c.name)) {
        if (c.chips > 1) {
          j = {{"status", "not available yet"}, {"needs", "multi-chip (C2C) simulation"}};
        } else {
          std::cerr << fmt::format("lpusim bench: {} ({}, event)\n", c.name, mode);
          j = refuse_if_refused(c.name, measure(chip_path, CaseSpec{c.name, c.description, given[c.name], mode, "event", 0, 0}, reps));
        }
      } else if (c.compile) {
        // The compiler's hook: the child calls it through --source compiled:NAME.
        std::cerr << fmt::format("lpusim bench: {} ({}, event)\n", c.name, mode);
        j = refuse_if_refused(c.name, measure(chip_path, CaseSpec{c.name, c.description, std::string("compiled:") + c.name, mode, "event", 0, 0}, reps));
      } else {
        j = {{"status", "not available yet"}, {"needs", c.needs}};
      }
      j["name"] = c.name;
      j["description"] = c.description;
      j["mode"] = mode;
      j["chips"] = c.chips;
      report["cases"].push_back(j);
    }
  }

  json prefill_scaling = {{"status", "skipped"}, {"needs", "a full run (it takes minutes): lpusim bench without --quick"}};
  if (!args.quick) prefill_scaling = measure_prefill_scaling(chip_path);
  report["prefill_scaling"] = prefill_scaling;
  const bool prefill_ok = prefill_scaling.value("status", "") == "ok";
  auto prefill_value = [&](const json& v) { return prefill_ok ? std::optional<double>(v.get<double>()) : std::nullopt; };

  // Ratios and targets.
  auto find = [&](const std::string& name, const std::string& mode) -> const json* {
    for (const auto& c : report["cases"])
      if (c.value("name", "") == name && c.value("mode", "") == mode && c.value("status", "") == "ok") return &c;
    return nullptr;
  };
  auto rate = [&](const json* c) { return c ? std::optional<double>((*c)["instructions_per_second"].get<double>()) : std::nullopt; };
  const auto micro_rate = rate(find("micro", "timing"));
  const auto clocked_rate = rate(find("micro-clocked", "timing"));
  json ratios;
  std::optional<double> event_vs_clocked;
  if (micro_rate && clocked_rate) event_vs_clocked = *micro_rate / *clocked_rate;
  ratios["event_driven_vs_clocked"] = event_vs_clocked ? json(*event_vs_clocked) : json();
  for (const char* name : {"micro-1stream", "gemv1024x512", "softmax"}) {
    const auto e = rate(find(name, "timing")), k = rate(find(std::string(name) + "-clocked", "timing"));
    if (e && k) ratios["event_driven_vs_clocked_by_program"][name] = *e / *k;
  }
  std::optional<double> worst_functional;
  for (const auto& c : report["cases"]) {
    if (c.value("mode", "") != "timing" || c.value("status", "") != "ok" || c.value("scheduler", "") != "event-driven") continue;
    const json* f = find(c["name"], "functional");
    if (!f) continue;
    const double r = (*f)["host_seconds"].get<double>() / std::max(c["host_seconds"].get<double>(), 1e-9);
    ratios["functional_over_timing_host_time"][c["name"].get<std::string>()] = r;
    // Programs that run for under a millisecond are too short to time meaningfully.
    if (c["host_seconds"].get<double>() >= 1e-3) worst_functional = std::max(worst_functional.value_or(0.0), r);
  }
  report["ratios"] = ratios;
  auto target = [](const std::string& name, std::optional<double> value, const std::string& goal, std::optional<bool> met) {
    return json{{"name", name}, {"value", value ? json(*value) : json()}, {"goal", goal}, {"met", met ? json(*met) : json()}};
  };
  const json* gpt2 = find("gpt2-small-decode", "timing");
  const json* llama70 = find(kSystemCaseName, "timing");
  auto llama70_value = [&](const char* key) {
    return llama70 ? std::optional<double>((*llama70)[key].get<double>()) : std::nullopt;
  };
  report["targets"] = json::array({
      target("microbenchmark simulated instructions per second (timing)", micro_rate, ">= 2e7",
             micro_rate ? std::optional<bool>(*micro_rate >= 2e7) : std::nullopt),
      target("event-driven over clocked reference (microbenchmark)", event_vs_clocked, ">= 50",
             event_vs_clocked ? std::optional<bool>(*event_vs_clocked >= 50) : std::nullopt),
      target("GPT-2 small decode token host seconds (timing)",
             gpt2 ? std::optional<double>((*gpt2)["host_seconds"].get<double>()) : std::nullopt, "< 1",
             gpt2 ? std::optional<bool>((*gpt2)["host_seconds"].get<double>() < 1.0) : std::nullopt),
      target("functional over timing host time (worst case run >= 1 ms)", worst_functional, "<= 5",
             worst_functional ? std::optional<bool>(*worst_functional <= 5.0) : std::nullopt),
      // The decode token's own compile and simulation, from an estimate of a 1-token prompt
      // and one decode token (the case's host_seconds holds both and the process's start).
      target("Llama-2-70B on ~576 chips: one decode token (compile and simulate), host seconds",
             llama70_value("decode_step_seconds"), "< 10",
             llama70 ? std::optional<bool>(*llama70_value("decode_step_seconds") < kSystemCaseTargetSeconds)
                     : std::nullopt),
      target("lpusim estimate gpt2 (64-token prompt): wall seconds",
             prefill_value(prefill_ok ? prefill_scaling["estimate_gpt2"]["wall_seconds"] : json()), "< 3",
             prefill_ok ? std::optional<bool>(prefill_scaling["estimate_gpt2"]["wall_seconds"].get<double>() < kPrefillEstimateTargetSeconds)
                        : std::nullopt),
      target("lpusim estimate gpt2 (64-token prompt): peak host memory, bytes",
             prefill_value(prefill_ok ? prefill_scaling["estimate_gpt2"]["peak_rss_bytes"] : json()), "< 1 GiB",
             prefill_ok ? std::optional<bool>(prefill_scaling["estimate_gpt2"]["peak_rss_bytes"].get<double>() <
                                              static_cast<double>(kPrefillEstimateTargetBytes))
                        : std::nullopt),
      target("GPT-2 prefill compile + simulate time growth, exponent over 16-64 tokens",
             prefill_value(prefill_ok ? prefill_scaling["host_seconds_exponent"] : json()), "<= 1.1",
             prefill_ok ? std::optional<bool>(prefill_scaling["host_seconds_exponent"].get<double>() <= kPrefillGrowthTarget)
                        : std::nullopt),
      target("Llama-2-70B on ~576 chips: peak host memory, bytes", llama70_value("peak_rss_bytes"), "< 4 GiB",
             llama70 ? std::optional<bool>(*llama70_value("peak_rss_bytes") < static_cast<double>(kSystemCaseTargetBytes))
                     : std::nullopt),
  });

  write_file_atomically(args.out, report.dump(2) + "\n", "--out");
  std::cout << markdown(report) << prefill_markdown(report["prefill_scaling"]);
  std::cout << fmt::format("\nwrote {}\n", args.out);
  for (const auto& c : report["cases"])
    if (c.value("status", "") == "failed") return 1;
  return 0;
}

// ---------------------------------------------------------------------------------------
// The hidden child: one case, one simulation, one JSON object on stdout.

struct CaseArgs {
  std::string chip = "tsp-v1";
  std::string source;
  std::string mode = "timing";
  std::string scheduler = "event";
  std::int64_t micro_cycles = 16384;
  int micro_streams = 0;
  int chips = 1;
  std::string write_program;
};

int bench_case(const CaseArgs& args) {
  json out;
  try {
    const ChipConfig chip = load_chip_config(resolve_chip_path(args.chip));
    const auto t0 = Clock::now();
    Program program;
    std::optional<std::int64_t> expected_instructions;
    if (args.source == "micro") {
      MicrobenchShape shape;
      shape.cycles = args.micro_cycles;
      shape.block = static_cast<int>(std::min<std::int64_t>(256, args.micro_cycles));
      shape.streams = args.micro_streams;
      const std::string text = stream_microbenchmark(chip, shape);
      if (!args.write_program.empty()) write_file_atomically(args.write_program, text, "--write-program");
      program = parse_program(text, "microbenchmark.s");
      expected_instructions = microbenchmark_instructions(chip, shape);
    } else if (args.source.rfind("compiled:", 0) == 0) {
      const std::string name = args.source.substr(9);
      const CompiledCase* c = nullptr;
      for (const auto& k : kCompiledCases)
        if (name == k.name) c = &k;
      if (!c || !c->compile) throw InputError(fmt::format("bench-case: no compiler for '{}'", name));
      program = parse_program(c->compile(chip), name + ".s");
    } else {
      program = load_program(args.source);
    }
    const BoundProgram bound = bind_program(program, chip);
    const double compile_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

    SimOptions options;
    options.mode = args.mode == "functional" ? SimMode::Functional : SimMode::TimingOnly;
    options.scheduler = args.scheduler == "clocked" ? Scheduler::Clocked : Scheduler::EventDriven;
    // One chip per copy of the program, all in one kernel (one chip: simulate()'s system).
    const std::vector<ChipRun> runs(static_cast<std::size_t>(args.chips), ChipRun{chip, bound, options});
    const SystemResult result = simulate_system(runs);
    std::uint64_t stream_reads = 0, stream_writes = 0, hazards = 0;
    for (const auto& c : result.chips) {
      stream_reads += c.stream_reads;
      stream_writes += c.stream_writes;
      hazards += c.hazards.size();
    }
    out = {{"status", "ok"},
           {"program", args.source},
           {"instructions", result.instructions},
           {"total_cycles", result.total_cycles.value()},
           {"host_seconds", result.host_seconds},
           {"compile_seconds", compile_seconds},
           {"peak_rss_bytes", result.peak_rss_bytes},
           {"scheduler_wakes", result.scheduler_wakes},
           {"stream_reads", stream_reads},
           {"stream_writes", stream_writes},
           {"hazards", hazards}};
    if (hazards > 0) {
      out["status"] = "failed";
      out["error"] = fmt::format("{} schedule hazards", hazards);
    }
    if (expected_instructions && static_cast<std::int64_t>(result.instructions) != *expected_instructions * args.chips) {
      out["status"] = "failed";
      out["error"] = fmt::format("the microbenchmark issued {} instructions, expected {}", result.instructions,
                                 *expected_instructions * args.chips);
    }
  } catch (const InputError& e) {
    // Bad input or a limit (the host-memory guard): the bench as a whole is refused.
    out = {{"status", "refused"}, {"error", e.what()}};
  } catch (const std::exception& e) {
    out = {{"status", "failed"}, {"error", e.what()}};
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure simulation speed (writes JSON; see docs/performance.md)");
  cmd->add_option("--chip", args->chip, "Chip: a bundled name (tsp-v1) or a chip JSON file")->capture_default_str();
  cmd->add_option("--out", args->out, "Write the results as JSON to this file")->capture_default_str();
  cmd->add_flag("--quick", args->quick, "Small, fast variant (1k-cycle microbenchmark, one run per case)");
  cmd->add_option("--repeat", args->repetitions, "Runs per case; the fastest is kept (default 3, 1 with --quick)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--program", args->programs,
                  "NAME=FILE: measure an assembly program for a case the compiler will produce "
                  "(lstm, gpt2-small-decode)")
      ->take_all();
  return [args] { return bench(*args); };
}

Command add_bench_case_command(CLI::App& app) {
  auto args = std::make_shared<CaseArgs>();
  auto* cmd = app.add_subcommand("bench-case", "");  // hidden: one measured case, for `lpusim bench`
  cmd->group("");
  cmd->add_option("--chip", args->chip);
  cmd->add_option("--source", args->source)->required();
  cmd->add_option("--mode", args->mode)->check(CLI::IsMember({"functional", "timing"}));
  cmd->add_option("--scheduler", args->scheduler)->check(CLI::IsMember({"event", "clocked"}));
  cmd->add_option("--micro-cycles", args->micro_cycles)->check(CLI::Range(std::int64_t(1), std::int64_t(1) << 30));
  cmd->add_option("--micro-streams", args->micro_streams)->check(CLI::Range(0, 1 << 10));
  cmd->add_option("--chips", args->chips)->check(CLI::Range(1, 64));
  cmd->add_option("--write-program", args->write_program);
  return [args] { return bench_case(*args); };
}

}  // namespace lpusim::cli
