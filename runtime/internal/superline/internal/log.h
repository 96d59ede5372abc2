// The runtime's log: one line per event on stderr, and throttles that keep any one source (a
// connection, a kind of message) from flooding it. protobuf's own log is routed here too, so its
// complaints about a client's bytes are throttled per connection like ours.
// Thread-safety: log() and KindThrottle from any thread; a LogThrottle belongs to one strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace superline {

enum class LogLevel { kInfo, kWarning, kError };

// Writes "superline <level>: <message>" as one line on stderr.
void log(LogLevel level, std::string_view message);

// Admits a burst of lines per period from one source and counts the rest.
class LogThrottle {
 public:
  static constexpr uint32_t kBurst = 5;
  static constexpr std::chrono::seconds kPeriod{10};

  // nullopt: refused; otherwise how many lines were refused since the last admitted one.
  std::optional<uint64_t> admit(std::chrono::steady_clock::time_point now);

 private:
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t in_window_ = 0;
  uint32_t refused_ = 0;
};

// A LogThrottle for one kind of message across the process (any thread).
class KindThrottle {
 public:
  std::optional<uint64_t> admit(std::chrono::steady_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    return throttle_.admit(now);
  }

 private:
  std::mutex mu_;
  LogThrottle throttle_;
};

// Logs `message` if `throttle` admits it, saying how many similar lines it held back before.
void log_throttled(KindThrottle& throttle, LogLevel level, std::string_view message);

// While one lives on a thread, protobuf's log lines from that thread are attributed to `source`
// (a connection id) and throttled by `throttle` as well as per kind.
class LogScope {
 public:
  LogScope(LogThrottle& throttle, std::string_view source);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;
};

// Routes protobuf's log through log(); idempotent.
void route_protobuf_log();

}  // namespace superline
