// What the fuzz targets share: a chat server with one open user connection whose frames are
// checked and dropped. Every frame the server sends must be one a strict client accepts: within the
// outbound limit, valid UTF-8 on the JSON wire, a superline.wire.Frame (whose strings protobuf
// checks for UTF-8) on the binary one. A frame that is not stops the run as a crash.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "chat_app.h"
#include "superline/internal/text.h"
#include "superline/internal/transport_port.h"
#include "superline/server.h"
#include "superline/wire.pb.h"

namespace fuzz {

class CheckingOutbox final : public superline::Outbox {
 public:
  void send(superline::SharedFrame frame) override {
    const superline::ServerOptions defaults;
    for (const std::string* bytes : {&frame->json, &frame->binary}) {
      if (bytes->size() > defaults.max_outbound_message_bytes) fail("a frame over the outbound limit", *bytes);
    }
    if (!superline::is_utf8(frame->json)) fail("a JSON frame that is not UTF-8", frame->json);
    superline::wire::Frame binary;
    if (!frame->binary.empty() && !binary.ParseFromString(frame->binary))
      fail("a binary frame a strict parser refuses", frame->binary);
  }
  void close(uint16_t, std::string_view) override {}
  void terminate() override {}

 private:
  [[noreturn]] static void fail(const char* what, const std::string& bytes) {
    std::fprintf(stderr, "the server sent %s (%zu bytes)\n", what, bytes.size());
    __builtin_trap();
  }
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
    auto conn = superline::internal::TransportPort(server.core()).open(std::move(admission), outbox, wire);
    server.room("lobby").add(*conn);
    if (wire == superline::Wire::kJson) superline::internal::TransportPort(server.core()).receive(conn, R"({"t":"sub","i":1,"c":"presence"})");
    return conn;
  }
  std::shared_ptr<superline::MemoryBus> bus;
  chat::ChatApp app;
  chat::ChatServer server;
  std::shared_ptr<CheckingOutbox> outbox = std::make_shared<CheckingOutbox>();
};

}  // namespace fuzz
