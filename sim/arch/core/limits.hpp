#pragma once
// Limits on what a user can hand in, and the host-memory guard. Every limit here is
// documented in docs/limits.md; an input beyond one is refused with an InputError (exit
// code 2) before any work or allocation it would need.
#include <cstdint>
#include <string>

namespace lpusim::limits {

/// Instructions (lines) in one program, before repeats: about 0.5 KiB of host memory each
/// once parsed and bound (the host-memory guard refuses a program this machine cannot hold).
/// As large as the compiler's cap on the instructions one compile issues
/// (kMaxCompiledInstructions, 2^24, repeats counted), so that `lpusim run` reads every
/// program `lpusim compile` writes.
constexpr std::int64_t kMaxProgramInstructions = std::int64_t{1} << 24;
/// Instructions one run issues, counting every repeat: about 10^9, minutes to tens of
/// minutes of host time. Anything longer is refused instead of running for hours.
constexpr std::int64_t kMaxIssuedInstructions = std::int64_t{1} << 30;
/// Cycles one queue may wait for (nops and repeat intervals, summed). A cycle is 1 ns of
/// SystemC time counted in picoseconds, so 2^64 ps hold 2^54 cycles; 2^50 leaves margin.
constexpr std::int64_t kMaxQueueCycles = std::int64_t{1} << 50;
/// Host bytes per line of a program while it is parsed, bound and simulated: 2^20 nop lines
/// peak at 537 MiB in timing mode (docs/limits.md), about 512 B a line; 768 leaves margin for
/// instructions with more operands.
constexpr std::uint64_t kProgramHostBytesPerLine = 768;
/// The most vectors a C2C port's buffer holds (arrived or in flight) in the simulator. The
/// hardware's receive buffer is not published and surely smaller; the bound keeps a schedule
/// that never receives from filling the host's memory, and a vector beyond it is lost (a
/// data-lost hazard). The compiler keeps a forwarded transfer within it (estimates chunk a
/// prompt whose hand-off would not fit).
constexpr std::size_t kC2cPortBufferVectors = 512;
/// Simulated chips in one run of a single program (`lpusim run` without --system).
constexpr int kMaxChips = 1;

/// Host bytes one run may use: the LPUSIM_MAX_HOST_BYTES environment variable if set,
/// otherwise MemAvailable from /proc/meminfo (or 4 GiB if that cannot be read).
std::uint64_t host_memory_budget();

/// Refuses (InputError naming `what`) work that needs more than the host memory budget.
void require_host_memory(std::uint64_t bytes, const std::string& what);

}  // namespace lpusim::limits

namespace lpusim {

/// Overflow-checked arithmetic for sizes derived from user input: false on overflow.
inline bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
inline bool checked_add(std::int64_t a, std::int64_t b, std::int64_t& out) { return !__builtin_add_overflow(a, b, &out); }
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
inline bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return !__builtin_add_overflow(a, b, &out); }

/// The text with control characters escaped, so that a message quoting user input (a JSON
/// key with "\n" in it, a path) stays on one line.
std::string one_line(const std::string& text);

}  // namespace lpusim
