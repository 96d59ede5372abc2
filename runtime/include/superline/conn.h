// One client connection as the application sees it: id, role, the context its authenticator returned,
// and typed emit. A transport creates it through TransportPort::open and drops it through closed().
// Thread-safety: every method may be called from any thread.
#pragma once

#include <google/protobuf/message.h>

#include <any>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "superline/close_codes.h"
#include "superline/contract.h"
#include "superline/frame.h"
#include "superline/log.h"
#include "superline/status.h"

namespace superline {

namespace internal {
class TransportPort;
}
class ServerRequests;

// How long a server request waits for the client's answer before it fails TIMEOUT.
struct RequestOptions {
  std::chrono::milliseconds timeout{30'000};
};

// A server request in flight. abort() fails it at once with BAD_REQUEST "Aborted" (the client's
// answer, if it comes, is dropped); a no-op once it has settled. Letting it go does not abort.
class PendingRequest {
 public:
  PendingRequest() = default;
  void abort() const;

 private:
  friend class ServerRequests;
  PendingRequest(std::weak_ptr<ServerRequests> owner, uint64_t id) : owner_(std::move(owner)), id_(id) {}
  std::weak_ptr<ServerRequests> owner_;
  uint64_t id_ = 0;
};

namespace internal {
// Calls done(absl::StatusOr<Reply>) with the reply parsed from its binary encoding.
template <class Reply, class F>
std::function<void(absl::StatusOr<std::string>)> parse_reply(F done) {
  return [done = std::move(done)](absl::StatusOr<std::string> raw) mutable {
    if (!raw.ok()) return done(absl::StatusOr<Reply>(std::move(raw).status()));
    Reply reply;
    if (!reply.ParseFromString(*raw)) return done(absl::StatusOr<Reply>(absl::InternalError("undecodable reply")));
    done(absl::StatusOr<Reply>(std::move(reply)));
  };
}
}  // namespace internal

// Where a connection's outbound frames go: a WebSocket session, or a test double.
// Thread-safety: both methods may be called from any thread and must not block.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void send(SharedFrame frame) = 0;
  virtual void close(uint16_t code, std::string_view reason) = 0;
  // Drops the connection without a close handshake (a peer that stopped answering pings).
  virtual void terminate() = 0;
  // Memory its write queue holds now (for Server::stats; approximate while it changes).
  virtual std::size_t queued_bytes() const { return 0; }
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  // Frames over `max_outbound_bytes` in this connection's wire are never sent to it.
  Conn(std::string id, int role, std::string_view role_name, std::any ctx, std::string user_id,
       std::weak_ptr<Outbox> outbox, Wire wire = Wire::kJson, std::size_t max_outbound_bytes = SIZE_MAX,
       const LogSink* log = nullptr);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  const std::string& id() const { return id_; }
  // Index of the role in the contract (0 is "shared"), and its wire name.
  int role() const { return role_; }
  std::string_view role_name() const { return role_name_; }
  // The user this connection belongs to, as the authenticator said; empty if none.
  const std::string& user_id() const { return user_id_; }
  // The context the authenticator returned, if it is a T; null otherwise.
  template <class T>
  const T* ctx() const {
    return std::any_cast<T>(&ctx_);
  }
  std::chrono::system_clock::time_point connected_at() const { return connected_at_; }
  // The subprotocol chosen at the upgrade: what the frames it is sent must be encoded in.
  Wire wire() const { return wire_; }

  // Sends a server event of the contract to this connection. Compile-time checked: E is an event
  // tag of the generated contract (Chat::Shared::kMessage) and P its message. An event of another
  // role fails with FAILED_PRECONDITION, one too large to send with PAYLOAD_TOO_LARGE; either sends
  // nothing.
  template <class E, class P>
  absl::Status emit(E event, const P& payload);

