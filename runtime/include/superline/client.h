// A superline.v1 WebSocket client: ClientCore speaks the wire (requests with timeouts, client events,
// server events, topics, heartbeat answers, reconnect with backoff); ContractClient, the base of the
// generated <Contract><Role>Client, types it with the contract's tags.
// Thread-safety: every method may be called from any thread. Callbacks run on the client's own I/O
// thread: they must not block, and must not call the blocking methods (connect, requests, subscribe).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "superline/close_codes.h"
#include "superline/backoff.h"
#include "superline/contract.h"
#include "superline/frame.h"
#include "superline/log.h"
#include "superline/rendezvous.h"
#include "superline/status.h"

namespace superline {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/";
  // Query parameters of the upgrade (the role is added by ContractClient).
  std::vector<std::pair<std::string, std::string>> params;
  // The subprotocol to ask for: superline.v1 (JSON) or superline.pb.v1 (binary protobuf).
  Wire wire = Wire::kJson;
  // Default request timeout; a request waiting for a connection counts against it too.
  std::chrono::milliseconds request_timeout{30'000};
  // Reconnect after a close, waiting as `backoff` says (super-line's: 500 ms doubling to 30 s):
  // after network loss, 1001 (server going away), 1013 and the like, but never after a close code
  // of 4000-4099 (the server asking it to stay away, kCloseDoNotReconnect) or an upgrade refused
  // with HTTP 401/403. A client that will not reconnect fails every call at once (DISCONNECTED).
  bool reconnect = true;
  Backoff backoff;
  // The client's own contract (ContractInfo::id; ContractClient sets it). When the server names
  // another one at the upgrade (Superline-Contract), the client logs it once, as a warning: a
  // rolling deploy in progress, or a client built from another version of the contract.
  std::string contract_id;
  // Where the client's log records go (empty: text on stderr).
  LogSink log;
};

struct CallOptions {
  std::chrono::milliseconds timeout{0};  // 0: the client's request_timeout
};

class ClientCore {
 public:
  // Payloads below are in the wire's encoding: JSON text, or protobuf bytes.
  using Result = absl::StatusOr<std::string>;  // the reply's "d"

  explicit ClientCore(ClientOptions options);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Starts connecting; waits up to `timeout` for the server's first frame. With reconnect on, the
  // client keeps trying in the background after a failure. An upgrade refused with 401/403 is
  // UNAUTHORIZED/FORBIDDEN with the server's message.
  absl::Status connect(std::chrono::milliseconds timeout);
  // Closes for good: in-flight and queued requests fail with DISCONNECTED. Every callback runs at
  // most once, and none runs after close() returns (the destructor included).
  void close();
  bool connected() const;
  // Times the connection has opened (1 after the first connect, more after reconnects).
  int opens() const;
  // The contract the server named at the last upgrade (its Superline-Contract header), "" before
  // the first connection or when the server names none.
  std::string server_contract() const;

  void request(std::string name, std::string payload_json, std::function<void(Result)> done,
               std::chrono::milliseconds timeout);
  absl::Status send_event(std::string name, std::string payload_json);
  void on_event(std::string name, std::function<void(std::string_view payload_json)> handler);
  // Subscribes (again after every reconnect); `ready` runs on the first ack or error of this call.
  void subscribe(std::string topic, std::function<void(std::string_view payload_json)> handler,
                 std::function<void(absl::Status)> ready);
  void unsubscribe(std::string topic);
  // Answers the server's requests (sreq) named `name`: `answer` gets the payload and returns the
  // reply, both in the wire's encoding, or a status the client sends as serr (its code and message;
  // VALIDATION with its issues in "d"). A request nobody answers gets serr NOT_FOUND "No handler for
  // <name>"; an answer that throws, serr INTERNAL "Internal client error". Runs on the I/O thread.
  using Answer = std::function<absl::StatusOr<std::string>(std::string_view payload)>;
  void on_request(std::string name, Answer answer);
  // The env the server last sent, in the wire's encoding (nullopt: null, or none yet), and a hook
  // for every env frame (nullopt: null).
  std::optional<std::string> env() const;
  void on_env(std::function<void(std::optional<std::string_view> env)> hook);
  // Observes connection state changes (true: open, false: closed).
  void on_state(std::function<void(bool connected)> hook);
  // The close code and reason of every connection that ends (1006 when none was received).
  void on_close(std::function<void(uint16_t code, std::string_view reason)> hook);
  // What would otherwise be dropped without a word: a connection-level err from the server (no
  // "i": a malformed frame, a client event refused), a frame that does not parse, and (reported by
  // the typed layer) an event or publish whose payload does not decode.
  void on_error(std::function<void(const absl::Status&)> hook);
  // Reports `status` to the on_error hooks (from the client's thread: the typed layer's decoders).
  void report(absl::Status status);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

template <class Contract, class R>
class ContractClient {
 public:
  explicit ContractClient(ClientOptions options)
      : default_timeout_(options.request_timeout),
        wire_(options.wire),
        core_(with_role(std::move(options))) {}

