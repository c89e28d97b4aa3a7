// lpusim: a cycle-accurate simulator of Groq's TSP/LPU.
// Exit codes: 0 success, 2 bad input (file, key, flag), 3 schedule hazard, 1 internal error.
#include <cstdlib>
#include <iostream>
#include <systemc>

#include "commands.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

int sc_main(int argc, char* argv[]) {
  CLI::App app{"lpusim: cycle-accurate simulator of Groq's Tensor Streaming Processor (LPU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lpusim 0.1.0");
  const auto run = lpusim::cli::add_run_command(app);
  const auto compile = lpusim::cli::add_compile_command(app);
  const auto estimate = lpusim::cli::add_estimate_command(app);
  const auto verify = lpusim::cli::add_verify_command(app);
  const auto bench = lpusim::cli::add_bench_command(app);
  const auto bench_case = lpusim::cli::add_bench_case_command(app);
  const auto system = lpusim::cli::add_system_command(app);
  const auto explore = lpusim::cli::add_explore_command(app);
  const auto merge = lpusim::cli::add_merge_command(app);
  const auto regress = lpusim::cli::add_regress_command(app);
  const auto report = lpusim::cli::add_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "lpusim: error: " << lpusim::one_line(e.what()) << " (see lpusim --help)\n";
    return 2;
  }
  try {
    if (app.got_subcommand("run")) return run();
    if (app.got_subcommand("compile")) return compile();
    if (app.got_subcommand("estimate")) return estimate();
    if (app.got_subcommand("verify")) return verify();
    if (app.got_subcommand("bench")) return bench();
    if (app.got_subcommand("bench-case")) return bench_case();
    if (app.got_subcommand("system")) return system();
    if (app.got_subcommand("explore")) return explore();
    if (app.got_subcommand("merge")) return merge();
    if (app.got_subcommand("regress")) return regress();
    if (app.got_subcommand("report")) return report();
    return 2;
  } catch (const lpusim::InputError& e) {
    // One line even when the message quotes user text holding control characters.
    std::cerr << "lpusim: error: " << lpusim::one_line(e.what()) << "\n";
    return lpusim::InputError::exit_code;
  } catch (const lpusim::ScheduleError& e) {
    std::cerr << "lpusim: schedule error: " << e.what() << "\n";
    return lpusim::ScheduleError::exit_code;
  } catch (const std::bad_alloc&) {
    std::cerr << "lpusim: error: out of host memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lpusim: internal error: " << lpusim::one_line(e.what()) << "\n";
    return 1;
  }
}

int main(int argc, char* argv[]) {
  // Keep the SystemC banner out of the tool's output.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