  // Asks the client a server request of the contract (E a server-request tag: Chat::User::kConfirm)
  // and calls done(absl::StatusOr<E::Reply>) once: with the client's reply, checked against the
  // contract (VALIDATION with the issues if it fails), or its serr (the code and message it sent),
  // TIMEOUT past options.timeout, DISCONNECTED if the connection goes first, BAD_REQUEST "Aborted"
  // after abort(), BUSY past ServerOptions' limits, FAILED_PRECONDITION outside the role's surface.
  // `done` runs on a transport, adapter or handler-pool thread and must not block.
  template <class E, class P, class F>
    requires requires { E::kKind; }
  PendingRequest request(E, const P& payload, F done, RequestOptions options = {}) {
    static_assert(E::kKind == MethodKind::kServerRequest, "conn.request takes a server request of the contract");
    static_assert(std::is_same_v<P, typename E::Payload>,
                  "conn.request: the payload type does not match the server request's message type");
    return request(E::kName, payload, internal::parse_reply<typename E::Reply>(std::move(done)), options);
  }
  // The same by wire name; the reply in protobuf's binary encoding.
  PendingRequest request(std::string_view name, const google::protobuf::Message& payload,
                         std::function<void(absl::StatusOr<std::string>)> done, RequestOptions options = {});

  // The connection's env (option (superline.env) of its role): what the authenticator admitted it
  // with or set_env set last; null when it has none, or it is not a T.
  template <class T>
  std::shared_ptr<const T> env() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::dynamic_pointer_cast<const T>(env_);
  }
  // Replaces the env and sends the client an env frame. FAILED_PRECONDITION if `env` is not the
  // role's env type (a role without env has none), VALIDATION if it fails its constraints,
  // PAYLOAD_TOO_LARGE past the outbound limit; each changes nothing.
  absl::Status set_env(const google::protobuf::Message& env);
  // The role's env message (a default instance), or null.
  const google::protobuf::Message* env_type() const { return env_type_; }

  // Sends an already encoded frame. A no-op once the transport has let the connection go; a frame
  // over the connection's outbound limit is dropped and logged (callers that can answer someone
  // check first, with check_size).
  void send(SharedFrame frame) {
    if (frame->in(wire_).size() > max_outbound_bytes_) return refuse_oversize(*frame);
    if (auto outbox = outbox_.lock()) outbox->send(std::move(frame));
  }
  std::size_t max_outbound_bytes() const { return max_outbound_bytes_; }
  // What the transport holds for this connection now, not yet written.
  std::size_t queued_bytes() const {
    auto outbox = outbox_.lock();
    return outbox ? outbox->queued_bytes() : 0;
  }
  void close(uint16_t code = kCloseNormal, std::string_view reason = {}) {
    if (auto outbox = outbox_.lock()) outbox->close(code, reason);
  }

  // Adapter channels this connection is a member of (rooms "r:..." and topics "t:...").
  std::vector<std::string> channels() const;

 private:
  friend class ChannelRegistry;         // channel membership
  friend class internal::TransportPort;  // heartbeat, rate limit, the outbox, requests, env
  friend class Delivery;                 // env from other nodes
  friend class Server;                   // set_conn_env(id, null)

  // Stores `env` (checked by the caller; null: none) and sends it in an env frame.
  void replace_env(std::shared_ptr<const google::protobuf::Message> env);

  void refuse_oversize(const EncodedFrame& frame) const;
  bool join_channel(const std::string& channel);   // false if already a member
  bool leave_channel(const std::string& channel);  // false if not a member
  std::vector<std::string> take_channels();

  const std::string id_;
  const int role_;
  const std::string_view role_name_;
  const std::any ctx_;
  const std::string user_id_;
  // Weak: the transport session owns itself and this connection, never the other way round.
  const std::weak_ptr<Outbox> outbox_;
  const Wire wire_;
  const std::size_t max_outbound_bytes_;
  const LogSink* const log_;  // the server's; null: the default
  const std::chrono::system_clock::time_point connected_at_;
  std::atomic<int> missed_pongs_{0};
  // Set by TransportPort::open before the connection is shared.
  std::weak_ptr<ServerRequests> requests_;
  const google::protobuf::Message* env_type_ = nullptr;

