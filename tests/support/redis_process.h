// A real redis-server for integration tests: started on a free loopback port, stopped (SIGKILL) on
// destruction. kill()/restart() and freeze()/thaw() (SIGSTOP/SIGCONT) drive fault tests; command()
// talks to it directly with hiredis's blocking client.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace testing_support {

class RedisProcess {
 public:
  RedisProcess();
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  void kill();     // SIGKILL, waits for the process to be gone
  void restart();  // a fresh server on the same port
  void freeze();   // SIGSTOP
  void thaw();     // SIGCONT

  // Runs one command; returns the reply flattened to strings (integers printed), or {"ERR ..."}.
  std::vector<std::string> command(const std::vector<std::string>& argv) const;
  // Runs many commands on one connection, pipelined; returns how many were answered without error.
  size_t pipeline(const std::vector<std::vector<std::string>>& commands) const;

 private:
  void launch();
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace testing_support
