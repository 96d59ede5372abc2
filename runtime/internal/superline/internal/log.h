// The runtime's side of the log (superline/log.h): records to a sink, and throttles that keep any
// one source (a connection, a kind of message) from flooding it. protobuf's own log is routed here
// too, so its complaints about a client's bytes are throttled per connection like ours.
// Thread-safety: log() and KindThrottle from any thread; a LogThrottle belongs to one strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string_view>

#include "superline/log.h"

namespace superline {

// The sink code without a server of its own writes to (text on stderr).
const LogSink& default_log_sink();

// Gives `sink` (default_log_sink() when empty) one record.
void log(const LogSink& sink, LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

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

// Logs the record if `throttle` admits it, with a "held_back" field counting the similar records
// refused before it.
void log_throttled(KindThrottle& throttle, const LogSink& sink, LogLevel level, std::string_view message,
                   std::initializer_list<LogField> fields = {});

// While one lives on a thread, protobuf's log lines from that thread go to `sink`, attributed to
// `source` (a connection id) and throttled by `throttle` as well as per kind.
class LogScope {
 public:
  LogScope(const LogSink& sink, LogThrottle& throttle, std::string_view source);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;
};

// Routes protobuf's log through log(); idempotent.
void route_protobuf_log();

}  // namespace superline
