// Server requests (super-line's sreq/sres/serr), both halves, on every node:
//   origin  the node whose code called conn.request / to_conn(id).request: it keeps a waiter per
//           request (its id, a timer), sends the request on c:<conn> (in-process when the connection
//           is here) and settles the waiter when the answer arrives on reply:<origin>;
//   owner   the node holding the connection: it gives the request an id of its own, sends the sreq
//           and keeps a route back to the origin until the client answers from that connection,
//           the route's deadline passes, or the connection closes (the origin then hears
//           DISCONNECTED: super-line leaks these routes; we do not).
// An answer for an id the connection was never sent is dropped without a word (no err carrying
// it). The reply is decoded against the contract and its constraints checked at the owner, so the
// origin gets the reply or VALIDATION with the issues.
// Thread-safety: every method from any thread; callbacks run without the lock held.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "connection_registry.h"
#include "superline/adapter.h"
#include "superline/conn.h"
#include "superline/contract.h"
#include "superline/internal/wire.h"
#include "superline/options.h"

namespace superline {
namespace channel {
class ChannelMessage;
}

class ServerRequests : public std::enable_shared_from_this<ServerRequests> {
 public:
  // The reply in protobuf's binary encoding, or why there is none.
  using Done = std::function<void(absl::StatusOr<std::string>)>;

  ServerRequests(const ContractInfo& contract, const ServerOptions& options, std::string node_id, Adapter& adapter,
                 ConnectionRegistry& conns, boost::asio::any_io_executor timers);
  // Fails the waiters still pending with DISCONNECTED ("server shutting down") and every request
  // from now on, so no timer is left on the executor. The destructor does it too.
  void shutdown();
  ~ServerRequests() { shutdown(); }

  // Origin: asks connection `conn_id` (on any node) the server request `name`.
  PendingRequest request(std::string_view conn_id, std::string_view name, const google::protobuf::Message& payload,
                         Done done, RequestOptions options);
  void abort(uint64_t id);
  // Origin: an answer on reply:<this node>.
  void on_reply(const channel::ChannelMessage& message);

  // Owner: a request envelope for `conn`, which lives here.
  void on_request(const std::shared_ptr<Conn>& conn, const channel::ChannelMessage& message);
  // Owner: an sres or serr frame from `conn`.
  void on_answer(const std::shared_ptr<Conn>& conn, const WireFrame& frame);
  // Owner: `conn` is gone; its unanswered requests fail DISCONNECTED at their origins.
  void closed(const Conn& conn);

 private:
  struct Waiter {
    Done done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct Route {
    std::string origin;
    uint64_t origin_id;
    const MethodInfo* method;
    std::chrono::steady_clock::time_point deadline;
  };
  using Routes = absl::flat_hash_map<uint64_t, Route>;  // by the id the connection was sent

  // Registers a waiter for `done` with its timer; returns its id.
  uint64_t add_waiter(std::string_view name, Done done, std::chrono::milliseconds timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<Route> take_route(const std::string& conn_id, uint64_t local_id);
  // The server request `name` in role `role`'s surface, or null.
  const MethodInfo* resolve(int role, std::string_view name) const;
  // Settles waiter `id` with `outcome` (no-op if already settled).
  void settle(uint64_t id, absl::StatusOr<std::string> outcome);
  // Sends an answer to the origin of a request: in-process when it is this node.
  void answer_origin(const std::string& origin, uint64_t origin_id, absl::StatusOr<std::string> outcome);
  void deliver(const std::shared_ptr<Conn>& conn, std::string origin, uint64_t origin_id, std::string_view name,
               std::string_view payload, std::chrono::milliseconds timeout);

  const ContractInfo& contract_;
  const ServerOptions& options_;
  const std::string node_id_;
  Adapter& adapter_;
  ConnectionRegistry& conns_;
  const boost::asio::any_io_executor timers_;

  std::mutex mu_;
  // Ids from 1: the waiters', and the sreq ids this node's connections see (super-line's, one space
  // per owning node whoever asks).
  uint64_t next_waiter_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_sreq_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Routes> routes_ ABSL_GUARDED_BY(mu_);  // by connection id
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace superline
