#include "process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace superline {
namespace {

std::size_t count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::size_t n = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the descriptor opendir itself holds
}

double boot_time_seconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats out;
  const long page = ::sysconf(_SC_PAGESIZE);
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(statm, "%lu %lu", &size, &resident) == 2) out.resident_memory_bytes = resident * static_cast<unsigned long>(page);
    std::fclose(statm);
  }
  out.open_fds = count_open_fds();
  std::ifstream stat_file("/proc/self/stat");
  std::stringstream buffer;
  buffer << stat_file.rdbuf();
  const std::string stat = buffer.str();
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
  // utime 14, stime 15, starttime 22.
  if (const size_t close = stat.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0, start = 0;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
      if (i == 22) start = std::stod(field);
    }
    out.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
    out.start_time_seconds = boot_time_seconds() + start / static_cast<double>(ticks);
  }
  return out;
}

}  // namespace superline