  // The request-rate token bucket; touched only by TransportPort::receive, which a transport calls for
  // one connection at a time.
  bool take_token(double per_second);
  double tokens_ = -1;  // negative: not started
  std::chrono::steady_clock::time_point refilled_;
  int refused_in_a_row_ = 0;

  mutable std::mutex mu_;
  absl::flat_hash_set<std::string> channels_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const google::protobuf::Message> env_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// A connection as role R's handlers are given it (R a role tag of the generated contract:
// Chat::User; Chat::Shared for shared handlers, whose connections may be of any role). emit takes
// only the events R's surface has, checked at compile time; an event of another role needs the
// run-time check of untyped().emit.
template <class R>
class RoleConn {
 public:
  explicit RoleConn(Conn& conn) : conn_(conn) {}
  operator Conn&() const { return conn_; }  // rooms, helpers taking a Conn
  Conn& untyped() const { return conn_; }

  template <class E, class P>
  absl::Status emit(E event, const P& payload) const {
    static_assert(E::kRoleIndex == kSharedRole || E::kRoleIndex == R::kRoleIndex,
                  "conn.emit: this event is not in the surface of the role these handlers serve; a shared "
                  "handler's connection may be of any role: emit role events with conn.untyped().emit");
    return conn_.emit(event, payload);
  }

  const std::string& id() const { return conn_.id(); }
  int role() const { return conn_.role(); }
  std::string_view role_name() const { return conn_.role_name(); }
  const std::string& user_id() const { return conn_.user_id(); }
  template <class T>
  const T* ctx() const {
    return conn_.ctx<T>();
  }
  Wire wire() const { return conn_.wire(); }
  std::chrono::system_clock::time_point connected_at() const { return conn_.connected_at(); }

  // See Conn::request; only the server requests of R's surface compile.
  template <class E, class P, class F>
    requires requires { E::kKind; }
  PendingRequest request(E event, const P& payload, F done, RequestOptions options = {}) const {
    static_assert(E::kRoleIndex == kSharedRole || E::kRoleIndex == R::kRoleIndex,
                  "conn.request: this server request is not in the surface of the role these handlers serve");
    return conn_.request(event, payload, std::move(done), options);
  }
  // The connection's env, typed by R's env message (option (superline.env)).
  template <class Role = R>
    requires requires { typename Role::Env; }
  std::shared_ptr<const typename Role::Env> env() const {
    return conn_.env<typename Role::Env>();
  }
  template <class Role = R>
    requires requires { typename Role::Env; }
  absl::Status set_env(const typename Role::Env& env) const {
    return conn_.set_env(env);
  }
  void close(uint16_t code = kCloseNormal, std::string_view reason = {}) const { conn_.close(code, reason); }
  std::vector<std::string> channels() const { return conn_.channels(); }

 private:
  Conn& conn_;
};

template <class E, class P>
absl::Status Conn::emit(E, const P& payload) {
  static_assert(E::kKind == MethodKind::kEvent,
                "conn.emit takes a server event of the contract (topics are published, not emitted)");
  static_assert(std::is_same_v<P, typename E::Payload>,
                "conn.emit: the payload type does not match the event's message type");
  if (E::kRoleIndex != kSharedRole && E::kRoleIndex != role_) {
    return absl::FailedPreconditionError("event '" + std::string(E::kName) + "' is not in role '" +
                                         std::string(role_name_) + "''s surface");
  }
  SharedFrame frame = encode_event(E::kName, payload);
  if (absl::Status fits = check_size(*frame, max_outbound_bytes_); !fits.ok()) return fits;
  send(std::move(frame));
  return absl::OkStatus();
}

}  // namespace superline
