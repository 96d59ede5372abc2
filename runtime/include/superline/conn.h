// One client connection as the application sees it: id, role, the context its authenticator returned,
// and typed emit. A transport creates it through TransportPort::open and drops it through closed().
// Thread-safety: every method may be called from any thread.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "superline/close_codes.h"
#include "superline/contract.h"
#include "superline/frame.h"
#include "superline/log.h"
#include "superline/status.h"

namespace superline {

namespace internal {
class TransportPort;
}

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
  friend class internal::TransportPort;  // heartbeat, rate limit, the outbox

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

  // The request-rate token bucket; touched only by TransportPort::receive, which a transport calls for
  // one connection at a time.
  bool take_token(double per_second);
  double tokens_ = -1;  // negative: not started
  std::chrono::steady_clock::time_point refilled_;
  int refused_in_a_row_ = 0;

  mutable std::mutex mu_;
  absl::flat_hash_set<std::string> channels_ ABSL_GUARDED_BY(mu_);
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
