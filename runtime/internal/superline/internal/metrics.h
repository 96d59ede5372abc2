// The server's counters and histograms, and their Prometheus text exposition (format 0.0.4). The
// hot paths (frames and bytes, deliveries, requests) add to per-thread shards of a counter, never
// to one contended cache line; a scrape sums the shards. Label values come from the contract (roles,
// methods), from a fixed list (wires, close codes) or from a bounded set (custom error codes), so a
// client cannot grow the number of series.
// Thread-safety: every method from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "superline/contract.h"
#include "superline/frame.h"
#include "superline/stats.h"

namespace superline {

// A counter whose increments from different threads land on different cache lines.
class Counter {
 public:
  void add(uint64_t n = 1) { shards_[shard()].value.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const;

 private:
  static constexpr std::size_t kShards = 8;
  static std::size_t shard();
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kShards> shards_;
};

// A latency histogram with fixed buckets, in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.5,    1};
  void observe(double seconds);
  // Cumulative counts per bound, then the total; the sum of observations.
  std::array<uint64_t, kBounds.size() + 1> cumulative() const;
  double sum() const { return static_cast<double>(sum_nanos_.value()) / 1e9; }

 private:
  std::array<Counter, kBounds.size() + 1> buckets_;  // the last: above every bound
  Counter sum_nanos_;
};

class Metrics {
 public:
  explicit Metrics(const ContractInfo& contract);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void connection_opened(int role) { opened_[static_cast<std::size_t>(role)].add(); }
  void connection_closed(uint16_t code);
  void received(Wire wire, std::size_t bytes) {
    frames_in_[index(wire)].add();
    bytes_in_[index(wire)].add(bytes);
  }
  void frames_sent(Wire wire, uint64_t frames) { frames_out_[index(wire)].add(frames); }
  void bytes_sent(Wire wire, std::size_t bytes) { bytes_out_[index(wire)].add(bytes); }
  // A request answered with `code` ("OK" or the error's wire code) after `seconds` in its handler
  // (negative: refused before any handler ran). `method` null: not a method of the contract.
  void request_answered(const MethodInfo* method, std::string_view code, double seconds);
  void client_event(const MethodInfo* method);
  void fanout() { fanouts_.add(); }
  void delivered(std::size_t frames) { deliveries_.add(frames); }
  void slow_consumer_closed() { slow_consumer_closes_.add(); }
  void rate_limited() { rate_limited_.add(); }
  void rate_limit_closed() { rate_limit_closes_.add(); }

  // Fills the counters of `stats`.
  void fill(ServerStats& stats) const;
  // The whole exposition: these counters, and the gauges, adapter and process figures in `stats`
  // (one Server::stats() per scrape).
  std::string render(const ServerStats& stats) const;

 private:
  static std::size_t index(Wire wire) { return wire == Wire::kJson ? 0 : 1; }
  std::size_t method_index(const MethodInfo* method) const;  // methods.size() for "not in the contract"

  // Per request method: answers by code (standard codes in a fixed table, custom ones in a bounded
  // map) and handler latency.
  struct RequestFamily {
    std::vector<Counter> by_code;  // kCodes order
    mutable std::mutex custom_mu;
    absl::flat_hash_map<std::string, uint64_t> custom;  // at most kMaxCustomCodes; then "OTHER"
    Histogram latency;
  };

  const ContractInfo& contract_;
  std::vector<Counter> opened_;  // by role
  std::array<Counter, 2> frames_in_, frames_out_, bytes_in_, bytes_out_;  // by wire
  std::vector<std::unique_ptr<RequestFamily>> requests_;  // by method index, + not in the contract
  std::vector<Counter> client_events_;                    // by method index, + not in the contract
  std::vector<Counter> closed_;                           // by kCloseCodes index, + other
  Counter fanouts_, deliveries_, slow_consumer_closes_, rate_limited_, rate_limit_closes_;
};

}  // namespace superline
