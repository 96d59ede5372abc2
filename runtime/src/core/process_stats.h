// The process's own figures for /metrics, read from /proc (Linux).
// Thread-safety: a free function; any thread.
#pragma once

#include <cstddef>

namespace superline {

struct ProcessStats {
  std::size_t resident_memory_bytes = 0;
  std::size_t open_fds = 0;
  double cpu_seconds = 0;         // user + system
  double start_time_seconds = 0;  // since the Unix epoch
};

ProcessStats read_process_stats();

}  // namespace superline
