// What a transport drives a Server through, and nothing else does: admission, the connection's
// inbound messages, its end, the heartbeat and shutdown. Keeps Server's public surface the
// application's.
// Thread-safety: every method from any thread; one connection's receive calls come one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "superline/conn.h"
#include "superline/frame.h"
#include "superline/options.h"
#include "superline/internal/metrics.h"
#include "superline/server.h"
#include "superline/stats.h"

namespace superline::internal {

class TransportPort {
 public:
  explicit TransportPort(Server& server) : server_(server) {}

  const ServerOptions& options() const { return server_.options(); }
  const ContractInfo& contract() const { return server_.contract(); }
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
  std::size_t connection_count() const { return server_.connection_count(); }

  // What the transport counts: frames and bytes by wire, slow-consumer closes.
  Metrics& metrics();
  // The transport listens (kServing), drains (kDraining) or has stopped.
  void set_state(ServingState state);

  // An answer of the admin listener: GET /metrics (Prometheus text), /health, /ready (JSON).
  struct AdminAnswer {
    int status = 404;
    std::string_view content_type = "text/plain; charset=utf-8";
    std::string body = "not found\n";
  };
  AdminAnswer admin(std::string_view path) const;
  static bool is_admin_path(std::string_view path);

 private:
  // The env a connection was admitted with, if it is its role's and meets the contract; else
  // null, reported.
  std::shared_ptr<const google::protobuf::Message> admitted_env(const Conn& conn,
                                                                std::shared_ptr<const google::protobuf::Message> env) const;

  Server& server_;
};

}  // namespace superline::internal
