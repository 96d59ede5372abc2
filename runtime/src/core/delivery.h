// What arrives on the adapter, delivered on this node: a client frame to a channel's local members
// (encoded once by the publisher, the same bytes for every recipient), a close to a personal
// channel's connections, node events and other nodes' topic publishes to the cluster bus, server
// requests to the connections they are for and their answers to this node's waiters, env changes. What
// another node sent is not ours to trust: it is checked once per fan-out before anyone gets it.
// Thread-safety: every method from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "channel_registry.h"
#include "cluster_bus.h"
#include "server_hooks.h"
#include "server_requests.h"
#include "superline/adapter.h"
#include "superline/conn.h"
#include "superline/contract.h"
#include "superline/internal/metrics.h"
#include "superline/options.h"

namespace superline {
namespace channel {
class ChannelMessage;
}

class Delivery {
 public:
  Delivery(const ContractInfo& contract, const ServerOptions& options, std::string node_id,
           ChannelRegistry& channels, ClusterBus& bus, ServerRequests& requests, const ServerHooks& hooks,
           Metrics& metrics);

  // The adapter's message handler.
  void deliver(std::string_view channel, const Envelope& envelope);

  // Whether `conn` may be sent an event of role `event_role` (empty: shared); if not, counts it
  // and reports where it came from.
  bool in_surface(const Conn& conn, std::string_view event_role, std::string_view from);
  std::uint64_t dropped_outside_surface() const { return dropped_outside_surface_.load(std::memory_order_relaxed); }

 private:
  // A personal env envelope for `conn`: set where it is the connection's env type.
  void set_env(Conn& conn, const channel::ChannelMessage& message);

  const ContractInfo& contract_;
  const ServerOptions& options_;
  const std::string node_id_;
  const std::string reply_channel_;  // reply:<node_id_>
  ChannelRegistry& channels_;
  ClusterBus& bus_;
  ServerRequests& requests_;
  const ServerHooks& hooks_;
  Metrics& metrics_;
  std::atomic<std::uint64_t> dropped_outside_surface_{0};
};

}  // namespace superline
