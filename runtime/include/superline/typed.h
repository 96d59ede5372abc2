// The typed server facade the generated <Contract>Server derives from. Every fan-out takes a tag of the
// generated contract (Chat::Shared::kMessage) and its message, checked at compile time, and returns
// PAYLOAD_TOO_LARGE, sending nothing, when the encoded frame is over the outbound limit:
//   room(name).broadcast    shared events only (a room mixes roles)
//   publish                 shared topics only
//   for_role(R).publish     role R's topics only
//   emit_server             server-to-server events only
// Thread-safety: every method may be called from any thread once serving; hooks are set before.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "superline/contract.h"
#include "superline/frame.h"
#include "superline/server.h"

namespace superline {

namespace internal {

template <class E, class P>
constexpr void check_payload() {
  static_assert(std::is_same_v<P, typename E::Payload>,
                "the payload type does not match the message type the contract declares for this tag");
}

}  // namespace internal

template <class Contract>
class TypedRoom {
 public:
  explicit TypedRoom(Room room) : room_(std::move(room)) {}

  const std::string& name() const { return room_.name(); }
  void add(Conn& conn, std::function<void(absl::Status)> live = nullptr) { room_.add(conn, std::move(live)); }
  void remove(Conn& conn) { room_.remove(conn); }
  bool contains(const Conn& conn) const { return room_.contains(conn); }
  std::size_t size() const { return room_.size(); }
  std::vector<std::string> members() const { return room_.members(); }

  // Sends a shared event to every member on every node; encoded once.
  template <class E, class P>
  absl::Status broadcast(E event, const P& payload) const {
    return broadcast_except(std::string_view(), event, payload);
  }
  // Same, skipping one connection (typically the sender).
  template <class E, class P>
  absl::Status broadcast_except(const Conn& except, E event, const P& payload) const {
    return broadcast_except(std::string_view(except.id()), event, payload);
  }

 private:
  template <class E, class P>
  absl::Status broadcast_except(std::string_view except, E, const P& payload) const {
    static_assert(E::kKind == MethodKind::kEvent,
                  "room broadcast takes a server event (use publish for topics)");
    static_assert(E::kRoleIndex == kSharedRole,
                  "room broadcast takes shared events only: a room mixes roles, so a role-only event "
                  "could reach a connection whose role does not have it");
    internal::check_payload<E, P>();
    return room_.broadcast_frame(encode_event(E::kName, payload), except);
  }

  Room room_;
};

// Publishing to the topics of one role, chosen at compile time: for_role(Chat::kUser).
template <class Contract, class R>
class RoleScope {
 public:
  explicit RoleScope(Server& server) : server_(server) {}

  template <class E, class P>
  absl::Status publish(E, const P& payload) {
    static_assert(E::kKind == MethodKind::kTopic, "for_role(R).publish takes a topic");
    static_assert(E::kRoleIndex == R::kRoleIndex, "for_role(R).publish takes role R's own topics only");
    internal::check_payload<E, P>();
    return server_.publish_topic(R::kRoleIndex, E::kName, encode_publish(E::kName, payload, server_.node_id()));
  }

 private:
  Server& server_;
};

template <class Contract>
class ContractServer {
 public:
  Server& core() { return core_; }
  const std::string& node_id() const { return core_.node_id(); }
  // See Server::executor(): where coroutine handlers (superline/coro.h) resume.
  boost::asio::any_io_executor executor() { return core_.executor(); }

  TypedRoom<Contract> room(std::string_view name) { return TypedRoom<Contract>(core_.room(name)); }

  // Publishes a shared topic to its subscribers on every node.
  template <class E, class P>
  absl::Status publish(E, const P& payload) {
    static_assert(E::kKind == MethodKind::kTopic, "publish takes a topic");
    static_assert(E::kRoleIndex == kSharedRole,
                  "publish takes shared topics only; publish a role's topic with for_role(R).publish");
    internal::check_payload<E, P>();
    SharedFrame frame = encode_publish(E::kName, payload, core_.node_id());
    if (absl::Status fits = check_size(*frame, core_.options().max_outbound_message_bytes); !fits.ok())
      return fits;
    core_.echo_topic(E::kName, payload);  // this node's bus listeners, in-process, exactly once
    return core_.publish_topic(kSharedRole, E::kName, std::move(frame));
  }

  // Cluster bus: handler(const Payload&, std::string_view from_node) runs for every publish of the
  // shared topic on any node, this one included. `ready` runs once the subscription is live.
  template <class E, class F>
  uint64_t subscribe(E, F handler, std::function<void(absl::Status)> ready = nullptr) {
    static_assert(E::kKind == MethodKind::kTopic, "subscribe takes a topic");
    static_assert(E::kRoleIndex == kSharedRole, "the cluster bus carries shared topics only");
    return core_.subscribe_topic(
        E::kName,
        [handler = std::move(handler)](const google::protobuf::Message& payload, std::string_view from) {
          handler(static_cast<const typename E::Payload&>(payload), from);
        },
        std::move(ready));
  }
  void unsubscribe(uint64_t subscription) { core_.unsubscribe_topic(subscription); }

