// How a request handler answers: return the reply, return a status (its code reaches the client), or
// take a Responder and return kDeferred to answer later from any thread.
// Thread-safety: Responder may be copied and used from any thread; the first answer wins.
#pragma once

#include <google/protobuf/message.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "superline/conn.h"
#include "superline/contract.h"

namespace superline {

struct ServerHooks;
class Metrics;

namespace internal {

// One request awaiting its answer. If every reference goes away unanswered, the client gets
// INTERNAL instead of waiting for its timeout.
class PendingReply {
 public:
  PendingReply(const ServerHooks* hooks, std::weak_ptr<Conn> conn, std::string request_id, std::string_view method);
  PendingReply(const PendingReply&) = delete;
  PendingReply& operator=(const PendingReply&) = delete;
  ~PendingReply();

  void reply(const google::protobuf::Message& value);
  void fail(const absl::Status& error);
  // Counts the answer in `metrics`, by method and code, with the time from now until it.
  void measure(Metrics* metrics, const MethodInfo* method);

 private:
  bool claim() { return !done_.exchange(true); }
  void answered(std::string_view code) const;

  const ServerHooks* const hooks_;  // where an unexpected failure is reported
  const std::weak_ptr<Conn> conn_;
  const std::string request_id_;  // the request's "i", as the client wrote it
  const std::string method_;
  std::atomic<bool> done_{false};
  Metrics* metrics_ = nullptr;
  const MethodInfo* method_info_ = nullptr;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace internal

struct Deferred {};
// Returned by a handler that took a Responder and will answer later.
inline constexpr Deferred kDeferred{};

template <class T>
class Reply {
 public:
  // No answer (what a coroutine that never co_returns leaves; answered INTERNAL like an OK status).
  Reply() = default;
  Reply(T value) : value_(std::move(value)) {}             // NOLINT: implicit on purpose
  Reply(absl::Status error) : error_(std::move(error)) {}  // NOLINT
  Reply(Deferred) : deferred_(true) {}                     // NOLINT

  bool deferred() const { return deferred_; }
  const std::optional<T>& value() const { return value_; }
  const absl::Status& error() const { return error_; }

 private:
  std::optional<T> value_;
  absl::Status error_;
  bool deferred_ = false;
};

template <class T>
class Responder {
 public:
  explicit Responder(std::shared_ptr<internal::PendingReply> pending) : pending_(std::move(pending)) {}
  void reply(const T& value) const { pending_->reply(value); }
  void fail(const absl::Status& error) const { pending_->fail(error); }

 private:
  std::shared_ptr<internal::PendingReply> pending_;
};

namespace internal {

// A decoded client->server message on its way to its handler (requests and client events).
struct Inbound {
  int dispatch = -1;
  std::shared_ptr<Conn> conn;
  std::unique_ptr<google::protobuf::Message> input;
  std::shared_ptr<PendingReply> pending;  // requests only

  template <class T>
  const T& input_as() const {
    return static_cast<const T&>(*input);
  }

  template <class T>
  void finish(const Reply<T>& reply) {
    if (reply.deferred()) return;
    if (reply.value()) {
      pending->reply(*reply.value());
    } else if (reply.error().ok()) {
      pending->fail(absl::InternalError("handler returned an OK status instead of a reply"));
    } else {
      pending->fail(reply.error());
    }
  }
};

}  // namespace internal

// What a request handler of role R gets besides its input: the connection (typed by R, see
// RoleConn), and the way to answer later.
template <class T, class R>
class Call {
 public:
  explicit Call(internal::Inbound& inbound) : inbound_(inbound) {}
  RoleConn<R> conn() const { return RoleConn<R>(*inbound_.conn); }
  // Keep the responder, return kDeferred, answer with responder.reply(...) from any thread.
  Responder<T> defer() const { return Responder<T>(inbound_.pending); }

 private:
  internal::Inbound& inbound_;
};

}  // namespace superline
