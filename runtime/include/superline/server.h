// The transport-independent server as the application sees it: hooks, rooms, topics, targeted
// sends, the cluster bus, presence. Knows no sockets: a transport (WebSocketServer) drives it
// through internal::TransportPort and gives each connection an Outbox.
// Thread-safety: every public method may be called from any thread once hooks are set; hooks are
// set before serving starts and are called from transport threads.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "superline/adapter.h"
#include "superline/conn.h"
#include "superline/contract.h"
#include "superline/listener.h"
#include "superline/options.h"
#include "superline/presence.h"
#include "superline/reply.h"
#include "superline/room.h"
#include "superline/stats.h"

namespace boost::asio {
class thread_pool;
}

namespace superline {

struct ServerHooks;
class ConnectionRegistry;
class ChannelRegistry;
class ClusterBus;
class Delivery;
class Dispatcher;
class Metrics;
class ServerRequests;
namespace internal {
class TransportPort;
}

// What authenticate() sees of an upgrade request.
struct Handshake {
  std::string path;
  absl::flat_hash_map<std::string, std::string> query;    // decoded; a repeated key: last wins
  absl::flat_hash_map<std::string, std::string> headers;  // names lower-cased
  std::string remote_address;

  // The query parameter `name` as text an application can show and compare: "" when absent;
  // INVALID_ARGUMENT when the value is not valid UTF-8 or holds a control character (CR, LF, NUL,
  // DEL, C1; "%FF%FE" or "a%0Ab" after decoding). An authenticator returns that status as it is and
  // the upgrade is answered 400, so no name is shown as something else than what was sent.
  absl::StatusOr<std::string_view> query_param(std::string_view name) const;
  // The value as the client sent it, percent-decoded, unchecked ("" if absent).
  std::string_view raw_query_param(std::string_view name) const;
  std::string_view header(std::string_view name) const;  // "" if absent
};

// What an authenticator grants a connection.
struct Admission {
  int role = kSharedRole;  // index into the contract's roles; generated code offers typed helpers
  std::any ctx;            // read back with conn.ctx<T>()
  std::string user_id;
  // The connection's env: a message of its role's env type (option (superline.env)), sent in the
  // first frame. Null, or one of another type (reported to on_error), sends {"t":"env","d":null}.
  std::shared_ptr<const google::protobuf::Message> env;
  // The connection's id; empty: a fresh random UUID. An id already in use on this node refuses
  // the new connection (closed with 1008), leaving the existing one untouched.
  std::string conn_id;
};

// Where an error reported to on_error happened.
struct ErrorInfo {
  std::string_view kind;  // "request", "event", "subscribe", "connection", "disconnect"
  std::string_view name;  // the method, topic or hook
  std::string_view conn_id;
};

class Server {
 public:
  using Dispatch = std::function<void(internal::Inbound&)>;
  using Authenticator = std::function<absl::StatusOr<Admission>(const Handshake&)>;
  using Listener = superline::Listener;

  // `dispatch` runs a decoded request or client event on its handler (generated code provides it).
  // `adapter` carries every fan-out: a MemoryAdapter for a single node (ContractServer makes one
  // when given none), a RedisAdapter for many.
  Server(const ContractInfo& contract, Dispatch dispatch, ServerOptions options, std::shared_ptr<Adapter> adapter);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Hooks. Without an authenticator every connection is admitted with the shared role only.
  void set_authenticator(Authenticator authenticator);
  void on_connection(std::function<void(Conn&)> hook);
  void on_disconnect(std::function<void(Conn&, uint16_t code)> hook);
  // Errors nobody else is told of: a handler that threw or failed unexpectedly (INTERNAL), a
  // listener that threw, a malformed message from another node. Without a hook they are logged to
  // stderr, throttled.
  void on_error(std::function<void(const absl::Status&, const ErrorInfo&)> hook);
  // Decides topic subscriptions; returning false answers FORBIDDEN.
  void set_subscribe_authorizer(std::function<bool(Conn&, std::string_view topic)> authorizer);

  // The handler pool's executor (ServerOptions::handler_threads, at least one thread): where
  // coroutine handlers resume, and work that must not hold a connection's thread can go.
  boost::asio::any_io_executor executor();

  const std::string& node_id() const { return node_id_; }
  const std::string& node_name() const { return options_.node_name; }
  const ServerOptions& options() const { return options_; }
  const ContractInfo& contract() const { return contract_; }

