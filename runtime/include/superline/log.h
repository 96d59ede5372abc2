// The runtime's logging seam: every message the runtime writes (Redis up and down, slow consumers
// closed, handler failures, rate-limit closes, shutdown phases, ...) is one LogRecord given to one
// LogSink: ServerOptions::log for a server and its transport, RedisOptions::log for the Redis
// adapter. Two sinks come with it: one line of text per record on stderr (the default) and one JSON
// object per line.
// Thread-safety: a sink is called from any runtime thread, concurrently; it must not block for long
// and must not call back into the runtime. The two given here write each record with one write(2).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace superline {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
std::string_view log_level_name(LogLevel level);  // "debug", "info", "warning", "error"

// A key and its value, as text ("conn" -> "3f2c...", "code" -> "1013").
struct LogField {
  std::string_view key;
  std::string value;
};

struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  std::string_view message;  // one line, no trailing newline
  std::vector<LogField> fields;
};

using LogSink = std::function<void(const LogRecord&)>;

// "superline <level>: <message> key=value key=\"value with spaces\"" on stderr.
LogSink text_log_sink();
// {"time":"2026-12-02T03:04:05.678Z","level":"info","msg":"...","key":"value"} on stderr.
LogSink json_log_sink();
// How either sink writes `record` (without the newline); for sinks that write elsewhere.
std::string format_log_text(const LogRecord& record);
std::string format_log_json(const LogRecord& record);

}  // namespace superline
