// The admin listener: a plain HTTP port for operators and their tools, apart from the clients'
// WebSocket port. GET or HEAD /metrics (Prometheus text), /health and /ready (JSON); 404 for any
// other path, 405 for other methods. One request per connection, under a deadline.
// Thread-safety: start/stop from one thread (the WebSocketServer's); runs on its io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "superline/internal/transport_port.h"
#include "superline/options.h"

namespace superline {

class AdminListener {
 public:
  AdminListener(boost::asio::io_context& ioc, internal::TransportPort port, AdminOptions options);

  absl::Status start();
  uint16_t port() const { return port_; }
  void stop();  // stops accepting; requests being answered finish

 private:
  void accept();

  internal::TransportPort server_;
  const AdminOptions options_;
  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
};

// The HTTP/1.1 response an admin path gets (or nullptr-free 404/405), serialized; `head`: headers
// only. Shared with the public port when AdminOptions::on_public_port asks for it.
std::string admin_response(const internal::TransportPort& server, bool get_or_head, bool head, std::string_view target);

}  // namespace superline
