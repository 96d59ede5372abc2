// The cluster bus: node-to-node events (emit_server excludes the sender; on_server listeners hear
// the other nodes), and server-side listeners of shared topics, which hear every node's publishes:
// this node's in-process at publish time (the local echo), the others' through the adapter.
// Thread-safety: every method from any thread; listeners run on the caller's or adapter's thread,
// isolated from each other (one that throws is reported, the rest still run).
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "channel_registry.h"
#include "server_hooks.h"
#include "superline/adapter.h"
#include "superline/contract.h"
#include "superline/listener.h"

namespace superline {

namespace channel {
class ChannelMessage;
}

class ClusterBus {
 public:
  ClusterBus(const ContractInfo& contract, Adapter& adapter, ChannelRegistry& channels, std::string node_id,
             const ServerHooks& hooks);
  ClusterBus(const ClusterBus&) = delete;
  ClusterBus& operator=(const ClusterBus&) = delete;

  // ---- Node-to-node events ----
  void emit(std::string_view event, const google::protobuf::Message& payload);
  ListenerHandle on(std::string_view event, Listener listener);
  // A message on the s2s channel: parsed against the contract, then to the event's listeners.
  void deliver_server_event(const channel::ChannelMessage& message);

  // ---- Shared topics ----
  uint64_t subscribe_topic(std::string_view topic, Listener listener, std::function<void(absl::Status)> ready);
  void unsubscribe_topic(uint64_t id);
  // The publishing node's own listeners, in-process, exactly once.
  void echo_topic(std::string_view topic, const google::protobuf::Message& payload);
  // Another node's publish of `topic`, still encoded as a client frame: parsed against the contract
  // (a frame that is not a valid publish of the topic is reported, reaching nobody).
  void deliver_topic(std::string_view topic, const channel::ChannelMessage& message,
                     const std::vector<Listener>& listeners);

 private:
  // Node-event listeners by event, shared with the handles that remove them.
  struct ServerListeners {
    std::mutex mu;
    uint64_t next_id = 1;
    absl::flat_hash_map<std::string, std::map<uint64_t, Listener>> by_event;  // in registration order
  };

  void notify(const std::vector<Listener>& listeners, const google::protobuf::Message& payload,
              std::string_view from, std::string_view name) const;

  const ContractInfo& contract_;
  Adapter& adapter_;
  ChannelRegistry& channels_;
  const std::string node_id_;
  const ServerHooks& hooks_;
  absl::flat_hash_map<std::string, const MethodInfo*> server_events_;  // by wire name
  std::shared_ptr<ServerListeners> server_listeners_ = std::make_shared<ServerListeners>();
  std::once_flag subscribed_;  // to the s2s channel, at the first on()
  std::atomic<uint64_t> next_topic_listener_{1};
};

}  // namespace superline
