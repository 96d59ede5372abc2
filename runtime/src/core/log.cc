#include "superline/internal/log.h"

#include <google/protobuf/stubs/logging.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <utility>

#include "superline/internal/text.h"

namespace superline {
namespace {

// One write, so lines from different threads never interleave.
void write_line(std::string line) {
  line += '\n';
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

// A value a reader can split on spaces: quoted (JSON string rules) when it holds a space, a quote,
// '=' or anything outside printable ASCII, or is empty.
void append_text_value(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value) plain = plain && c > ' ' && c < 0x7f && c != '"' && c != '=';
  if (plain) {
    out.append(value);
  } else {
    append_json_string(out, repair_utf8(value));
  }
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buffer, static_cast<int>(millis));
  return out;
}

struct Scope {
  const LogSink* sink = nullptr;
  LogThrottle* throttle = nullptr;
  std::string_view source;
};
thread_local Scope current_scope;

void protobuf_handler(google::protobuf::LogLevel level, const char*, int, const std::string& message) {
  const LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR     ? LogLevel::kError
                        : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                      : LogLevel::kInfo;
  const Scope scope = current_scope;
  const LogSink& sink = scope.sink ? *scope.sink : default_log_sink();
  if (level == google::protobuf::LOGLEVEL_FATAL) return log(sink, ours, cat("protobuf: ", message));  // it aborts next
  static KindThrottle kind;
  const auto now = std::chrono::steady_clock::now();
  std::optional<uint64_t> refused = scope.throttle ? scope.throttle->admit(now) : std::optional<uint64_t>(0);
  if (!refused) return;
  const std::optional<uint64_t> refused_of_kind = kind.admit(now);
  if (!refused_of_kind) return;
  const std::string text = cat("protobuf: ", message);
  LogRecord record{ours, text, {}};
  if (scope.throttle) record.fields.push_back({"conn", clip(scope.source)});
  if (const uint64_t held = *refused + *refused_of_kind; held > 0) record.fields.push_back({"held_back", cat(held)});
  sink(record);
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string format_log_text(const LogRecord& record) {
  std::string line = cat("superline ", log_level_name(record.level), ": ", repair_utf8(record.message));
  for (const LogField& field : record.fields) {
    if (field.value.empty()) continue;
    line += ' ';
    line.append(field.key);
    line += '=';
    append_text_value(line, field.value);
  }
  return line;
}

std::string format_log_json(const LogRecord& record) {
  std::string line = R"({"time":")" + utc_now() + R"(","level":")";
  line.append(log_level_name(record.level));
  line += R"(","msg":)";
  append_json_string(line, repair_utf8(record.message));
  for (const LogField& field : record.fields) {
    if (field.value.empty()) continue;
    line += ',';
    append_json_string(line, repair_utf8(field.key));
    line += ':';
    append_json_string(line, repair_utf8(field.value));
  }
  line += '}';
  return line;
}

LogSink text_log_sink() {
  return [](const LogRecord& record) { write_line(format_log_text(record)); };
}

LogSink json_log_sink() {
  return [](const LogRecord& record) { write_line(format_log_json(record)); };
}

const LogSink& default_log_sink() {
  static const LogSink sink = text_log_sink();
  return sink;
}

void log(const LogSink& sink, LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  const LogRecord record{level, message, std::vector<LogField>(fields)};
  (sink ? sink : default_log_sink())(record);
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

void log_throttled(KindThrottle& throttle, const LogSink& sink, LogLevel level, std::string_view message,
                   std::initializer_list<LogField> fields) {
  const std::optional<uint64_t> refused = throttle.admit(std::chrono::steady_clock::now());
  if (!refused) return;
  LogRecord record{level, message, std::vector<LogField>(fields)};
  if (*refused > 0) record.fields.push_back({"held_back", cat(*refused)});
  (sink ? sink : default_log_sink())(record);
}

LogScope::LogScope(const LogSink& sink, LogThrottle& throttle, std::string_view source) {
  current_scope = {&sink, &throttle, source};
}
LogScope::~LogScope() { current_scope = {}; }

void route_protobuf_log() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&protobuf_handler); });
}

}  // namespace superline
