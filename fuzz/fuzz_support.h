// What the fuzz targets share: a chat server with one open user connection whose frames go nowhere.
#pragma once

#include <memory>
#include <string>

#include "chat_app.h"
#include "superline/server.h"

namespace fuzz {

class NullOutbox final : public superline::Outbox {
 public:
  void send(superline::Frame) override {}
  void close(uint16_t, std::string_view) override {}
  void terminate() override {}
};

struct ChatNode {
  explicit ChatNode(std::shared_ptr<superline::MemoryBus> bus = std::make_shared<superline::MemoryBus>())
      : bus(bus), server(app, {}, std::make_shared<superline::MemoryAdapter>(bus)) {
    chat::configure(server, app);
  }
  // An open user connection speaking `wire`, member of room "lobby" (on JSON also subscribed to
  // the topic "presence").
  std::shared_ptr<superline::Conn> open(superline::Wire wire) {
    superline::Admission admission = chat::Chat::admit(chat::Chat::Role::kUser);
    admission.user_id = "fuzzer";
    auto conn = server.core().open(std::move(admission), outbox, wire);
    server.room("lobby").add(*conn);
    if (wire == superline::Wire::kJson) server.core().receive(conn, R"({"t":"sub","i":1,"c":"presence"})");
    return conn;
  }
  std::shared_ptr<superline::MemoryBus> bus;
  chat::ChatApp app;
  chat::ChatServer server;
  std::shared_ptr<NullOutbox> outbox = std::make_shared<NullOutbox>();
};

}  // namespace fuzz
