#include "compiler/lower/verify_program.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

void verify_lowered_program(const Program& program, std::int64_t max_lines) {
  std::int64_t lines = 0, issued = 0;
  for (const auto& q : program.queues) {
    std::int64_t previous_repeats = -1;  // nonzero: the next repeat has nothing to repeat
    for (const auto& item : q.items) {
      if (item.kind != QueueItem::Kind::Instruction) continue;
      ++lines;
      const Instruction& ins = item.instruction;
      if (ins.opcode == Opcode::Nop) {
        if (ins.operands.empty() || ins.operands[0].integer < 1)
          throw std::logic_error(fmt::format("lowering emitted a nop below 1 cycle on {}", queue_name(q.id)));
        previous_repeats = -1;  // a repeat right after a nop repeats nothing
        continue;
      }
      if (ins.opcode == Opcode::Repeat) {
        if (previous_repeats != 0)
          throw std::logic_error(fmt::format("lowering emitted a repeat that follows no instruction on {}", queue_name(q.id)));
        previous_repeats = ins.operands.at(0).integer;
        issued += previous_repeats;
        continue;
      }
      previous_repeats = 0;
      ++issued;
    }
  }
  if (lines > max_lines)
    throw InputError(fmt::format("{}: the compiled program has {} instruction lines, more than the {} a program may hold "
                                 "(docs/limits.md); a shorter prompt or context fits",
                                 program.file, lines, max_lines));
  if (issued > limits::kMaxIssuedInstructions)
    throw InputError(fmt::format("{}: the compiled program issues {} instructions counting repeats, more than the {} one "
                                 "run may issue (docs/limits.md); a shorter prompt or context fits",
                                 program.file, issued, limits::kMaxIssuedInstructions));
}

}  // namespace lpusim
