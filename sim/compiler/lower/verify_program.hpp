#pragma once
// The verifier after the lowering pass: what the simulator will check when it loads the
// program, checked before the program is written, so that `compile` never writes a program
// that `run` refuses.
#include <cstdint>

#include "arch/core/limits.hpp"
#include "arch/isa/program.hpp"

namespace lpusim {

/// Throws InputError (naming the counts and the limit, docs/limits.md) when the program
/// exceeds a limit of the assembly loader (instruction lines, instructions issued counting
/// repeats), and std::logic_error for a malformed queue (a nop of no cycles, a repeat that
/// repeats nothing): a compiler bug.
/// `max_lines` is the loader's limit (tests pass a smaller one).
void verify_lowered_program(const Program& program, std::int64_t max_lines = limits::kMaxProgramInstructions);

}  // namespace lpusim
