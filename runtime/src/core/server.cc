// The transport-independent server, assembled from its parts. Every fan-out goes through the
// adapter (the memory adapter loops back), and a node delivers to its local members when a message
// arrives on a channel: one code path for local and remote recipients, no double send.
#include "superline/server.h"

#include <exception>

#include "channel_registry.h"
#include "channels.h"
#include "cluster_bus.h"
#include "connection_registry.h"
#include "delivery.h"
#include "dispatcher.h"
#include "envelope.h"
#include "process_stats.h"
#include "random_id.h"
#include "server_hooks.h"
#include "server_requests.h"
#include "superline/internal/log.h"
#include "superline/internal/metrics.h"
#include "superline/internal/text.h"
#include "superline/rendezvous.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline {
absl::StatusOr<std::string_view> Handshake::query_param(std::string_view name) const {
  const std::string_view value = raw_query_param(name);
  if (!is_plain_text(value)) {
    return absl::InvalidArgumentError(
        cat("query parameter '", clip(repair_utf8(name)), "' is not valid UTF-8 text without control characters"));
  }
  return value;
}

std::string_view Handshake::raw_query_param(std::string_view name) const {
  auto it = query.find(absl_view(name));
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view Handshake::header(std::string_view name) const {
  auto it = headers.find(absl_view(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

void ServerHooks::report(const absl::Status& status, const ErrorInfo& info) const {
  if (!on_error) {
    // Nobody asked to hear of it: the log does, at most a burst per period (a client can make a
    // handler throw on every request).
    static KindThrottle throttle;
    return log_throttled(throttle, log ? *log : default_log_sink(), LogLevel::kError,
                         cat(info.kind, " ", clip(info.name), ": ", std_view(status.ToString())),
                         {{"kind", std::string(info.kind)}, {"name", clip(info.name)}, {"conn", clip(info.conn_id)},
                          {"code", std::string(error_code(status))}});
  }
  try {
    on_error(status, info);
  } catch (...) {
    // An error hook that throws has nowhere left to report to.
  }
}

Server::Server(const ContractInfo& contract, Dispatch dispatch, ServerOptions options,
               std::shared_ptr<Adapter> adapter)
    : contract_(contract),
      options_(std::move(options)),
      node_id_(random_uuid()),
      adapter_(std::move(adapter)),
      hooks_(std::make_unique<ServerHooks>()),
      metrics_(std::make_unique<Metrics>(contract_)),
      conns_(std::make_unique<ConnectionRegistry>(contract_.roles.size())),
      channels_(std::make_unique<ChannelRegistry>(*adapter_)),
      bus_(std::make_unique<ClusterBus>(contract_, *adapter_, *channels_, node_id_, *hooks_)),
      dispatcher_(
          std::make_unique<Dispatcher>(contract_, options_, std::move(dispatch), *hooks_, *channels_, *metrics_)),
      requests_(std::make_shared<ServerRequests>(contract_, options_, node_id_, *adapter_, *conns_,
                                                 dispatcher_->executor())),
      delivery_(std::make_unique<Delivery>(contract_, options_, node_id_, *channels_, *bus_, *requests_, *hooks_,
                                           *metrics_)) {
  route_protobuf_log();
  if (options_.node_name.empty()) options_.node_name = node_id_.substr(0, 8);
  if (!options_.log) options_.log = text_log_sink();
  hooks_->log = &options_.log;
  adapter_->set_handler(
      [this](std::string_view channel, const Envelope& envelope) { delivery_->deliver(channel, envelope); });
  // Answers to this node's server requests, from the nodes that own the connections.
  adapter_->subscribe(channels::reply(node_id_), nullptr);
  // Visible in the cluster's presence from the start, not from the first heartbeat tick.
  if (Presence* presence = adapter_->presence()) presence->beat(node_id_, options_.node_name, options_.presence_ttl);
}

Server::~Server() {
  adapter_->set_handler(nullptr);
  adapter_->unsubscribe(channels::reply(node_id_));
  requests_->shutdown();  // pending ones fail DISCONNECTED; their timers go before the pool
  dispatcher_.reset();  // handlers and coroutines still running finish before what they use goes
}

boost::asio::any_io_executor Server::executor() { return dispatcher_->executor(); }

void Server::set_authenticator(Authenticator authenticator) { hooks_->authenticator = std::move(authenticator); }
void Server::on_connection(std::function<void(Conn&)> hook) { hooks_->on_connection = std::move(hook); }
void Server::on_disconnect(std::function<void(Conn&, uint16_t)> hook) { hooks_->on_disconnect = std::move(hook); }
void Server::on_error(std::function<void(const absl::Status&, const ErrorInfo&)> hook) {
  hooks_->on_error = std::move(hook);
}
void Server::set_subscribe_authorizer(std::function<bool(Conn&, std::string_view)> authorizer) {
  hooks_->authorize_subscribe = std::move(authorizer);
}

std::shared_ptr<Conn> Server::find(std::string_view conn_id) const { return conns_->find(conn_id); }
std::size_t Server::connection_count() const { return conns_->size(); }
std::vector<std::shared_ptr<Conn>> Server::connections() const { return conns_->snapshot(); }
std::uint64_t Server::dropped_frames() const { return dropped_frames_.load(std::memory_order_relaxed); }
std::uint64_t Server::dropped_outside_surface() const { return delivery_->dropped_outside_surface(); }

std::string_view serving_state_name(ServingState state) {
  switch (state) {
    case ServingState::kStarting:
      return "starting";
    case ServingState::kServing:
      return "serving";
    case ServingState::kDraining:
      return "draining";
    case ServingState::kStopped:
      return "stopped";
  }
  return "?";
}

ServerStats Server::stats() const {
  ServerStats stats;
  stats.state = state_.load();
  stats.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const std::vector<std::shared_ptr<Conn>> conns = conns_->snapshot();
  stats.connections = conns.size();
  const std::vector<std::size_t> by_role = conns_->count_by_role();
  for (std::size_t r = 0; r < by_role.size(); ++r) stats.connections_by_role.emplace_back(contract_.roles[r], by_role[r]);
  for (const auto& conn : conns) stats.queued_bytes += conn->queued_bytes();
  metrics_->fill(stats);
  stats.slow_consumer_drops = dropped_frames();
  stats.dropped_outside_surface = dropped_outside_surface();
  const ChannelRegistry::Counts channels = channels_->counts();
  stats.rooms = channels.rooms;
  stats.topics = channels.topics;
  stats.channels = channels.total;
  const Adapter::Stats adapter = adapter_->stats();
  stats.adapter_connected = adapter.connected;
  stats.adapter_dropped_publishes = adapter.dropped_publishes;
  stats.adapter_reconnects = adapter.reconnects;
  stats.presence_sweeps = adapter.presence_sweeps;
  const ProcessStats process = read_process_stats();
  stats.resident_memory_bytes = process.resident_memory_bytes;
  stats.open_fds = process.open_fds;
  stats.cpu_seconds = process.cpu_seconds;
  stats.start_time_seconds = process.start_time_seconds;
  if (stats.state != ServingState::kServing) {
    stats.not_ready = std::string(serving_state_name(stats.state));
  } else if (!stats.adapter_connected) {
    stats.not_ready = "adapter degraded";
  }
  stats.ready = stats.not_ready.empty();
  return stats;
}

namespace {

// Runs an asynchronous presence query and waits for its answer.
template <class T, class Query>
absl::StatusOr<T> ask(Presence* presence, std::chrono::milliseconds timeout, Query query) {
  if (presence == nullptr) return absl::FailedPreconditionError("this adapter keeps no presence directory");
  auto answer = std::make_shared<Rendezvous<absl::StatusOr<T>>>();
  query(*presence, [answer](absl::StatusOr<T> r) { answer->set(std::move(r)); });
  std::optional<absl::StatusOr<T>> result = answer->wait_for(timeout);
  if (!result) return absl::DeadlineExceededError("presence query timed out");
  return *std::move(result);
}

}  // namespace

absl::StatusOr<std::vector<NodePresence>> Server::topology(std::chrono::milliseconds timeout) {
  return ask<std::vector<NodePresence>>(adapter_->presence(), timeout,
                                        [](Presence& p, auto done) { p.topology(std::move(done)); });
}

absl::StatusOr<std::size_t> Server::cluster_count(std::chrono::milliseconds timeout) {
  auto nodes = topology(timeout);
  if (!nodes.ok()) return nodes.status();
  std::size_t total = 0;
  for (const auto& node : *nodes) total += node.connections;
  return total;
}

absl::StatusOr<bool> Server::is_online(std::string_view user_id, std::chrono::milliseconds timeout) {
  const std::string user(user_id);
  return ask<bool>(adapter_->presence(), timeout,
                   [&user](Presence& p, auto done) { p.is_online(user, std::move(done)); });
}

// ---- Fan-out ----

absl::Status Server::publish(const std::string& channel, const SharedFrame& frame, std::string_view except_conn) {
  // Checked once here, where the publisher can be told, rather than by each recipient's queue.
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  metrics_->fanout();
  adapter_->publish(channel, envelope::frame(node_id_, *frame, except_conn));
  return absl::OkStatus();
}

absl::Status Server::publish_topic(int role, std::string_view topic, SharedFrame frame) {
  return publish(channels::topic(contract_.roles[static_cast<size_t>(role)], topic), frame);
}

// ---- Targeted sends ----

void Server::publish_personal(const std::string& channel, const SharedFrame& frame, std::string_view event_role,
                              uint16_t code, std::string_view reason) {
  metrics_->fanout();
  adapter_->publish(channel, frame ? envelope::frame(node_id_, *frame, {}, event_role)
                                   : envelope::close(node_id_, code, reason));
}

absl::Status Server::send_to_conn(std::string_view conn_id, SharedFrame frame, std::string_view event_role) {
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  if (auto conn = find(conn_id)) {  // local: no adapter trip
    if (!delivery_->in_surface(*conn, event_role, node_id_)) {
      return absl::FailedPreconditionError(cat("connection ", clip(conn_id), " of role '", conn->role_name(),
                                               "' does not have role '", clip(event_role), "''s events"));
    }
    metrics_->fanout();
    metrics_->delivered(1);
    conn->send(std::move(frame));
  } else {
    publish_personal(channels::conn(conn_id), frame, event_role);
  }
  return absl::OkStatus();
}

absl::Status Server::send_to_user(std::string_view user_id, SharedFrame frame, std::string_view event_role) {
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  publish_personal(channels::user(user_id), frame, event_role);  // a user may be on many nodes
  return absl::OkStatus();
}

void Server::close_conn(std::string_view conn_id, uint16_t code, std::string_view reason) {
  if (auto conn = find(conn_id)) return conn->close(code, reason);
  publish_personal(channels::conn(conn_id), nullptr, {}, code, reason);
}

void Server::close_user(std::string_view user_id, uint16_t code, std::string_view reason) {
  publish_personal(channels::user(user_id), nullptr, {}, code, reason);
}

PendingRequest Server::request(std::string_view conn_id, std::string_view name,
                               const google::protobuf::Message& payload,
                               std::function<void(absl::StatusOr<std::string>)> done, RequestOptions options) {
  return requests_->request(conn_id, name, payload, std::move(done), options);
}

absl::Status Server::check_env_type(const google::protobuf::Message* env) const {
  if (env == nullptr) return absl::OkStatus();
  for (const google::protobuf::Message* type : contract_.envs) {
    if (type != nullptr && type->GetDescriptor() == env->GetDescriptor()) {
      if (std::vector<ValidationIssue> issues = check_constraints(*env); !issues.empty())
        return validation_error(std::move(issues));
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(cat(env->GetDescriptor()->full_name(), " is no role's env in contract ",
                                           contract_.name));
}

absl::Status Server::set_conn_env(std::string_view conn_id, const google::protobuf::Message* env) {
  if (absl::Status ok = check_env_type(env); !ok.ok()) return ok;
  if (auto conn = find(conn_id)) {  // local: no adapter trip
    if (env == nullptr) {
      conn->replace_env(nullptr);
      return absl::OkStatus();
    }
    return conn->set_env(*env);
  }
  metrics_->fanout();
  adapter_->publish(channels::conn(conn_id), envelope::env(node_id_, env));
  return absl::OkStatus();
}

absl::Status Server::set_user_env(std::string_view user_id, const google::protobuf::Message* env) {
  if (absl::Status ok = check_env_type(env); !ok.ok()) return ok;
  metrics_->fanout();
  adapter_->publish(channels::user(user_id), envelope::env(node_id_, env));
  return absl::OkStatus();
}

// ---- Cluster bus ----

void Server::emit_server(std::string_view event, const google::protobuf::Message& payload) {
  metrics_->fanout();
  bus_->emit(event, payload);
}

ListenerHandle Server::on_server(std::string_view event, Listener listener) {
  return bus_->on(event, std::move(listener));
}

uint64_t Server::subscribe_topic(std::string_view topic, Listener listener, std::function<void(absl::Status)> ready) {
  return bus_->subscribe_topic(topic, std::move(listener), std::move(ready));
}

void Server::unsubscribe_topic(uint64_t id) { bus_->unsubscribe_topic(id); }

void Server::echo_topic(std::string_view topic, const google::protobuf::Message& payload) {
  bus_->echo_topic(topic, payload);
}

}  // namespace superline
