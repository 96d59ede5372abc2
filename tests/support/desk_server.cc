// The Desk test contract served over WebSocket on 127.0.0.1 (the TypeScript client's tests of
// server requests and env). Usage: desk_server [--port N]; prints "listening on 127.0.0.1:<port>",
// stops on SIGTERM or SIGINT.
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "desk_app.h"
#include "superline/websocket.h"

int main(int argc, char** argv) {
  superline::ListenOptions listen;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      listen.port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: desk_server [--port N]\n";
      return 2;
    }
  }
  testing_support::DeskApp app;
  desk::v1::DeskServer server(app);
  testing_support::admit_by_query(server);
  superline::WebSocketServer transport(server, listen);
  if (absl::Status started = transport.start(); !started.ok()) {
    std::cerr << "desk_server: " << started.message() << "\n";
    return 1;
  }
  transport.handle_signals();
  std::cout << "listening on " << listen.address << ":" << transport.port() << std::endl;
  transport.wait(std::chrono::seconds(1));
  return 0;
}
