// Server configuration: one plain struct, every field with its default.
// Thread-safety: a value type; copy it, don't share it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "superline/log.h"

namespace superline {

// What happens to a frame for a connection whose queue already holds max_queued_bytes.
enum class SlowConsumerPolicy {
  kClose,  // close the connection with 1013, dropping what it has queued
  kDrop,   // skip the frame and count it (Server::dropped_frames); the connection stays
};
// Under either policy a pong that finds the queue at its cap closes the connection with 1013: a
// peer that keeps pinging without reading what it is sent is not a reader worth keeping.

struct AdminOptions {
  bool enabled = false;
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port; WebSocketServer::admin_port() tells which
  // Also answer GET /metrics, /health and /ready on the public WebSocket port (they are never
  // served there otherwise). For a deployment whose probes can reach only that port.
  bool on_public_port = false;
};

struct ServerOptions {
  // This node's name in logs and cluster views; default: the first 8 characters of the node id.
  std::string node_name;
  // Largest inbound WebSocket message; a bigger one closes the connection with 1009.
  std::size_t max_message_bytes = 1 << 20;
  // Largest WebSocket message this server sends, in either wire's encoding. What would be bigger is
  // refused where it is made, never sent: a publish or broadcast returns PAYLOAD_TOO_LARGE to its
  // caller (the chat example passes it on to the sender), a reply becomes an err PAYLOAD_TOO_LARGE,
  // and a frame from another node is dropped and reported. No recipient is closed for it.
  std::size_t max_outbound_message_bytes = 1 << 20;
  // Memory queued for one connection (unwritten bytes plus ~50 bytes of bookkeeping a frame,
  // control frames included) past which the slow-consumer policy applies to what comes next. A
  // frame is always taken while the queue is under the cap, so one connection holds at most this
  // plus one max_outbound_message_bytes frame, and a large frame never closes a reader that is
  // keeping up.
  std::size_t max_queued_bytes = 1 << 20;
  // Memory all connections together may hold for messages they have only partly received. A
  // connection whose incomplete message would take more is closed with 1013 (each may hold 8 KiB
  // regardless, so healthy clients are served while others spent it). Bounds what many slow
  // uploads can pin: without it, 20,000 connections each 1 MiB short of a message hold ~20 GB.
  std::size_t max_inbound_buffered_bytes = 256 << 20;
  // The kernel's send buffer per connection (SO_SNDBUF; the kernel doubles it). Bounded, a client
  // that stops reading fills it quickly and then costs the server nothing per frame until its queue
  // reaches max_queued_bytes; left to autotuning (0), it can absorb megabytes, each send to it
  // costing more kernel work (bench w7: healthy p99 +70% with 10% of clients not reading, against
  // +0% at 64 KiB, which costs W1/W2 throughput at most a few percent).
  std::size_t socket_send_buffer_bytes = 64 * 1024;
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::kClose;
  // App-level {"t":"ping"} period; 0 disables the heartbeat.
  std::chrono::milliseconds heartbeat_interval{30'000};
  // Unanswered pings after which the connection is dropped.
  int max_missed_pongs = 2;
  // How long this node counts as alive in the cluster's presence after its last heartbeat tick; a
  // crashed node's connections vanish from cluster queries after this. Keep it above the interval.
  std::chrono::milliseconds presence_ttl{90'000};
  // Time allowed from TCP accept to a completed WebSocket upgrade.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Largest HTTP upgrade request header; a bigger one is refused before any upgrade.
  std::size_t max_header_bytes = 8 * 1024;
  // Time a closing connection gets to finish the close handshake before its socket is cut.
  std::chrono::milliseconds close_timeout{5'000};
  // Open connections this node holds; the next upgrade is refused with HTTP 503. 0: no cap.
  std::size_t max_connections = 100'000;
  // Open connections per client IP address; the next upgrade is refused with HTTP 503. 0: no cap
  // (the default: behind a proxy every client shares one address).
  std::size_t max_connections_per_ip = 0;
  // Origins allowed to upgrade, as browsers send them ("https://app.example.com"). Empty: any
  // origin. Otherwise an upgrade from another origin is refused with HTTP 403; one without an Origin
  // header (not a browser) is let through, to be judged by the authenticator.
  std::vector<std::string> allowed_origins;
  // Requests, client events and subscriptions a connection may send per second, in bursts of as
  // many. Over the rate a request or subscription is answered RATE_LIMITED and a client event is
  // dropped. 0: no limit.
  double max_requests_per_second = 0;
  // Frames refused in a row for the rate after which the connection is closed with 1008.
  int rate_limit_close_after = 100;
  // Reject JSON payload fields the contract does not know (VALIDATION) instead of ignoring them.
  bool strict_json = false;
  // Where handlers run. 0: on the connection's I/O thread, one at a time per connection, in the
  // order the frames came (a handler must not block: it holds up its thread's other connections;
  // answer later with call.defer(), or as a coroutine, superline/coro.h). N: on a pool of N threads,
  // for handlers that must block; a connection's requests and client events then run in parallel
  // and may finish in any order (replies carry their ids). The pool, of at least one thread, is
  // also the executor coroutine handlers resume on (Server::executor()).
  int handler_threads = 0;
  // Requests and client events waiting for a pool thread; past it a request is answered BUSY and
  // a client event dropped (and reported).
  std::size_t max_queued_handlers = 10'000;
  // Server requests (conn.request, to_conn(id).request) this node waits on at once, and those one
  // connection has unanswered; past either, a new one fails BUSY at once.
  std::size_t max_pending_server_requests = 100'000;
  std::size_t max_server_requests_per_conn = 64;
  // Where the runtime's log records go (superline/log.h). Empty: text_log_sink(), one line each on
  // stderr.
  LogSink log;
  // The admin listener: GET /metrics (Prometheus text), /health and /ready, on its own address and
  // port so operators can reach what clients cannot. Off by default.
  AdminOptions admin;
};

}  // namespace superline