  absl::Status connect(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return core_.connect(timeout);
  }
  void close() { core_.close(); }
  bool connected() const { return core_.connected(); }
  ClientCore& core() { return core_; }
  // This client's contract ("chat.Chat@<16 hex>") and the one the server named at the last upgrade.
  static std::string_view contract_id() { return Contract::info().id; }
  std::string server_contract() const { return core_.server_contract(); }
  // See ClientCore::on_error and on_close.
  void on_error(std::function<void(const absl::Status&)> hook) { core_.on_error(std::move(hook)); }
  void on_close(std::function<void(uint16_t code, std::string_view reason)> hook) {
    core_.on_close(std::move(hook));
  }

  // The connection's env (R's env message, option (superline.env)) as the server last sent it;
  // nullopt while it is null or before the first env frame.
  template <class Role = R>
    requires requires { typename Role::Env; }
  std::optional<typename Role::Env> env() const {
    std::optional<std::string> raw = core_.env();
    if (!raw) return std::nullopt;
    typename Role::Env env;
    if (!decode_payload(wire_, *raw, env).ok()) return std::nullopt;
    return env;
  }
  // Runs handler(const std::optional<Env>&) on every env frame (at each connect, then every change).
  template <class F, class Role = R>
    requires requires { typename Role::Env; }
  void on_env(F handler) {
    core_.on_env([wire = wire_, core = &core_, handler = std::move(handler)](std::optional<std::string_view> raw) {
      std::optional<typename Role::Env> env;
      if (raw) {
        env.emplace();
        if (absl::Status decoded = decode_payload(wire, *raw, *env); !decoded.ok()) {
          return core->report(error(kValidation, "env does not decode: " + std::string(decoded.message())));
        }
      }
      handler(env);
    });
  }

  // Listens for a server event of this role's surface. A payload that does not decode reaches
  // on_error (VALIDATION), not the handler.
  template <class E, class F>
  void on(E, F handler) {
    static_assert(E::kKind == MethodKind::kEvent, "on() takes a server event (subscribe to topics)");
    check_surface<E>();
    core_.on_event(std::string(E::kName), decoding<E>(std::move(handler), "event"));
  }

  // Subscribes to a topic and waits for the server's answer (FORBIDDEN, NOT_FOUND, or OK).
  template <class E, class F>
  absl::Status subscribe(E event, F handler, CallOptions options = {}) {
    auto done = std::make_shared<Rendezvous<absl::Status>>();
    async_subscribe(event, std::move(handler), [done](absl::Status s) { done->set(std::move(s)); });
    std::optional<absl::Status> result = done->wait_for(timeout(options));
    if (!result) return error(kTimeout, "subscribe '" + std::string(E::kName) + "' timed out");
    return *result;
  }
  template <class E, class F>
  void async_subscribe(E, F handler, std::function<void(absl::Status)> ready) {
    static_assert(E::kKind == MethodKind::kTopic, "subscribe takes a topic");
    check_surface<E>();
    core_.subscribe(std::string(E::kName), decoding<E>(std::move(handler), "publish on topic"), std::move(ready));
  }
  template <class E>
  void unsubscribe(E) {
    static_assert(E::kKind == MethodKind::kTopic, "unsubscribe takes a topic");
    core_.unsubscribe(std::string(E::kName));
  }

