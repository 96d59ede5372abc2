// The application's hooks on a Server, and where the errors nobody else is told of go. Shared by
// the parts of the server that call them.
// Thread-safety: set before serving starts; read from any thread afterwards.
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "superline/conn.h"
#include "superline/server.h"

namespace superline {

struct ServerHooks {
  Server::Authenticator authenticator;
  std::function<void(Conn&)> on_connection;
  std::function<void(Conn&, uint16_t)> on_disconnect;
  std::function<void(const absl::Status&, const ErrorInfo&)> on_error;
  std::function<bool(Conn&, std::string_view)> authorize_subscribe;
  const LogSink* log = nullptr;  // the server's; where reports go without on_error

  // To on_error; without one to the log, throttled (a client can make a handler throw on every
  // request). Never throws.
  void report(const absl::Status& status, const ErrorInfo& info) const;
};

}  // namespace superline
