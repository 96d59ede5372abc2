// The cluster's presence directory: which connections (and users) each live node has. Adapters
// provide it (in-process for MemoryBus, keys with a liveness TTL in Redis); the server keeps it up to
// date on open, close and every heartbeat, and clears its node on graceful shutdown, so a node that
// crashes disappears from queries once its liveness key expires.
// Thread-safety: every method may be called from any thread; callbacks may run on any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace superline {

struct NodePresence {
  std::string node_id;
  std::string node_name;
  std::size_t connections = 0;
};

class Presence {
 public:
  virtual ~Presence() = default;

  // Writes are fire-and-forget: a write lost during an outage is repaired by the next beat or
  // expires with its node.
  virtual void add(std::string_view node_id, std::string_view conn_id, std::string_view user_id) = 0;
  virtual void remove(std::string_view node_id, std::string_view conn_id, std::string_view user_id) = 0;
  // The node is alive for `ttl` from now.
  virtual void beat(std::string_view node_id, std::string_view node_name, std::chrono::milliseconds ttl) = 0;
  virtual void clear_node(std::string_view node_id) = 0;

  // Live nodes only, in no particular order.
  virtual void topology(std::function<void(absl::StatusOr<std::vector<NodePresence>>)> done) = 0;
  // Whether any live node has a connection of this user.
  virtual void is_online(std::string_view user_id, std::function<void(absl::StatusOr<bool>)> done) = 0;
};

}  // namespace superline
