// The WebSocket transport: a Boost.Beast listener that upgrades connections (authenticate runs before
// the 101; a rejection is an HTTP 401), speaks superline.v1 JSON frames, runs the heartbeat, and
// gives every connection its own strand and a bounded write queue. Beast stays out of this header.
// Thread-safety: start/stop/wait may be called from any thread but an I/O thread; stop is idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "superline/server.h"
#include "superline/typed.h"

namespace superline {

struct ListenOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port; port() tells which
  int threads = 1;    // I/O threads
  // A directory whose files are served on the same port to plain GET/HEAD requests (a browser
  // page and its scripts; nothing outside it, no listings, 404 otherwise). Empty: such a request is
  // refused with 400, as without a web page.
  std::string static_dir;
};

class WebSocketServer {
 public:
  WebSocketServer(Server& server, ListenOptions options);
  template <class Contract>
  WebSocketServer(ContractServer<Contract>& server, ListenOptions options)
      : WebSocketServer(server.core(), std::move(options)) {}
  ~WebSocketServer();
  WebSocketServer(const WebSocketServer&) = delete;
  WebSocketServer& operator=(const WebSocketServer&) = delete;

  // Binds, listens and starts the I/O threads.
  absl::Status start();
  uint16_t port() const;
  // The admin listener's port (ServerOptions::admin); 0 when it is off.
  uint16_t admin_port() const;
  // Stops accepting, closes every connection with 1001, waits up to `drain` for them to finish,
  // then stops the I/O threads. /ready answers 503 from the start of the drain.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(2));
  // From now on SIGINT and SIGTERM end wait(). Call it before announcing readiness, so an early
  // signal is not the process's default death.
  void handle_signals();
  // Blocks until a handled signal arrives or stop() is called, then stops, draining for `drain`.
  void wait(std::chrono::milliseconds drain = std::chrono::seconds(2));

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace superline
