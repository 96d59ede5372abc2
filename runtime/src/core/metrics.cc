#include "superline/internal/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "superline/internal/text.h"
#include "superline/status.h"

namespace superline {
namespace {

// "OK" and the wire's own codes, each a series of its own; custom codes share a bounded map.
constexpr std::array<std::string_view, 12> kCodes = {"OK",        "BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN",
                                                     "NOT_FOUND", "TIMEOUT",     "VALIDATION",   "DISCONNECTED",
                                                     "INTERNAL",  "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "BUSY"};
constexpr std::size_t kMaxCustomCodes = 32;
// Close codes with a series each; anything else a peer sends is "other".
constexpr std::array<uint16_t, 12> kCloseCodes = {1000, 1001, 1002, 1003, 1006, 1007,
                                                  1008, 1009, 1011, 1013, 4000, 4001};

std::atomic<std::size_t> next_shard{0};

// A label value in the exposition's escaping: backslash, double quote and newline.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double (0.0025, not 0.0025000000000000001).
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += cat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    out_ += cat(name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", value, "\n");
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += cat(name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", number(value), "\n");
  }
  // A family with one unlabelled sample.
  template <class T>
  void single(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, "", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr std::string_view kWires[] = {"json", "protobuf"};

}  // namespace

std::size_t Counter::shard() {
  thread_local const std::size_t mine = next_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
  return mine;
}

uint64_t Counter::value() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

void Histogram::observe(double seconds) {
  const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  buckets_[static_cast<std::size_t>(it - kBounds.begin())].add();
  sum_nanos_.add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e9));
}

std::array<uint64_t, Histogram::kBounds.size() + 1> Histogram::cumulative() const {
  std::array<uint64_t, kBounds.size() + 1> out{};
  uint64_t running = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) out[i] = running += buckets_[i].value();
  return out;
}

Metrics::Metrics(const ContractInfo& contract)
    : contract_(contract),
      opened_(contract.roles.size()),
      client_events_(contract.methods.size() + 1),
      closed_(kCloseCodes.size() + 1) {
  for (std::size_t i = 0; i <= contract.methods.size(); ++i) {
    requests_.push_back(std::make_unique<RequestFamily>());
    requests_.back()->by_code = std::vector<Counter>(kCodes.size());
  }
}

std::size_t Metrics::method_index(const MethodInfo* method) const {
  if (method == nullptr) return contract_.methods.size();
  return static_cast<std::size_t>(method - contract_.methods.data());
}

void Metrics::connection_closed(uint16_t code) {
  const auto it = std::find(kCloseCodes.begin(), kCloseCodes.end(), code);
  closed_[static_cast<std::size_t>(it - kCloseCodes.begin())].add();
}

void Metrics::request_answered(const MethodInfo* method, std::string_view code, double seconds) {
  RequestFamily& family = *requests_[method_index(method)];
  if (seconds >= 0) family.latency.observe(seconds);
  if (const auto it = std::find(kCodes.begin(), kCodes.end(), code); it != kCodes.end()) {
    return family.by_code[static_cast<std::size_t>(it - kCodes.begin())].add();
  }
  std::lock_guard<std::mutex> lock(family.custom_mu);
  auto found = family.custom.find(absl_view(code));
  if (found == family.custom.end()) {
    found = family.custom.size() < kMaxCustomCodes ? family.custom.emplace(std::string(code), 0).first
                                                   : family.custom.try_emplace("OTHER", 0).first;
  }
  ++found->second;
}

void Metrics::client_event(const MethodInfo* method) { client_events_[method_index(method)].add(); }

void Metrics::fill(ServerStats& stats) const {
  for (const Counter& c : opened_) stats.connections_opened += c.value();
  for (const Counter& c : closed_) stats.connections_closed += c.value();
  for (std::size_t w = 0; w < 2; ++w) {
    stats.frames_received += frames_in_[w].value();
    stats.frames_sent += frames_out_[w].value();
    stats.bytes_received += bytes_in_[w].value();
    stats.bytes_sent += bytes_out_[w].value();
  }
  for (const auto& family : requests_) {
    for (const Counter& c : family->by_code) stats.requests += c.value();
    std::lock_guard<std::mutex> lock(family->custom_mu);
    for (const auto& [code, n] : family->custom) stats.requests += n;
  }
  for (const Counter& c : client_events_) stats.client_events += c.value();
  stats.fanouts = fanouts_.value();
  stats.deliveries = deliveries_.value();
  stats.slow_consumer_closes = slow_consumer_closes_.value();
  stats.rate_limited = rate_limited_.value();
  stats.rate_limit_closes = rate_limit_closes_.value();
}

std::string Metrics::render(const ServerStats& stats) const {
  Exposition e;
  auto method_label = [&](std::size_t i) {
    return i < contract_.methods.size() ? label(contract_.methods[i].name) : std::string("(unknown)");
  };

  e.family("superline_connections", "gauge", "Open connections, by role.");
  for (const auto& [role, n] : stats.connections_by_role) e.sample("superline_connections", cat("role=\"", label(role), "\""), uint64_t{n});
  e.family("superline_connections_opened_total", "counter", "Connections admitted, by role.");
  for (std::size_t r = 0; r < opened_.size(); ++r)
    e.sample("superline_connections_opened_total", cat("role=\"", label(contract_.roles[r]), "\""), opened_[r].value());
  e.family("superline_connections_closed_total", "counter", "Connections closed, by WebSocket close code (1006: no close frame).");
  for (std::size_t i = 0; i < closed_.size(); ++i) {
    const std::string code = i < kCloseCodes.size() ? cat(kCloseCodes[i]) : std::string("other");
    e.sample("superline_connections_closed_total", cat("code=\"", code, "\""), closed_[i].value());
  }

  const struct {
    std::string_view name, help;
    const std::array<Counter, 2>& counters;
  } by_wire[] = {
      {"superline_frames_received_total", "WebSocket messages received, by wire.", frames_in_},
      {"superline_frames_sent_total", "WebSocket messages queued to connections, by wire.", frames_out_},
      {"superline_received_bytes_total", "Bytes of WebSocket messages received, by wire.", bytes_in_},
      {"superline_sent_bytes_total", "Bytes written to connections' sockets, by wire.", bytes_out_},
  };
  for (const auto& family : by_wire) {
    e.family(family.name, "counter", family.help);
    for (std::size_t w = 0; w < 2; ++w) e.sample(family.name, cat("wire=\"", kWires[w], "\""), family.counters[w].value());
  }

  e.family("superline_requests_total", "counter", "Requests answered, by method and result code.");
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    const bool known = i < contract_.methods.size();
    if (known && contract_.methods[i].kind != MethodKind::kRequest) continue;
    const RequestFamily& family = *requests_[i];
    for (std::size_t c = 0; c < kCodes.size(); ++c) {
      const uint64_t n = family.by_code[c].value();
      // Every method's OK series exists from the start; error series once they happen.
      if (n > 0 || (c == 0 && known))
        e.sample("superline_requests_total", cat("method=\"", method_label(i), "\",code=\"", kCodes[c], "\""), n);
    }
    std::lock_guard<std::mutex> lock(family.custom_mu);
    for (const auto& [code, n] : family.custom)
      e.sample("superline_requests_total", cat("method=\"", method_label(i), "\",code=\"", label(code), "\""), n);
  }
  e.family("superline_request_duration_seconds", "histogram", "Time from a request's arrival to its answer, by method.");
  for (std::size_t i = 0; i < contract_.methods.size(); ++i) {
    if (contract_.methods[i].kind != MethodKind::kRequest) continue;
    const Histogram& h = requests_[i]->latency;
    const auto counts = h.cumulative();
    const std::string m = method_label(i);
    for (std::size_t b = 0; b < Histogram::kBounds.size(); ++b)
      e.sample("superline_request_duration_seconds_bucket", cat("method=\"", m, "\",le=\"", number(Histogram::kBounds[b]), "\""), counts[b]);
    e.sample("superline_request_duration_seconds_bucket", cat("method=\"", m, "\",le=\"+Inf\""), counts.back());
    e.sample("superline_request_duration_seconds_sum", cat("method=\"", m, "\""), h.sum());
    e.sample("superline_request_duration_seconds_count", cat("method=\"", m, "\""), counts.back());
  }
  e.family("superline_client_events_total", "counter", "Client events received, by method.");
  for (std::size_t i = 0; i < client_events_.size(); ++i) {
    const bool known = i < contract_.methods.size();
    if (known && contract_.methods[i].kind != MethodKind::kClientEvent) continue;
    const uint64_t n = client_events_[i].value();
    if (known || n > 0) e.sample("superline_client_events_total", cat("method=\"", method_label(i), "\""), n);
  }

