// `lpusim regress DIR`: runs every NAME.case.json in DIR and compares what it measures
// (cycles, instructions per unit, output checksum) with NAME.golden.json beside it. Prints
// pass or fail per case with the old and new values and the host time; exits 4 when any case
// changed, failed to run or has no golden. `--update` rewrites the goldens on purpose and
// prints what moved. Format: docs/regression.md.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "commands.hpp"
#include "regress/regression_case.hpp"
#include "sweep/sweep_results.hpp"

namespace lpusim::cli {

namespace fs = std::filesystem;
using regress::Measurement;
using regress::RegressionCase;

namespace {

/// Exit code when a case differs from its golden (or fails to run, or has none).
constexpr int kRegressionExitCode = 4;

struct RegressArgs {
  std::string dir;
  std::vector<std::string> cases;
  std::string filter;  ///< a regular expression the case names must match (empty: all)
  bool update = false;
};

struct Change {
  std::string field, before, after;
};

std::string signed_delta(std::int64_t before, std::int64_t after) {
  const std::int64_t d = after - before;
  const double pct = before != 0 ? 100.0 * static_cast<double>(d) / static_cast<double>(before) : 0.0;
  return before != 0 ? fmt::format("{:+d}, {:+.2f}%", d, pct) : fmt::format("{:+d}", d);
}

std::vector<Change> compare(const Measurement& golden, const Measurement& now) {
  std::vector<Change> changes;
  auto number = [&](const std::string& field, std::int64_t a, std::int64_t b) {
    if (a != b) changes.push_back({field, std::to_string(a), fmt::format("{} ({})", b, signed_delta(a, b))});
  };
  number("total_cycles", golden.total_cycles, now.total_cycles);
  number("instructions", golden.instructions, now.instructions);
  std::map<std::string, std::int64_t> units = golden.unit_instructions;
  for (const auto& [unit, count] : now.unit_instructions) units.emplace(unit, 0);
  for (const auto& [unit, _] : units) {
    const auto a = golden.unit_instructions.count(unit) ? golden.unit_instructions.at(unit) : 0;
    const auto b = now.unit_instructions.count(unit) ? now.unit_instructions.at(unit) : 0;
    number(fmt::format("{} instructions", unit), a, b);
  }
  if (golden.output_checksum != now.output_checksum)
    changes.push_back({"output checksum", golden.output_checksum.value_or("none (timing only)"),
                       now.output_checksum.value_or("none (timing only)")});
  return changes;
}

std::vector<RegressionCase> find_cases(const RegressArgs& args) {
  std::error_code ec;
  if (!fs::is_directory(args.dir, ec)) throw InputError(fmt::format("{}: not a folder of regression cases", args.dir));
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(args.dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".case.json";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(fmt::format("{}: no *.case.json files (docs/regression.md)", args.dir));
  std::vector<RegressionCase> cases;
  for (const auto& f : files) cases.push_back(regress::load_case(f));
  if (!args.filter.empty()) {
    std::regex pattern;
    try {
      pattern = std::regex(args.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw InputError(fmt::format("--filter {}: not a regular expression ({})", args.filter, e.what()));
    }
    std::vector<RegressionCase> kept;
    for (auto& c : cases)
      if (std::regex_search(c.name, pattern)) kept.push_back(std::move(c));
    if (kept.empty()) throw InputError(fmt::format("--filter {}: no case of {} matches", args.filter, args.dir));
    cases = std::move(kept);
  }
  if (!args.cases.empty()) {
    std::vector<RegressionCase> chosen;
    for (const auto& name : args.cases) {
      auto it = std::find_if(cases.begin(), cases.end(), [&](const RegressionCase& c) { return c.name == name; });
      if (it == cases.end()) throw InputError(fmt::format("--case {}: no {}/{}.case.json", name, args.dir, name));
      chosen.push_back(*it);
    }
    cases = chosen;
  }
  return cases;
}

std::string summary(const Measurement& m) {
  return fmt::format("{} cycles, {} instructions{}", m.total_cycles, m.instructions, m.output_checksum ? ", outputs checked" : "");
}

int run(const RegressArgs& args) {
  const auto cases = find_cases(args);
  std::size_t width = 8;
  for (const auto& c : cases) width = std::max(width, c.name.size());
  std::cout << fmt::format("lpusim regress {}: {} case{}{}\n", args.dir, cases.size(), cases.size() == 1 ? "" : "s",
                           args.update ? " (--update)" : "");
  int passed = 0, changed = 0, errors = 0, missing = 0, updated = 0;
  double total_seconds = 0;
  for (const auto& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<Measurement> now;
    std::string error;
    try {
      now = regress::run_case(c);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total_seconds += seconds;
    const std::string time = fmt::format("{:>8.2f} s", seconds);
    if (!now) {
      ++errors;
      std::cout << fmt::format("  ERROR {:<{}}  {}  {}\n", c.name, width, time, error);
      continue;
    }
    const bool have_golden = fs::exists(c.golden_file);
    if (!have_golden) {
      if (args.update) {
        sweep::write_file_atomically(c.golden_file, regress::measurement_json(*now).dump(2) + "\n");
        ++updated;
        std::cout << fmt::format("  NEW   {:<{}}  {}  {}; wrote {}\n", c.name, width, time, summary(*now), c.golden_file);
      } else {
        ++missing;
        std::cout << fmt::format("  NONE  {:<{}}  {}  {}; no golden {} (lpusim regress {} --update writes it)\n", c.name,
                                 width, time, summary(*now), c.golden_file, args.dir);
      }
      continue;
    }
    const Measurement golden = regress::load_golden(c.golden_file);
    const auto changes = compare(golden, *now);
    if (changes.empty()) {
      ++passed;
      std::cout << fmt::format("  pass  {:<{}}  {}  {}\n", c.name, width, time, summary(*now));
      continue;
    }
    if (args.update) {
      sweep::write_file_atomically(c.golden_file, regress::measurement_json(*now).dump(2) + "\n");
      ++updated;
      std::cout << fmt::format("  MOVED {:<{}}  {}  golden rewritten:\n", c.name, width, time);
    } else {
      ++changed;
      std::cout << fmt::format("  FAIL  {:<{}}  {}  differs from {}:\n", c.name, width, time, c.golden_file);
    }
    std::size_t field_width = 0;
    for (const auto& ch : changes) field_width = std::max(field_width, ch.field.size());
    for (const auto& ch : changes)
      std::cout << fmt::format("          {:<{}}  {} -> {}\n", ch.field, field_width, ch.before, ch.after);
  }
  std::cout << fmt::format("{} passed, {} changed, {} errors, {} without a golden{}; host {:.1f} s\n", passed, changed, errors,
                           missing, args.update ? fmt::format(", {} golden{} written", updated, updated == 1 ? "" : "s") : "", total_seconds);
  return changed + errors + missing > 0 ? kRegressionExitCode : 0;
}

}  // namespace

Command add_regress_command(CLI::App& app) {
  auto args = std::make_shared<RegressArgs>();
  auto* cmd = app.add_subcommand("regress", "Run a regression suite and compare with its goldens (docs/regression.md)");
  cmd->add_option("dir", args->dir, "Folder of NAME.case.json files, each with NAME.golden.json beside it")->required();
  cmd->add_option("--case", args->cases, "Run only this case (repeatable)")->take_all();
  cmd->add_option("--filter", args->filter, "Run only the cases whose name matches this regular expression");
  cmd->add_flag("--update", args->update, "Rewrite the goldens of changed and new cases and print what moved");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
