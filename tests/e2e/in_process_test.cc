// In-process servers behind the real WebSocket transport: two chat nodes on one MemoryBus, and the
// shapes contract for the error paths the chat example never takes.
#include <gtest/gtest.h>

#include "../support/eventually.h"
#include "../support/shapes_app.h"
#include "chat_app.h"
#include "superline/websocket.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

// One chat node: app, server and transport, sharing `bus` with the other nodes.
struct ChatNode {
  explicit ChatNode(std::shared_ptr<superline::MemoryBus> bus)
      : server(app, {}, std::make_shared<superline::MemoryAdapter>(std::move(bus))), transport(server, {}) {
    chat::configure(server, app);
    EXPECT_TRUE(transport.start().ok());
  }
  uint16_t port() const { return transport.port(); }
  chat::ChatApp app;
  chat::ChatServer server;
  superline::WebSocketServer transport;
};

TEST(TwoNodesOnOneBus, RoomBroadcastsAndTopicPublishesCrossNodes) {
  auto bus = std::make_shared<superline::MemoryBus>();
  ChatNode a(bus), b(bus);
  auto on_a = WsTestClient::open(a.port(), "/?role=user&name=ann");
  auto on_b = WsTestClient::open(b.port(), "/?role=user&name=bo");
  auto agent_b = WsTestClient::open(b.port(), "/?role=agent&name=ops");

  on_a->send(R"({"t":"sub","i":1,"c":"presence"})");
  EXPECT_EQ(on_a->read(), R"({"t":"res","i":1,"d":null})");
  on_a->send(R"({"t":"sub","i":2,"c":"announcements"})");
  EXPECT_EQ(on_a->read(), R"({"t":"res","i":2,"d":null})");
  EXPECT_TRUE(has(on_a->request("join", R"({"room":"lobby"})"), R"("members":1)"));
  EXPECT_TRUE(has(on_b->request("join", R"({"room":"lobby"})"), R"("members":1)"));  // local count

  // A shared topic published on B reaches A's subscriber.
  EXPECT_TRUE(has(on_a->read_until(R"("nd":")" + b.server.node_id()),
                  R"({"t":"pub","c":"presence","d":{"room":"lobby","count":1})"));
  // A room broadcast on B reaches A's member.
  on_b->request("send", R"({"room":"lobby","text":"from b"})");
  EXPECT_EQ(on_a->read_until("from b"),
            R"({"t":"evt","e":"message","d":{"room":"lobby","text":"from b","from":"bo"}})");
  // Excluding the sender works across nodes too.
  on_b->send(R"({"t":"cev","m":"typing","d":{"room":"lobby"}})");
  EXPECT_TRUE(has(on_a->read_until("userTyping"), R"("from":"bo")"));
  EXPECT_FALSE(on_b->read_until("userTyping", 300ms).has_value());
  // A role topic published on B reaches A's user.
  agent_b->request("announce", R"({"text":"hello cluster"})");
  EXPECT_TRUE(has(on_a->read_until("announcements"), R"("text":"hello cluster","from":"ops")"));
}

TEST(TwoNodesOnOneBus, PeersListWhatOtherNodesSaidNeverThemselves) {
  auto bus = std::make_shared<superline::MemoryBus>();
  ChatNode a(bus), b(bus);
  auto on_a = WsTestClient::open(a.port(), "/?role=user&name=ann");  // A tells B: 1 connection
  auto on_b = WsTestClient::open(b.port(), "/?role=user&name=bo");
  const std::string a_name = a.server.core().node_name(), b_name = b.server.core().node_name();
  EXPECT_EQ(on_b->request("peers", "{}"), R"({"t":"res","i":1001,"d":{"self":")" + b_name +
                                              R"(","peers":[{"node":")" + a_name + R"(","conns":1}]}})");
  EXPECT_EQ(on_a->request("peers", "{}"), R"({"t":"res","i":1001,"d":{"self":")" + a_name +
                                              R"(","peers":[{"node":")" + b_name + R"(","conns":1}]}})");
}

