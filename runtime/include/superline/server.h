// The transport-independent server: connections, dispatch of client frames to the contract's
// handlers, rooms, topics, heartbeat, and fan-out over the Adapter. Knows no sockets: a transport
// (WebSocketServer) feeds it handshakes and frames, and gives each connection an Outbox.
// Thread-safety: every public method may be called from any thread once hooks are set; hooks are
// set before serving starts and are called from transport threads.
#pragma once

#include <any>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "superline/adapter.h"
#include "superline/conn.h"
#include "superline/contract.h"
#include "superline/options.h"
#include "superline/presence.h"
#include "superline/reply.h"
#include "superline/room.h"

namespace boost::asio {
class thread_pool;
}

namespace superline {

namespace channel {
class ChannelMessage;
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

  // `dispatch` runs a decoded request or client event on its handler (generated code provides it).
  // Without an adapter the server is a single node on its own MemoryBus.
  Server(const ContractInfo& contract, Dispatch dispatch, ServerOptions options = {},
         std::shared_ptr<Adapter> adapter = nullptr);
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
  // Fans an encoded frame out to the members of an adapter channel on every node. PAYLOAD_TOO_LARGE,
  // publishing nothing, if the frame is over ServerOptions::max_outbound_message_bytes.
  absl::Status publish(const std::string& channel, Frame frame, std::string_view except_conn = {});
  // Sends a node-to-node event to every other node (never this one).
  void emit_server(std::string_view event, const google::protobuf::Message& payload);
  // A server-side listener: the payload, parsed against the contract, and the sending node's id.
  // A listener that throws is reported to on_error and never stops the others.
  using Listener = std::function<void(const google::protobuf::Message& payload, std::string_view from)>;

  // Listens for a node-to-node event from the other nodes.
  void on_server(std::string_view event, Listener listener);
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
  absl::Status send_to_conn(std::string_view conn_id, Frame frame, std::string_view event_role = {});
  absl::Status send_to_user(std::string_view user_id, Frame frame, std::string_view event_role = {});
  void close_conn(std::string_view conn_id, uint16_t code = kCloseNormal, std::string_view reason = {});
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

  // ---- Transport side ----
  absl::StatusOr<Admission> authenticate(const Handshake& handshake) const;
  // Registers an admitted connection and sends it the initial env frame. The connection holds the
  // outbox weakly: the transport keeps it alive for as long as the socket is. Null when the
  // admission's conn_id is already in use: the transport then closes the socket with 1008.
  std::shared_ptr<Conn> open(Admission admission, std::shared_ptr<Outbox> outbox, Wire wire = Wire::kJson);
  // One inbound WebSocket message, in the connection's wire (text or binary frames alike).
  void receive(const std::shared_ptr<Conn>& conn, std::string_view data);
  // The connection is gone: leave every room and topic, fire on_disconnect. Idempotent.
  void closed(const std::shared_ptr<Conn>& conn, uint16_t code);
  // One heartbeat tick: ping every connection; drop those past max_missed_pongs.
  void heartbeat();
  // Closes every connection with 1001 (going away).
  void shutdown();
  // Drops every connection without a close handshake.
  void terminate_all();
  // A transport skipped a frame for a slow consumer (SlowConsumerPolicy::kDrop).
  void count_dropped_frame();

 private:
  friend class Room;
  friend class internal::PendingReply;
  struct Channel;

  // Resolves a request or client event in the connection's surface and decodes its input
  // (NOT_FOUND, VALIDATION).
  absl::StatusOr<internal::Inbound> decode_inbound(const std::shared_ptr<Conn>& conn, MethodKind kind,
                                                   std::string_view name, std::string_view data) const;
  void handle_request(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view name,
                      std::string_view data);
  void handle_client_event(const std::shared_ptr<Conn>& conn, std::string_view name, std::string_view data);
  // Runs a decoded request or client event on its handler: here, or on the pool.
  void run_handler(internal::Inbound inbound, std::string_view name);
  void invoke(internal::Inbound& inbound, std::string_view name);
  // A handler that could not run or threw: the request is answered, the client event reported.
  void handler_failed(internal::Inbound& inbound, std::string_view name, const absl::Status& status);
  void handle_subscribe(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view topic);
  void handle_unsubscribe(const std::shared_ptr<Conn>& conn, std::string_view topic);
  const MethodInfo* resolve(int role, std::string_view name) const;
  std::string topic_channel(int role, std::string_view topic) const;  // "" if unknown

  // Channel membership; the adapter subscription follows local interest.
  void join(const std::shared_ptr<Conn>& conn, const std::string& channel,
            std::function<void(absl::Status)> live);
  // Adds local interest in `channel` (a member, or a listener when conn is null).
  void add_interest(const std::string& channel, const std::shared_ptr<Conn>& conn, uint64_t listener_id,
                    Listener listener, std::function<void(absl::Status)> live);
  void drop_interest_if_unused(const std::string& channel);
  // A frame, or (without one) a close with `code` and `reason`, on a personal channel.
  void publish_personal(const std::string& channel, Frame frame, std::string_view event_role = {},
                        uint16_t code = 0, std::string_view reason = {});
  // Whether `conn` may receive an event of `event_role`; if not, counts and reports it.
  bool in_surface(const Conn& conn, std::string_view event_role, std::string_view from);
  // Runs listeners isolated from each other and from this server.
  void notify(const std::vector<Listener>& listeners, const google::protobuf::Message& payload,
              std::string_view from, std::string_view name) const;
  void leave(const Conn& conn, const std::string& channel);
  std::size_t local_members(const std::string& channel) const;
  std::vector<std::string> local_member_ids(const std::string& channel) const;
  void on_adapter_message(std::string_view channel, const Payload& payload);
  void on_server_event(const channel::ChannelMessage& message);

  void report(const absl::Status& status, const ErrorInfo& info) const;
  void send_error(Conn& conn, std::string_view id, const absl::Status& status);

  const ContractInfo& contract_;
  const Dispatch dispatch_;
  ServerOptions options_;
  const std::string node_id_;
  std::shared_ptr<Adapter> adapter_;
  // Per role: wire name -> method in that role's effective surface (shared + role).
  std::vector<absl::flat_hash_map<std::string, const MethodInfo*>> surfaces_;
  std::atomic<uint64_t> next_listener_id_{1};
  std::atomic<uint64_t> dropped_frames_{0};
  std::atomic<uint64_t> dropped_outside_surface_{0};
  std::unique_ptr<boost::asio::thread_pool> pool_;  // handlers when handler_threads > 0; coroutines
  std::atomic<std::size_t> queued_handlers_{0};

  Authenticator authenticator_;
  std::function<void(Conn&)> on_connection_;
  std::function<void(Conn&, uint16_t)> on_disconnect_;
  std::function<void(const absl::Status&, const ErrorInfo&)> on_error_;
  std::function<bool(Conn&, std::string_view)> authorize_subscribe_;

  mutable std::mutex listeners_mu_;
  absl::flat_hash_map<std::string, std::vector<Listener>> server_listeners_ ABSL_GUARDED_BY(listeners_mu_);

  mutable std::mutex conns_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Conn>> conns_ ABSL_GUARDED_BY(conns_mu_);

  std::recursive_mutex interest_mu_;  // orders adapter subscribe/unsubscribe calls
  mutable std::mutex channels_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Channel>> channels_ ABSL_GUARDED_BY(channels_mu_);
};

}  // namespace superline
