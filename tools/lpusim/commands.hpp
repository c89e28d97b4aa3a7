#pragma once
// Subcommands of the lpusim CLI. Each registers its options on the app and returns the
// function that runs it (returning the process exit code).
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "arch/config/system_config.hpp"

namespace lpusim::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_compile_command(CLI::App& app);
Command add_estimate_command(CLI::App& app);
Command add_verify_command(CLI::App& app);
/// `lpusim bench` and its hidden per-case child `bench-case`.
Command add_bench_command(CLI::App& app);
Command add_bench_case_command(CLI::App& app);
/// `lpusim explore` (sweeps, shards, Slurm scripts) and `lpusim merge` (shards into one result).
Command add_explore_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
/// `lpusim regress DIR`: a regression suite against its goldens.
Command add_regress_command(CLI::App& app);
/// `lpusim report TRACE.json`: a trace's busiest queues, idle gaps, critical path and timeline.
Command add_report_command(CLI::App& app);

Command add_system_command(CLI::App& app);

/// Resolves --chip: a bundled name (tsp-v1) or a path to a chip JSON file.
std::string resolve_chip_path(const std::string& chip);
/// Resolves --system: a bundled name (groq-node, dragonfly-8, ...) or a path to a system JSON file.
std::string resolve_system_path(const std::string& system);
/// Loads a system by bundled name or path; its chip by bundled name or relative path.
SystemConfig load_system(const std::string& system);

}  // namespace lpusim::cli