TEST(TwoNodesOnOneBus, ServerEventsSkipTheSenderAndIsolateThrowingListeners) {
  auto bus = std::make_shared<superline::MemoryBus>();
  testing_support::ShapesApp app_a, app_b;
  shapes::v1::ShapesServer a(app_a, {}, std::make_shared<superline::MemoryAdapter>(bus));
  shapes::v1::ShapesServer b(app_b, {}, std::make_shared<superline::MemoryAdapter>(bus));
  std::vector<std::string> heard_a, heard_b;
  int errors_b = 0;
  b.on_error([&](const absl::Status&, const superline::ErrorInfo&) { ++errors_b; });
  a.on_server(shapes::v1::Shapes::ServerToServer::kSync,
              [&](const shapes::v1::Count& c, std::string_view from) {
                heard_a.push_back(std::to_string(c.value()) + "@" + std::string(from));
              });
  b.on_server(shapes::v1::Shapes::ServerToServer::kSync,
              [](const shapes::v1::Count&, std::string_view) { throw std::runtime_error("listener bug"); });
  b.on_server(shapes::v1::Shapes::ServerToServer::kSync,
              [&](const shapes::v1::Count& c, std::string_view from) {
                heard_b.push_back(std::to_string(c.value()) + "@" + std::string(from));
              });
  shapes::v1::Count count;
  count.set_value(7);
  a.emit_server(shapes::v1::Shapes::ServerToServer::kSync, count);
  EXPECT_TRUE(heard_a.empty());  // never the sender
  EXPECT_EQ(heard_b, std::vector<std::string>{"7@" + a.node_id()});
  EXPECT_EQ(errors_b, 1);
  count.set_value(8);
  b.emit_server(shapes::v1::Shapes::ServerToServer::kSync, count);
  EXPECT_EQ(heard_a, std::vector<std::string>{"8@" + b.node_id()});
  EXPECT_EQ(heard_b.size(), 1u);
  // The generated handlers heard them too, each only the other node's.
  EXPECT_EQ(app_a.syncs(), std::vector<std::string>{"8@" + b.node_id()});
  EXPECT_EQ(app_b.syncs(), std::vector<std::string>{"7@" + a.node_id()});
}

TEST(TwoNodesOnOneBus, AnUnsubscribedServerListenerHearsNothingMore) {
  auto bus = std::make_shared<superline::MemoryBus>();
  testing_support::ShapesApp app_a, app_b;
  shapes::v1::ShapesServer a(app_a, {}, std::make_shared<superline::MemoryAdapter>(bus));
  shapes::v1::ShapesServer b(app_b, {}, std::make_shared<superline::MemoryAdapter>(bus));
  int heard = 0;
  superline::ListenerHandle handle =
      b.on_server(shapes::v1::Shapes::ServerToServer::kSync, [&](const shapes::v1::Count&, std::string_view) { ++heard; });
  shapes::v1::Count count;
  a.emit_server(shapes::v1::Shapes::ServerToServer::kSync, count);
  EXPECT_EQ(heard, 1);
  handle.unsubscribe();
  handle.unsubscribe();  // twice is harmless
  a.emit_server(shapes::v1::Shapes::ServerToServer::kSync, count);
  EXPECT_EQ(heard, 1);
  EXPECT_EQ(app_b.syncs().size(), 2u);  // the generated handler stays
}

class ShapesOverSockets : public ::testing::Test {
 protected:
  ShapesOverSockets() {
    server_.on_error([this](const absl::Status& s, const superline::ErrorInfo&) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(s.ToString());
    });
    EXPECT_TRUE(transport_.start().ok());
  }
  testing_support::ShapesApp app_;
  shapes::v1::ShapesServer server_{app_};
  superline::WebSocketServer transport_{server_, {}};
  std::mutex mu_;
  std::vector<std::string> errors_;
};

TEST_F(ShapesOverSockets, InternalLeaksNothingAndIsReported) {
  auto c = WsTestClient::open(transport_.port(), "/");
  EXPECT_EQ(c->request("crash", "{}"),
            R"({"t":"err","i":1001,"code":"INTERNAL","m":"Internal server error"})");
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].find("secret detail"), std::string::npos);
}

TEST_F(ShapesOverSockets, CustomCodesDeferredRepliesAndOutOfOrderAnswers) {
  auto c = WsTestClient::open(transport_.port(), "/");
  c->send(R"({"t":"req","i":1,"m":"slow","d":{"value":"first"}})");
  c->send(R"({"t":"req","i":2,"m":"echo","d":{"value":"second"}})");
  EXPECT_EQ(c->read(), R"({"t":"res","i":2,"d":{"value":"second"}})");  // the slow one answers later
  EXPECT_EQ(c->read(), R"({"t":"res","i":1,"d":{"value":"first!"}})");
  EXPECT_EQ(c->request("limited", "{}"), R"({"t":"err","i":1001,"code":"RATE_LIMITED","m":"slow down"})");
  EXPECT_EQ(c->request("limited", R"({"value":"who"})"),
            R"({"t":"err","i":1002,"code":"UNAUTHORIZED","m":"log in first"})");
}