  e.single("superline_fanouts_total", "counter", "Publishes this node made: broadcasts, topic publishes, targeted sends.", fanouts_.value());
  e.single("superline_deliveries_total", "counter", "Frames fan-outs from any node handed to this node's connections.", deliveries_.value());
  e.single("superline_queued_bytes", "gauge", "Memory held in connections' write queues.", uint64_t{stats.queued_bytes});
  e.single("superline_slow_consumer_closes_total", "counter", "Connections closed (1013) for not reading what they were sent.", slow_consumer_closes_.value());
  e.single("superline_slow_consumer_drops_total", "counter", "Frames skipped for slow consumers under the drop policy.", stats.slow_consumer_drops);
  e.single("superline_rate_limited_total", "counter", "Requests, client events and subscriptions refused for the request rate.", rate_limited_.value());
  e.single("superline_rate_limit_closes_total", "counter", "Connections closed (1008) for staying over the request rate.", rate_limit_closes_.value());
  e.single("superline_dropped_outside_surface_total", "counter", "Targeted events not delivered to a connection whose role lacks them.", stats.dropped_outside_surface);
  e.single("superline_rooms", "gauge", "Rooms with members on this node.", uint64_t{stats.rooms});
  e.single("superline_topics", "gauge", "Topics with subscribers or listeners on this node.", uint64_t{stats.topics});
  e.single("superline_channels", "gauge", "Adapter channels this node is subscribed to.", uint64_t{stats.channels});
  e.single("superline_adapter_up", "gauge", "1 while the adapter reaches its broker, 0 while degraded.", uint64_t{stats.adapter_connected ? 1u : 0u});
  e.single("superline_adapter_dropped_publishes_total", "counter", "Publishes lost while the adapter's broker was away.", stats.adapter_dropped_publishes);
  e.single("superline_adapter_reconnects_total", "counter", "Times the adapter came back after losing its broker.", stats.adapter_reconnects);
  e.single("superline_presence_sweeps_total", "counter", "Presence queries that swept what dead nodes left behind.", stats.presence_sweeps);
  e.single("superline_ready", "gauge", "1 while /ready answers 200.", uint64_t{stats.ready ? 1u : 0u});
  e.single("superline_uptime_seconds", "gauge", "Seconds since the server started.", stats.uptime_seconds);
  e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", uint64_t{stats.resident_memory_bytes});
  e.single("process_open_fds", "gauge", "Number of open file descriptors.", uint64_t{stats.open_fds});
  e.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", stats.cpu_seconds);
  e.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", stats.start_time_seconds);
  return e.take();
}

}  // namespace superline