  Room room(std::string_view name) { return Room(*this, std::string(name)); }
  // Fans an encoded frame out to the subscribers of topic `topic` of role `role` (kSharedRole for
  // shared topics) on every node. PAYLOAD_TOO_LARGE, publishing nothing, if the frame is over
  // ServerOptions::max_outbound_message_bytes.
  absl::Status publish_topic(int role, std::string_view topic, SharedFrame frame);
  // Sends a node-to-node event to every other node (never this one).
  void emit_server(std::string_view event, const google::protobuf::Message& payload);
  // Listens for a node-to-node event from the other nodes. A listener that throws is reported to
  // on_error and never stops the others.
  ListenerHandle on_server(std::string_view event, Listener listener);
  // Cluster bus: listens to a shared topic's publishes from every node, this one included (called
  // once, in-process, at publish time). `ready` (optional) runs once the subscription is live.
  // The payload of a remote publish is parsed against the contract first; a listener that throws is
  // reported and isolated. Returns an id for unsubscribe_topic.
  uint64_t subscribe_topic(std::string_view topic, Listener listener,
                           std::function<void(absl::Status)> ready = nullptr);
  void unsubscribe_topic(uint64_t id);
  // Runs this node's listeners of a shared topic (the publishing node's local echo).
  void echo_topic(std::string_view topic, const google::protobuf::Message& payload);

  // Targeted sends, reaching a connection or all of a user's connections on whichever node they are:
  // an encoded frame (PAYLOAD_TOO_LARGE, sending nothing, past the outbound limit), or a close.
  // `event_role` names the role whose event the frame carries (empty: shared, or not an event):
  // the node that owns a connection outside that role never delivers it there, counts it
  // (dropped_outside_surface) and reports it to on_error.
  absl::Status send_to_conn(std::string_view conn_id, SharedFrame frame, std::string_view event_role = {});
  absl::Status send_to_user(std::string_view user_id, SharedFrame frame, std::string_view event_role = {});
  void close_conn(std::string_view conn_id, uint16_t code = kCloseNormal, std::string_view reason = {});
  // A server request to connection `conn_id` on whichever node it is (see Conn::request; the reply
  // in binary encoding). The node owning the connection routes the answer back on reply:<node>.
  PendingRequest request(std::string_view conn_id, std::string_view name, const google::protobuf::Message& payload,
                         std::function<void(absl::StatusOr<std::string>)> done, RequestOptions options = {});
  // Replaces the env of a connection, or of every connection of a user, wherever they are (null:
  // the env becomes null). The node owning each connection sets it where it is the connection's
  // role's env type and reports the others. FAILED_PRECONDITION, sending nothing, if no role of
  // the contract has `env`'s type.
  absl::Status set_conn_env(std::string_view conn_id, const google::protobuf::Message* env);
  absl::Status set_user_env(std::string_view user_id, const google::protobuf::Message* env);
  void close_user(std::string_view user_id, uint16_t code = kCloseNormal, std::string_view reason = {});

  // Cluster-wide presence, from the adapter's directory (FAILED_PRECONDITION if it keeps none,
  // DEADLINE_EXCEEDED past `timeout`). Blocks the calling thread until answered.
  absl::StatusOr<std::vector<NodePresence>> topology(
      std::chrono::milliseconds timeout = std::chrono::seconds(2));
  absl::StatusOr<std::size_t> cluster_count(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  absl::StatusOr<bool> is_online(std::string_view user_id,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(2));

  std::shared_ptr<Conn> find(std::string_view conn_id) const;
  std::size_t connection_count() const;
  // Frames skipped for slow consumers under SlowConsumerPolicy::kDrop, since start.
  std::uint64_t dropped_frames() const;
  // Targeted events not delivered to a connection whose role does not have them, since start.
  std::uint64_t dropped_outside_surface() const;
  std::vector<std::shared_ptr<Conn>> connections() const;

  // Where the server is in its life and what it has done: the figures of /metrics, /health and
  // /ready (the admin listener, ServerOptions::admin).
  ServerStats stats() const;

 private:
  friend class Room;
  friend class internal::TransportPort;

  // OK if `env` (null included) is some role's env type and meets its constraints.
  absl::Status check_env_type(const google::protobuf::Message* env) const;
  // A frame, or (without one) a close with `code` and `reason`, on a personal channel.
  void publish_personal(const std::string& channel, const SharedFrame& frame, std::string_view event_role = {},
                        uint16_t code = 0, std::string_view reason = {});
  // Fans a frame out on `channel` (checked against the outbound limit first).
  absl::Status publish(const std::string& channel, const SharedFrame& frame, std::string_view except_conn = {});

  const ContractInfo& contract_;
  ServerOptions options_;
  const std::string node_id_;
  const std::shared_ptr<Adapter> adapter_;
  std::atomic<uint64_t> dropped_frames_{0};
  std::atomic<ServingState> state_{ServingState::kStarting};  // set by the transport
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // The parts, each with one job; declared in the order they depend on each other. The destructor
  // takes the server requests (whose timers run on the handler pool) and then the dispatcher
  // (whose pool may still run handlers) down first.
  std::unique_ptr<ServerHooks> hooks_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ConnectionRegistry> conns_;
  std::unique_ptr<ChannelRegistry> channels_;
  std::unique_ptr<ClusterBus> bus_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::shared_ptr<ServerRequests> requests_;  // shared: PendingRequest and Conn hold it weakly
  std::unique_ptr<Delivery> delivery_;
};

}  // namespace superline