 protected:
  template <class E, class P>
  absl::StatusOr<typename E::Reply> call(E event, const P& request, CallOptions options) {
    auto done = std::make_shared<Rendezvous<absl::StatusOr<typename E::Reply>>>();
    async_call(
        event, request, [done](absl::StatusOr<typename E::Reply> r) { done->set(std::move(r)); }, options);
    return done->wait();  // the request's own timeout always settles it
  }

  template <class E, class P>
  void async_call(E, const P& request, std::function<void(absl::StatusOr<typename E::Reply>)> done,
                  CallOptions options) {
    static_assert(E::kKind == MethodKind::kRequest, "call takes a request");
    static_assert(std::is_same_v<P, typename E::Payload>, "the request type does not match the contract");
    core_.request(
        std::string(E::kName), encode_payload(wire_, request),
        [wire = wire_, done = std::move(done)](ClientCore::Result r) {
          if (!r.ok()) return done(std::move(r).status());  // moved: no status shared across threads
          typename E::Reply reply;
          absl::Status parsed = decode_payload(wire, *r, reply);
          if (!parsed.ok()) return done(std::move(parsed));  // VALIDATION naming the field
          done(std::move(reply));
        },
        options.timeout);
  }

  // Answers server request E with fn(const E::Payload&) -> absl::StatusOr<E::Reply> (the generated
  // constructor wires each of the role's ClientHandlers here). A payload that does not decode is
  // answered serr VALIDATION without calling fn.
  template <class E, class F>
  void answer(E, F fn) {
    static_assert(E::kKind == MethodKind::kServerRequest, "answer takes a server request");
    check_surface<E>();
    core_.on_request(std::string(E::kName), [wire = wire_, fn = std::move(fn)](std::string_view data)
                                                -> absl::StatusOr<std::string> {
      typename E::Payload request;
      if (absl::Status decoded = decode_payload(wire, data, request); !decoded.ok()) return decoded;
      absl::StatusOr<typename E::Reply> reply = fn(request);
      if (!reply.ok()) return std::move(reply).status();
      return encode_payload(wire, *reply);
    });
  }

  template <class E, class P>
  absl::Status send_event(E, const P& event) {
    static_assert(E::kKind == MethodKind::kClientEvent, "send_event takes a client event");
    static_assert(std::is_same_v<P, typename E::Payload>, "the event type does not match the contract");
    return core_.send_event(std::string(E::kName), encode_payload(wire_, event));
  }

 private:
  // A handler of raw payloads that decodes them into E's message first.
  template <class E, class F>
  std::function<void(std::string_view)> decoding(F handler, std::string_view what) {
    return [wire = wire_, core = &core_, handler = std::move(handler), what](std::string_view data) {
      typename E::Payload payload;
      if (absl::Status decoded = decode_payload(wire, data, payload); decoded.ok()) {
        handler(payload);
      } else {
        core->report(error(kValidation, std::string(what) + " '" + std::string(E::kName) +
                                            "' does not decode: " + std::string(decoded.message())));
      }
    };
  }

  template <class E>
  static constexpr void check_surface() {
    static_assert(E::kRoleIndex == kSharedRole || E::kRoleIndex == R::kRoleIndex,
                  "this message is not in the client role's surface");
  }
  std::chrono::milliseconds timeout(CallOptions options) const {
    return options.timeout.count() > 0 ? options.timeout : default_timeout_;
  }
  static ClientOptions with_role(ClientOptions options) {
    options.params.emplace_back("role", std::string(Contract::info().roles[R::kRoleIndex]));
    options.contract_id = std::string(Contract::info().id);
    return options;
  }

  const std::chrono::milliseconds default_timeout_;
  const Wire wire_;
  ClientCore core_;
};

}  // namespace superline
