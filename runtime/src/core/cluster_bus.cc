#include "cluster_bus.h"

#include <exception>

#include "channels.h"
#include "superline/validation.h"
#include "envelope.h"
#include "superline/channel.pb.h"
#include "superline/internal/text.h"
#include "superline/internal/wire.h"

namespace superline {

ClusterBus::ClusterBus(const ContractInfo& contract, Adapter& adapter, ChannelRegistry& channels,
                       std::string node_id, const ServerHooks& hooks)
    : contract_(contract), adapter_(adapter), channels_(channels), node_id_(std::move(node_id)), hooks_(hooks) {
  for (const MethodInfo& m : contract_.methods) {
    if (m.kind == MethodKind::kServerEvent) server_events_[absl_view(m.name)] = &m;
  }
}

void ClusterBus::emit(std::string_view event, const google::protobuf::Message& payload) {
  adapter_.publish(std::string(channels::kServer), envelope::server_event(node_id_, event, payload));
}

ListenerHandle ClusterBus::on(std::string_view event, Listener listener) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(server_listeners_->mu);
    id = server_listeners_->next_id++;
    server_listeners_->by_event[absl_view(event)][id] = std::move(listener);
  }
  std::call_once(subscribed_, [this] { adapter_.subscribe(std::string(channels::kServer), nullptr); });
  std::weak_ptr<ServerListeners> weak = server_listeners_;
  return ListenerHandle(weak, [weak, event = std::string(event)](uint64_t id) {
    if (auto listeners = weak.lock()) {
      std::lock_guard<std::mutex> lock(listeners->mu);
      if (auto it = listeners->by_event.find(event); it != listeners->by_event.end()) it->second.erase(id);
    }
  }, id);
}

void ClusterBus::deliver_server_event(const channel::ChannelMessage& message) {
  if (message.origin() == node_id_) return;  // sender excluded
  const std::string& name = message.server_event();
  auto method = server_events_.find(name);
  if (method == server_events_.end()) {
    return hooks_.report(absl::NotFoundError(cat("unknown server event '", clip(name), "' from node ",
                                                 clip(message.origin()))),
                         {"event", name, {}});
  }
  std::unique_ptr<google::protobuf::Message> payload(method->second->payload->New());
  if (!payload->ParseFromString(message.payload())) {
    return hooks_.report(absl::DataLossError(cat("undecodable '", name, "' payload from node ", clip(message.origin()))),
                         {"event", name, {}});
  }
  // A node of another contract version may send what this one's constraints refuse: the handlers
  // never see it, the application hears of it.
  if (std::vector<ValidationIssue> issues = check_constraints(*payload); !issues.empty()) {
    absl::Status refused = validation_error(std::move(issues));
    return hooks_.report(absl::InvalidArgumentError(cat("'", name, "' payload from node ", clip(message.origin()),
                                                        " fails the contract: ", std_view(refused.message()))),
                         {"event", name, {}});
  }
  std::vector<Listener> listeners;
  {
    std::lock_guard<std::mutex> lock(server_listeners_->mu);
    if (auto it = server_listeners_->by_event.find(name); it != server_listeners_->by_event.end()) {
      for (const auto& [id, listener] : it->second) listeners.push_back(listener);
    }
  }
  notify(listeners, *payload, message.origin(), name);
}

uint64_t ClusterBus::subscribe_topic(std::string_view topic, Listener listener,
                                     std::function<void(absl::Status)> ready) {
  const uint64_t id = next_topic_listener_.fetch_add(1);
  channels_.add_listener(channels::topic(contract_.roles[kSharedRole], topic), id, std::move(listener),
                         std::move(ready));
  return id;
}

void ClusterBus::unsubscribe_topic(uint64_t id) { channels_.remove_listener(id); }

void ClusterBus::echo_topic(std::string_view topic, const google::protobuf::Message& payload) {
  const std::vector<Listener> listeners = channels_.listeners(channels::topic(contract_.roles[kSharedRole], topic));
  if (!listeners.empty()) notify(listeners, payload, node_id_, topic);
}

void ClusterBus::deliver_topic(std::string_view topic, const channel::ChannelMessage& message,
                               const std::vector<Listener>& listeners) {
  const MethodInfo* method = nullptr;
  for (const MethodInfo& m : contract_.methods) {
    if (m.kind == MethodKind::kTopic && m.role == kSharedRole && m.name == topic) method = &m;
  }
  const Wire wire = message.binary().empty() ? Wire::kJson : Wire::kProtobuf;  // binary: no JSON parse
  absl::StatusOr<WireFrame> frame = parse_frame(wire, wire == Wire::kJson ? message.json() : message.binary());
  std::unique_ptr<google::protobuf::Message> parsed(method ? method->payload->New() : nullptr);
  if (parsed && frame.ok() && decode_payload(wire, frame->d, *parsed).ok()) {
    return notify(listeners, *parsed, message.origin(), topic);
  }
  hooks_.report(absl::DataLossError(cat("malformed publish on ", channels::topic(contract_.roles[kSharedRole], topic),
                                         " from node ", clip(message.origin()))),
                {"event", topic, {}});
}

void ClusterBus::notify(const std::vector<Listener>& listeners, const google::protobuf::Message& payload,
                        std::string_view from, std::string_view name) const {
  for (const auto& listener : listeners) {
    try {
      listener(payload, from);
    } catch (const std::exception& e) {
      hooks_.report(absl::InternalError(e.what()), {"event", name, {}});
    } catch (...) {
      hooks_.report(absl::InternalError("listener threw a non-exception"), {"event", name, {}});
    }
  }
}

}  // namespace superline
