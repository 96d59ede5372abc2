// Serves the hello contract on a free port and calls it once with the generated client.
#include <iostream>

#include "hello.superline.h"
#include "superline/websocket.h"

class Greeter final : public hello::Hello::Handlers {
 public:
  superline::Reply<hello::Greeting> greet(superline::Call<hello::Greeting, hello::Hello::Shared>&,
                                          const hello::Name& name) override {
    hello::Greeting greeting;
    greeting.set_text("Hello, " + name.name());
    return greeting;
  }
#if __has_include("wave.inc")
#include "wave.inc"
#endif
};

int main() {
  Greeter greeter;
  hello::HelloServer server(greeter);
  superline::WebSocketServer transport(server, {});
  if (!transport.start().ok()) return 1;
  superline::ClientOptions options;
  options.port = transport.port();
  hello::HelloSharedClient client(options);
  if (!client.connect().ok()) return 1;
  hello::Name name;
  name.set_name("superline");
  auto greeting = client.greet(name);
  if (!greeting.ok()) return 1;
  std::cout << greeting->text() << std::endl;
  return 0;
}
