#include "arch/core/child_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace lpusim {

std::string read_to_end(int fd) {
  std::string text;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

bool exited_cleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

ChildOutput run_in_forked_child(const std::function<std::string()>& produce) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    const std::string text = produce();
    std::size_t done = 0;
    while (done < text.size()) {
      const auto n = write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  ChildOutput out;
  out.text = read_to_end(fds[0]);
  close(fds[0]);
  waitpid(pid, &out.status, 0);
  return out;
}

}  // namespace lpusim
