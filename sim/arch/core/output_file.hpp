#pragma once
// Output files written whole or not at all: a command that fails (bad input, a limit, an
// internal error) leaves no empty or partial file behind. The text goes to a temporary file
// beside the target, renamed over it only once it is complete.
#include <string>

namespace lpusim {

/// Refuses (InputError "FLAG PATH: cannot write this file (why)") a path that is a directory or
/// whose folder does not exist or is not writable, without creating anything; called before
/// the work whose result goes there.
void require_writable_path(const std::string& path, const std::string& flag);

/// Writes `text` to `path` through a temporary file and a rename. A path that exists and is
/// not a regular file (/dev/stdout, a pipe) is written directly.
void write_file_atomically(const std::string& path, const std::string& text, const std::string& flag);

}  // namespace lpusim
