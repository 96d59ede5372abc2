#include "superline/internal/log.h"

#include <google/protobuf/stubs/logging.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <utility>

#include "superline/internal/text.h"

namespace superline {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string held_back(uint64_t refused) {
  return refused == 0 ? std::string() : cat(" (", refused, " similar lines held back before this one)");
}

struct Scope {
  LogThrottle* throttle = nullptr;
  std::string_view source;
};
thread_local Scope current_scope;

void protobuf_handler(google::protobuf::LogLevel level, const char*, int, const std::string& message) {
  const LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR     ? LogLevel::kError
                        : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                      : LogLevel::kInfo;
  if (level == google::protobuf::LOGLEVEL_FATAL) return log(ours, cat("protobuf: ", message));  // it aborts next
  static KindThrottle kind;
  const auto now = std::chrono::steady_clock::now();
  const Scope scope = current_scope;
  std::optional<uint64_t> refused = scope.throttle ? scope.throttle->admit(now) : std::optional<uint64_t>(0);
  if (!refused) return;
  const std::optional<uint64_t> refused_of_kind = kind.admit(now);
  if (!refused_of_kind) return;
  log(ours, cat("protobuf: ", message,
                scope.throttle ? cat(" (connection ", clip(scope.source), ")") : std::string(),
                held_back(*refused + *refused_of_kind)));
}

}  // namespace

void log(LogLevel level, std::string_view message) {
  const std::string line = cat("superline ", level_name(level), ": ", repair_utf8(message), "\n");
  // One write, so lines from different threads never interleave.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

std::optional<uint64_t> LogThrottle::admit(std::chrono::steady_clock::time_point now) {
  if (now - window_start_ >= kPeriod) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= kBurst) {
    ++refused_;
    return std::nullopt;
  }
  ++in_window_;
  return std::exchange(refused_, 0);
}

void log_throttled(KindThrottle& throttle, LogLevel level, std::string_view message) {
  if (auto refused = throttle.admit(std::chrono::steady_clock::now())) log(level, cat(message, held_back(*refused)));
}

LogScope::LogScope(LogThrottle& throttle, std::string_view source) { current_scope = {&throttle, source}; }
LogScope::~LogScope() { current_scope = {}; }

void route_protobuf_log() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&protobuf_handler); });
}

}  // namespace superline