TEST_F(ShapesOverSockets, ServerWithoutAuthenticatorAdmitsTheSharedRoleOnly) {
  auto c = WsTestClient::open(transport_.port(), "/?role=admin");
  EXPECT_EQ(c->request("post", "{}"),
            R"({"t":"err","i":1001,"code":"NOT_FOUND","m":"Unknown message: post"})");
}

// Without an on_error hook, what would have been reported is logged (to stderr), never lost.
TEST(ShapesWithoutErrorHook, HandlerExceptionsAreLogged) {
  testing_support::ShapesApp app;
  shapes::v1::ShapesServer server(app);
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  auto c = WsTestClient::open(transport.port(), "/");
  testing::internal::CaptureStderr();
  EXPECT_EQ(c->request("crash", "{}"),
            R"({"t":"err","i":1001,"code":"INTERNAL","m":"Internal server error"})");
  const std::string log = testing::internal::GetCapturedStderr();
  // One line: what failed, the status with its detail (for the operator, never the client), and
  // fields to filter on.
  EXPECT_NE(log.find("superline error: request crash: INTERNAL: secret detail kind=request name=crash conn="),
            std::string::npos)
      << log;
}

// An authenticator's status picks the HTTP answer; its message is the body.
TEST(Handshake, RefusalsKeepTheirMeaning) {
  testing_support::ShapesApp app;
  shapes::v1::ShapesServer server(app);
  server.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
    const std::string_view why = h.query_param("why").value_or("");
    if (why == "banned") return absl::PermissionDeniedError("you are banned");
    if (why == "busy") return absl::ResourceExhaustedError("too many attempts");
    if (why == "down") return absl::UnavailableError("try again soon");
    if (why == "bad") return absl::InvalidArgumentError("bad token");
    if (why == "long") return absl::UnauthenticatedError(std::string(5000, 'x'));
    return absl::UnauthenticatedError("who are you?");
  });
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  auto answer = [&](const std::string& why) {
    return raw_exchange(transport.port(), "GET /?why=" + why +
                                              " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                              "Sec-WebSocket-Version: 13\r\n\r\n");
  };
  auto status_and_body = [](const std::string& response) {
    return response.substr(0, response.find("\r\n")) + " | " + response.substr(response.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(status_and_body(answer("banned")), "HTTP/1.1 403 Forbidden | you are banned\n");
  EXPECT_EQ(status_and_body(answer("busy")), "HTTP/1.1 429 Too Many Requests | too many attempts\n");
  EXPECT_EQ(status_and_body(answer("down")), "HTTP/1.1 503 Service Unavailable | try again soon\n");
  EXPECT_EQ(status_and_body(answer("bad")), "HTTP/1.1 400 Bad Request | bad token\n");
  EXPECT_EQ(status_and_body(answer("who")), "HTTP/1.1 401 Unauthorized | who are you?\n");
  EXPECT_LT(answer("long").size(), 600u);  // the message is clipped
}

TEST(Handshake, AuthenticatorSuppliedIdsAndDuplicates) {
  testing_support::ShapesApp app;
  shapes::v1::ShapesServer server(app);
  server.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
    superline::Admission admission = shapes::v1::Shapes::admit(shapes::v1::Shapes::Role::kShared);
    admission.conn_id = std::string(h.query_param("id").value_or(""));
    return admission;
  });
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  auto first = WsTestClient::open(transport.port(), "/?id=device-1");
  ASSERT_NE(server.core().find("device-1"), nullptr);
  auto second = WsTestClient::dial(transport.port(), "/?id=device-1");
  ASSERT_TRUE(second.upgraded);
  EXPECT_TRUE(second.client->wait_closed(2s));
  EXPECT_EQ(second.client->close_code(), 1008);
  // The first connection is untouched and still served.
  EXPECT_EQ(first->request("echo", R"({"value":"still"})"), R"({"t":"res","i":1001,"d":{"value":"still"}})");
  EXPECT_EQ(server.core().connection_count(), 1u);
}

