// Runs what a connection asks of the contract: a request or client event, resolved in the
// connection's surface and decoded, on its handler (here, or on the handler pool); a topic
// subscription, authorized and joined. Errors go back to the client as err frames.
// Thread-safety: every method from any thread; one connection's frames arrive one at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "channel_registry.h"
#include "server_hooks.h"
#include "superline/conn.h"
#include "superline/contract.h"
#include "superline/internal/metrics.h"
#include "superline/options.h"
#include "superline/reply.h"
#include "superline/server.h"

namespace superline {

class Dispatcher {
 public:
  Dispatcher(const ContractInfo& contract, const ServerOptions& options, Server::Dispatch dispatch,
             const ServerHooks& hooks, ChannelRegistry& channels, Metrics& metrics);
  ~Dispatcher();  // waits for handlers still running on the pool
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void request(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view method, std::string_view data);
  void client_event(const std::shared_ptr<Conn>& conn, std::string_view method, std::string_view data);
  void subscribe(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view topic);
  void unsubscribe(const std::shared_ptr<Conn>& conn, std::string_view topic);

  // The handler pool's executor (ServerOptions::handler_threads, at least one thread).
  boost::asio::any_io_executor executor() { return pool_.get_executor(); }

 private:
  // The method `name` in role `role`'s surface (shared + role), or null.
  const MethodInfo* resolve(int role, std::string_view name) const;
  // NOT_FOUND, VALIDATION, or the decoded input on its way to the handler.
  // `method` is set to the method when the surface has it, whatever the outcome.
  absl::StatusOr<internal::Inbound> decode(const std::shared_ptr<Conn>& conn, MethodKind kind, std::string_view name,
                                           std::string_view data, const MethodInfo*& method) const;
  // The channel of topic `topic` in `role`'s surface; "" if it has none.
  std::string topic_channel(int role, std::string_view topic) const;
  void run(internal::Inbound inbound, std::string_view name);
  void invoke(internal::Inbound& inbound, std::string_view name);
  // A handler that could not run or threw: the request is answered, the client event reported.
  void failed(internal::Inbound& inbound, std::string_view name, const absl::Status& status);

  const ContractInfo& contract_;
  const ServerOptions& options_;
  const Server::Dispatch dispatch_;
  const ServerHooks& hooks_;
  ChannelRegistry& channels_;
  Metrics& metrics_;
  // Per role: wire name -> method in that role's effective surface.
  std::vector<absl::flat_hash_map<std::string, const MethodInfo*>> surfaces_;
  boost::asio::thread_pool pool_;  // handlers when handler_threads > 0; coroutines
  std::atomic<std::size_t> queued_ {0};
};

// An err frame for request `id` (empty: a frame without id), in `conn`'s wire.
void send_error(Conn& conn, std::string_view id, const absl::Status& status);

}  // namespace superline
