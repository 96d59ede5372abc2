// What a server can say about itself: the figures /metrics, /health and /ready are made of, as one
// struct for applications (Server::stats()). Counters count since the server started.
// Thread-safety: a value type; Server::stats() may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace superline {

// Where a server is in its life, as readiness sees it.
enum class ServingState {
  kStarting,  // not listening yet: not ready
  kServing,   // listening: ready while the adapter is connected
  kDraining,  // closing its connections before it stops: not ready
  kStopped,
};
std::string_view serving_state_name(ServingState state);  // "starting", "serving", "draining", "stopped"

struct ServerStats {
  ServingState state = ServingState::kStarting;
  double uptime_seconds = 0;
  // Ready: serving, and the adapter connected. Otherwise `not_ready` says why.
  bool ready = false;
  std::string not_ready;

  std::size_t connections = 0;
  std::vector<std::pair<std::string, std::size_t>> connections_by_role;  // every role, in contract order
  uint64_t connections_opened = 0;
  uint64_t connections_closed = 0;

  // Both wires together; /metrics has them by wire.
  uint64_t frames_received = 0;
  uint64_t frames_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t requests = 0;  // answered, whatever the answer
  uint64_t client_events = 0;
  uint64_t fanouts = 0;     // publishes this node made: broadcasts, topic publishes, targeted sends
  uint64_t deliveries = 0;  // frames handed to this node's connections by fan-outs, from any node

  std::size_t queued_bytes = 0;  // held in connections' write queues now
  uint64_t slow_consumer_closes = 0;
  uint64_t slow_consumer_drops = 0;  // frames skipped under SlowConsumerPolicy::kDrop
  uint64_t rate_limited = 0;         // frames refused for the request rate
  uint64_t rate_limit_closes = 0;
  uint64_t dropped_outside_surface = 0;

  std::size_t rooms = 0;  // with members on this node
  std::size_t topics = 0;
  std::size_t channels = 0;  // every adapter channel this node is subscribed to

  bool adapter_connected = true;
  uint64_t adapter_dropped_publishes = 0;  // lost while the broker was away
  uint64_t adapter_reconnects = 0;
  uint64_t presence_sweeps = 0;

  std::size_t resident_memory_bytes = 0;  // of the process
  std::size_t open_fds = 0;
  double cpu_seconds = 0;         // user + system, of the process
  double start_time_seconds = 0;  // the process's, since the Unix epoch
};

}  // namespace superline