TEST(Handshake, AnUpgradeThatNeverCompletesIsCutOff) {
  superline::ServerOptions options;
  options.handshake_timeout = 200ms;
  testing_support::ShapesApp app;
  shapes::v1::ShapesServer server(app, options);
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  const auto started = std::chrono::steady_clock::now();
  // Half a request line, then silence: the server must close, long before our 5 s patience ends.
  const std::string response = raw_exchange(transport.port(), "GET /?role=user HTTP/1.1\r\n", 5s);
  EXPECT_EQ(response, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(server.core().connection_count(), 0u);
}

TEST_F(ShapesOverSockets, NonUpgradeRequestsAreRefused) {
  auto d = WsTestClient::dial(transport_.port(), "/");
  ASSERT_TRUE(d.upgraded);  // control: a proper upgrade works
  // A plain HTTP GET is not an upgrade.
  const std::string response = raw_exchange(transport_.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
}

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

// A shapes node with its own options behind the real transport.
struct LimitedShapes {
  explicit LimitedShapes(superline::ServerOptions options)
      : server(app, std::move(options)), transport(server, {}) {
    EXPECT_TRUE(transport.start().ok());
  }
  uint16_t port() const { return transport.port(); }
  testing_support::ShapesApp app;
  shapes::v1::ShapesServer server;
  superline::WebSocketServer transport;
};

// Two clients subscribed to the ticker of a node whose queue cap is 64 KiB: one stops reading.
struct SlowAndHealthy {
  explicit SlowAndHealthy(superline::SlowConsumerPolicy policy) : node(options(policy)) {
    for (auto* c : {slow.get(), healthy.get()}) {
      c->send(R"({"t":"sub","i":1,"c":"ticker"})");
      EXPECT_EQ(c->read(), R"({"t":"res","i":1,"d":null})");
    }
  }
  static superline::ServerOptions options(superline::SlowConsumerPolicy policy) {
    superline::ServerOptions options;
    options.max_queued_bytes = 64 * 1024;
    options.slow_consumer = policy;
    // The slow client reads its close only after all ticks are published (over 5 s in a TSan
    // build): the close handshake must wait for it, or the socket is cut and it sees 1006.
    options.close_timeout = std::chrono::seconds(60);
    return options;
  }
  // Publishes 20,000 ticks of 1 KB (~20 MB: more than the kernel's socket buffers plus the cap). The
  // healthy client reads each one before the next is published; returns how many it got.
  int publish_ticks() {
    shapes::v1::Tick tick;
    tick.add_tags(std::string(1024, 'x'));
    int received = 0;
    for (int i = 0; i < 20000 && received == i; ++i) {
      tick.set_seq(i);
      EXPECT_TRUE(node.server.publish(shapes::v1::Shapes::Shared::kTicker, tick).ok());
      if (healthy->read(2s)) ++received;
    }
    return received;
  }
  LimitedShapes node;
  std::unique_ptr<WsTestClient> slow = WsTestClient::open(node.port(), "/");
  std::unique_ptr<WsTestClient> healthy = WsTestClient::open(node.port(), "/");
};

// A client that stops reading is cut off at its queue cap (1013) and never delays the others.
TEST(SlowConsumer, IsClosedWith1013WhileOthersKeepReceiving) {
  SlowAndHealthy clients(superline::SlowConsumerPolicy::kClose);
  EXPECT_EQ(clients.publish_ticks(), 20000);
  EXPECT_TRUE(clients.slow->wait_closed(10s));
  EXPECT_EQ(clients.slow->close_code(), 1013);
  EXPECT_FALSE(clients.healthy->closed());
}

// Under the drop policy it loses frames instead, keeps its connection, and delays no one.
TEST(SlowConsumer, DropPolicySkipsFramesAndKeepsTheConnection) {
  SlowAndHealthy clients(superline::SlowConsumerPolicy::kDrop);
  EXPECT_EQ(clients.publish_ticks(), 20000);
  EXPECT_GT(clients.node.server.core().dropped_frames(), 0u);
  // The slow client catches up on what was kept and is still connected. (While its queue holds the
  // cap, every frame for it is skipped, a reply too: it asks once it has read what was kept.)
  int kept = 0;
  while (has(clients.slow->read(500ms), R"("c":"ticker")")) ++kept;
  EXPECT_GT(kept, 0);
  EXPECT_TRUE(has(clients.slow->request("echo", R"({"value":"still here"})", 10s), "still here"));
  EXPECT_FALSE(clients.slow->closed());
}

// A graceful stop flushes what each connection has queued, then closes it with 1001.
TEST(GracefulDrain, QueuedFramesLeaveBeforeThe1001) {
  LimitedShapes node({});
  auto c = WsTestClient::open(node.port(), "/");
  c->send(R"({"t":"sub","i":1,"c":"ticker"})");
  ASSERT_EQ(c->read(), R"({"t":"res","i":1,"d":null})");
  shapes::v1::Tick tick;
  tick.add_tags(std::string(1024, 'x'));
  for (int i = 0; i < 200; ++i) {  // ~200 KB, more than the socket buffers take while nobody reads
    tick.set_seq(i);
    EXPECT_TRUE(node.server.publish(shapes::v1::Shapes::Shared::kTicker, tick).ok());
  }
  std::thread stopper([&] { node.transport.stop(5s); });
  int ticks = 0;
  while (auto frame = c->read(5s)) {
    if (has(frame, R"("c":"ticker")")) ++ticks;
  }
  stopper.join();
  EXPECT_EQ(ticks, 200);
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(c->close_code(), 1001);
}

// A WebSocket upgrade request carrying `extra` header lines; the status line of the answer.
std::string upgrade_status(uint16_t port, const std::string& extra) {
  const std::string response =
      raw_exchange(port,
                   "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                       extra + "\r\n",
                   300ms);
  return response.substr(0, response.find("\r\n"));
}

TEST(Limits, ConnectionCapsRefuseUpgradesWith503) {
  superline::ServerOptions options;
  options.max_connections = 2;
  LimitedShapes node(options);
  auto a = WsTestClient::open(node.port(), "/");
  auto b = WsTestClient::open(node.port(), "/");
  auto refused = WsTestClient::dial(node.port(), "/");
  EXPECT_FALSE(refused.upgraded);
  EXPECT_EQ(refused.http_status, 503);
  a.reset();  // a slot frees up once the connection is gone
  EXPECT_TRUE(testing_support::eventually([&] { return WsTestClient::dial(node.port(), "/").upgraded; }));

  superline::ServerOptions per_ip;
  per_ip.max_connections_per_ip = 1;
  LimitedShapes strict(per_ip);
  auto first = WsTestClient::open(strict.port(), "/");
  EXPECT_EQ(WsTestClient::dial(strict.port(), "/").http_status, 503);
}

TEST(Limits, OriginAllowListRefusesOtherOriginsWith403) {
  superline::ServerOptions options;
  options.allowed_origins = {"https://good.example"};
  LimitedShapes node(options);
  EXPECT_EQ(upgrade_status(node.port(), "Origin: https://evil.example\r\n"), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(upgrade_status(node.port(), "Origin: https://good.example\r\n"),
            "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(upgrade_status(node.port(), ""), "HTTP/1.1 101 Switching Protocols");  // not a browser

  LimitedShapes open_node({});  // no list: any origin
  EXPECT_EQ(upgrade_status(open_node.port(), "Origin: https://evil.example\r\n"),
            "HTTP/1.1 101 Switching Protocols");
}

TEST(Limits, OversizeHeadersAreRefusedWith431) {
  superline::ServerOptions options;
  options.max_header_bytes = 4096;
  LimitedShapes node(options);
  EXPECT_EQ(upgrade_status(node.port(), "Cookie: " + std::string(8000, 'c') + "\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(upgrade_status(node.port(), "Cookie: " + std::string(1000, 'c') + "\r\n"),
            "HTTP/1.1 101 Switching Protocols");
}

TEST(Limits, RequestRateIsLimitedAndAbuseClosesWith1008) {
  superline::ServerOptions options;
  options.max_requests_per_second = 5;
  options.rate_limit_close_after = 20;
  LimitedShapes node(options);
  auto c = WsTestClient::open(node.port(), "/");
  for (int i = 1; i <= 10; ++i) c->send(R"({"t":"req","i":)" + std::to_string(i) + R"(,"m":"echo","d":{}})");
  int answered = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    auto frame = c->read();
    if (has(frame, R"("t":"res")")) ++answered;
    if (has(frame, R"("code":"RATE_LIMITED","m":"Rate limit exceeded")")) ++limited;
  }
  EXPECT_GE(answered, 5);  // the burst
  EXPECT_GE(limited, 1);
  EXPECT_EQ(answered + limited, 10);
  for (int i = 0; i < 40; ++i) c->send(R"({"t":"cev","m":"poke","d":{}})");  // keeps hammering
  EXPECT_TRUE(c->wait_closed(5s));
  EXPECT_EQ(c->close_code(), 1008);
  auto other = WsTestClient::open(node.port(), "/");  // its own bucket
  EXPECT_TRUE(has(other->request("echo", R"({"value":"ok"})"), R"("value":"ok")"));
}

}  // namespace
}  // namespace e2e
