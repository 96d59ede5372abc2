// Server configuration: one plain struct, every field with its default.
// Thread-safety: a value type; copy it, don't share it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace superline {

struct ServerOptions {
  // This node's name in logs and cluster views; default: the first 8 characters of the node id.
  std::string node_name;
  // Largest inbound WebSocket message; a bigger one closes the connection with 1009.
  std::size_t max_message_bytes = 1 << 20;
  // Bytes queued for one connection before the slow-consumer policy applies (close with 1013).
  std::size_t max_queued_bytes = 1 << 20;
  // App-level {"t":"ping"} period; 0 disables the heartbeat.
  std::chrono::milliseconds heartbeat_interval{30'000};
  // Unanswered pings after which the connection is dropped.
  int max_missed_pongs = 2;
  // How long this node counts as alive in the cluster's presence after its last heartbeat tick; a
  // crashed node's connections vanish from cluster queries after this. Keep it above the interval.
  std::chrono::milliseconds presence_ttl{90'000};
  // Time allowed from TCP accept to a completed WebSocket upgrade.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Largest HTTP upgrade request header; a bigger one is refused before any upgrade.
  std::size_t max_header_bytes = 8 * 1024;
  // Time a closing connection gets to finish the close handshake before its socket is cut.
  std::chrono::milliseconds close_timeout{5'000};
  // Reject JSON payload fields the contract does not know (VALIDATION) instead of ignoring them.
  bool strict_json = false;
};

}  // namespace superline