  // A connection, or all of a user's connections, on whichever node they are.
  class Target {
   public:
    template <class E, class P>
    absl::Status emit(E, const P& payload) {
      static_assert(E::kKind == MethodKind::kEvent, "emit takes a server event of the contract");
      internal::check_payload<E, P>();
      SharedFrame frame = encode_event(E::kName, payload);
      // Its role goes with it: the node owning each connection delivers it only within the
      // connection's surface (a user may have connections of several roles).
      const std::string_view role = E::kRoleIndex == kSharedRole ? std::string_view() : Contract::info().roles[E::kRoleIndex];
      return user_ ? core_.send_to_user(id_, std::move(frame), role)
                   : core_.send_to_conn(id_, std::move(frame), role);
    }
    // Asks the connection a server request (see Conn::request), wherever it is; a server request
    // goes to one connection: to_user(id).request fails FAILED_PRECONDITION.
    template <class E, class P, class F>
    PendingRequest request(E, const P& payload, F done, RequestOptions options = {}) {
      static_assert(E::kKind == MethodKind::kServerRequest, "request takes a server request of the contract");
      internal::check_payload<E, P>();
      auto parsed = internal::parse_reply<typename E::Reply>(std::move(done));
      if (user_) {
        parsed(absl::FailedPreconditionError("a server request goes to one connection: use to_conn(id).request"));
        return {};
      }
      return core_.request(id_, E::kName, payload, std::move(parsed), options);
    }
    // Replaces the env of the connection(s) (see Server::set_conn_env); null: the env becomes null.
    absl::Status set_env(const google::protobuf::Message& env) {
      return user_ ? core_.set_user_env(id_, &env) : core_.set_conn_env(id_, &env);
    }
    absl::Status clear_env() { return user_ ? core_.set_user_env(id_, nullptr) : core_.set_conn_env(id_, nullptr); }
    // Closes the connection(s) with 1000: superline's clients reconnect, as super-line's do.
    void close() { user_ ? core_.close_user(id_) : core_.close_conn(id_); }
    // Closes them with kCloseDoNotReconnect (4000) and `reason`: superline's clients stay away.
    void kick(std::string_view reason = {}) {
      user_ ? core_.close_user(id_, kCloseDoNotReconnect, reason) : core_.close_conn(id_, kCloseDoNotReconnect, reason);
    }

   private:
    friend class ContractServer;
    Target(Server& core, std::string id, bool user) : core_(core), id_(std::move(id)), user_(user) {}
    Server& core_;
    std::string id_;
    bool user_;
  };
  Target to_conn(std::string_view conn_id) { return Target(core_, std::string(conn_id), false); }
  Target to_user(std::string_view user_id) { return Target(core_, std::string(user_id), true); }

  // Sends a node-to-node event of the contract to every other node.
  template <class E, class P>
  void emit_server(E, const P& payload) {
    static_assert(E::kKind == MethodKind::kServerEvent,
                  "emit_server takes a server-to-server event of the contract");
    internal::check_payload<E, P>();
    core_.emit_server(E::kName, payload);
  }
  // Listens for a node-to-node event: handler(const Payload&, std::string_view from_node), beside
  // the generated Handlers' own; the handle takes it back.
  template <class E, class F>
  ListenerHandle on_server(E, F handler) {
    static_assert(E::kKind == MethodKind::kServerEvent,
                  "on_server takes a server-to-server event of the contract");
    return core_.on_server(E::kName, [handler = std::move(handler)](const google::protobuf::Message& payload,
                                                             std::string_view from) {
      handler(static_cast<const typename E::Payload&>(payload), from);
    });
  }

  template <class R>
  RoleScope<Contract, R> for_role(R) {
    return RoleScope<Contract, R>(core_);
  }

  void authenticate(Server::Authenticator authenticator) {
    core_.set_authenticator(std::move(authenticator));
  }
  void on_connection(std::function<void(Conn&)> hook) { core_.on_connection(std::move(hook)); }
  void on_disconnect(std::function<void(Conn&, uint16_t)> hook) { core_.on_disconnect(std::move(hook)); }
  void on_error(std::function<void(const absl::Status&, const ErrorInfo&)> hook) {
    core_.on_error(std::move(hook));
  }
  void authorize_subscribe(std::function<bool(Conn&, std::string_view)> authorizer) {
    core_.set_subscribe_authorizer(std::move(authorizer));
  }

 protected:
  ContractServer(Server::Dispatch dispatch, ServerOptions options, std::shared_ptr<Adapter> adapter)
      : core_(Contract::info(), std::move(dispatch), std::move(options),
              adapter ? std::move(adapter) : std::make_shared<MemoryAdapter>()) {}

 private:
  Server core_;
};

}  // namespace superline
