// Many nodes through a real redis-server that the test starts on a free loopback port: rooms,
// topics and server events across two and three nodes, subscriptions that follow local interest,
// and the faults: Redis killed and restarted, Redis frozen, garbage on a channel, a stalled node.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>

#include "../support/eventually.h"
#include "../support/redis_process.h"
#include "../support/shapes_app.h"
#include "chat_app.h"
#include "superline/redis_adapter.h"
#include "superline/rendezvous.h"
#include "superline/websocket.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

using testing_support::RedisProcess;

using testing_support::eventually;

superline::RedisOptions options_for(const RedisProcess& redis) {
  superline::RedisOptions options;
  options.url = *superline::RedisUrl::parse(redis.url());
  options.ping_interval = 100ms;
  options.ping_timeout = 500ms;
  return options;
}

// A chat node on Redis, served over a real socket.
struct RedisChatNode {
  explicit RedisChatNode(const RedisProcess& redis, std::string name = {}) {
    auto connected = superline::RedisAdapter::connect(options_for(redis));
    EXPECT_TRUE(connected.ok()) << connected.status();
    adapter = *connected;
    adapter->on_health(
        [this](superline::RedisHealth h) { healthy = h == superline::RedisHealth::kConnected; });
    superline::ServerOptions options;
    options.node_name = std::move(name);
    server = std::make_unique<chat::ChatServer>(app, options, adapter);
    chat::configure(*server, app);
    server->on_error([this](const absl::Status& s, const superline::ErrorInfo&) {
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(s.ToString());
    });
    transport = std::make_unique<superline::WebSocketServer>(*server, superline::ListenOptions{});
    EXPECT_TRUE(transport->start().ok());
  }
  std::unique_ptr<WsTestClient> user(const std::string& name) {
    return WsTestClient::open(transport->port(), "/?role=user&name=" + name);
  }
  std::unique_ptr<WsTestClient> agent(const std::string& name) {
    return WsTestClient::open(transport->port(), "/?role=agent&name=" + name);
  }
  std::vector<std::string> error_list() {
    std::lock_guard<std::mutex> lock(mu);
    return errors;
  }

  chat::ChatApp app;
  std::shared_ptr<superline::RedisAdapter> adapter;
  std::unique_ptr<chat::ChatServer> server;
  std::unique_ptr<superline::WebSocketServer> transport;
  std::atomic<bool> healthy{true};
  std::mutex mu;
  std::vector<std::string> errors;
};

// Nodes subscribed to `channel`, as Redis counts them.
int subscribers(const RedisProcess& redis, const std::string& channel) {
  auto reply = redis.command({"PUBSUB", "NUMSUB", channel});
  return reply.size() == 2 ? std::stoi(reply[1]) : -1;
}

TEST(RedisUrl, ParsesEveryPart) {
  auto full = superline::RedisUrl::parse("redis://:s3cret@cache.local:6380/2");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->host, "cache.local");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->password, "s3cret");
  EXPECT_EQ(full->db, 2);
  auto bare = superline::RedisUrl::parse("redis://localhost");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 6379);
  for (const char* bad : {"localhost:6379", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x",
                          "redis://user:pw@h:1", "redis://h:1/db"}) {
    auto parsed = superline::RedisUrl::parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(std::string(parsed.status().message()).find("bad Redis URL"), std::string::npos);
  }
}

TEST(RedisAdapter, AnUnreachableRedisAtStartUpIsAClearError) {
  superline::RedisOptions options;
  options.url = *superline::RedisUrl::parse("redis://127.0.0.1:1");
  options.connect_timeout = 300ms;
  auto adapter = superline::RedisAdapter::connect(options);
  ASSERT_FALSE(adapter.ok());
  EXPECT_EQ(adapter.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(adapter.status().message()).find("cannot reach Redis at 127.0.0.1:1"),
            std::string::npos);
}

// The adapter contract on its own: two adapters on one Redis.
TEST(RedisAdapter, ContractByteExactOnlySubscribedLoopbackOnce) {
  RedisProcess redis;
  auto a = *superline::RedisAdapter::connect(options_for(redis));
  auto b = *superline::RedisAdapter::connect(options_for(redis));
  std::mutex mu;
  std::vector<std::string> got_a, got_b;
  a->set_handler([&](std::string_view channel, const superline::Envelope& p) {
    std::lock_guard<std::mutex> lock(mu);
    got_a.push_back(std::string(channel) + "=" + *p);
  });
  b->set_handler([&](std::string_view channel, const superline::Envelope& p) {
    std::lock_guard<std::mutex> lock(mu);
    got_b.push_back(std::string(channel) + "=" + *p);
  });
  superline::Rendezvous<absl::Status> a_live, b_live, only_b;
  a->subscribe("both", [&](absl::Status s) { a_live.set(s); });
  b->subscribe("both", [&](absl::Status s) { b_live.set(s); });
  b->subscribe("only-b", [&](absl::Status s) { only_b.set(s); });
  ASSERT_TRUE(a_live.wait_for(2s).has_value());
  ASSERT_TRUE(b_live.wait_for(2s).has_value());
  ASSERT_TRUE(only_b.wait_for(2s).has_value());

  const std::string binary("\x00\xff\x01 bytes\r\n", 11);
  a->publish("both", std::make_shared<const std::string>(binary));
  a->publish("only-b", std::make_shared<const std::string>("targeted"));
  a->publish("nobody", std::make_shared<const std::string>("lost"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return got_a.size() == 1 && got_b.size() == 2;
  }));
  std::this_thread::sleep_for(100ms);  // anything extra would have arrived by now
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(got_a, std::vector<std::string>{"both=" + binary});  // own publish, looped back once
  EXPECT_EQ(got_b, (std::vector<std::string>{"both=" + binary, "only-b=targeted"}));
}

TEST(RedisCluster, RoomsTopicsAndServerEventsCrossTwoNodes) {
  RedisProcess redis;
  RedisChatNode a(redis, "node-a"), b(redis, "node-b");
  auto on_a = a.user("ann");
  auto on_b = b.user("bo");
  auto ops = b.agent("ops");
  on_a->send(R"({"t":"sub","i":1,"c":"announcements"})");
  EXPECT_EQ(on_a->read(), R"({"t":"res","i":1,"d":null})");  // acked once the subscription is live
  on_a->send(R"({"t":"sub","i":2,"c":"presence"})");
  EXPECT_EQ(on_a->read(), R"({"t":"res","i":2,"d":null})");
  on_a->request("join", R"({"room":"lobby"})");
  on_b->request("join", R"({"room":"lobby"})");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 2; }));

  EXPECT_TRUE(
      has(on_a->read_until(R"("nd":")" + b.server->node_id()), R"("c":"presence","d":{"room":"lobby")"));
  on_b->request("send", R"({"room":"lobby","text":"over redis"})");
  EXPECT_EQ(on_a->read_until("over redis"),
            R"({"t":"evt","e":"message","d":{"room":"lobby","text":"over redis","from":"bo"}})");
  on_b->send(R"({"t":"cev","m":"typing","d":{"room":"lobby"}})");
  EXPECT_TRUE(has(on_a->read_until("userTyping"), R"("from":"bo")"));
  EXPECT_FALSE(on_b->read_until("userTyping", 300ms).has_value());
  ops->request("announce", R"({"text":"via redis"})");
  EXPECT_TRUE(has(on_a->read_until("announcements"), R"("text":"via redis","from":"ops")"));
  // serverToServer stats: each node hears the other, never itself.
  ASSERT_TRUE(eventually([&] { return has(on_a->request("peers", "{}"), R"("node":"node-b")"); }));
  EXPECT_FALSE(has(on_a->request("peers", "{}"), R"("node":"node-a")"));
}

TEST(RedisCluster, ThreeNodes) {
  RedisProcess redis;
  RedisChatNode a(redis, "a"), b(redis, "b"), c(redis, "c");
  auto on_a = a.user("ann"), on_b = b.user("bo"), on_c = c.user("cy");
  for (auto* client : {on_a.get(), on_b.get(), on_c.get()}) client->request("join", R"({"room":"r"})");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:r") == 3; }));
  on_c->request("send", R"({"room":"r","text":"from c"})");
  EXPECT_TRUE(has(on_a->read_until("from c"), R"("from":"cy")"));
  EXPECT_TRUE(has(on_b->read_until("from c"), R"("from":"cy")"));
  EXPECT_TRUE(has(on_c->read_until("from c"), R"("from":"cy")"));
  ASSERT_TRUE(eventually([&] {
    auto peers = on_a->request("peers", "{}");
    return has(peers, R"("node":"b")") && has(peers, R"("node":"c")") && !has(peers, R"("node":"a")");
  }));
}

TEST(RedisCluster, SubscriptionsFollowLocalInterest) {
  RedisProcess redis;
  RedisChatNode a(redis);
  auto ann = a.user("ann");
  ann->request("join", R"({"room":"lobby"})");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 1; }));
  ann->request("leave", R"({"room":"lobby"})");
  EXPECT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 0; }));
  ann->request("join", R"({"room":"lobby"})");  // and back, right away
  EXPECT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 1; }));
}

TEST(RedisCluster, GarbageOnAChannelIsReportedAndDeliversNothing) {
  RedisProcess redis;
  RedisChatNode a(redis);
  auto ann = a.user("ann");
  ann->request("join", R"({"room":"lobby"})");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 1; }));
  redis.command({"PUBLISH", "r:lobby", std::string("\xff\x01garbage", 9)});
  EXPECT_TRUE(eventually([&] { return !a.error_list().empty(); }));
  EXPECT_TRUE(ann->quiet_for(200ms));
  ann->request("send", R"({"room":"lobby","text":"still fine"})");
  EXPECT_TRUE(has(ann->read_until("still fine"), R"("e":"message")"));
}

// A shapes node on Redis whose authenticator takes the user id from ?user=.
struct RedisShapesNode {
  explicit RedisShapesNode(const RedisProcess& redis)
      : adapter(*superline::RedisAdapter::connect(options_for(redis))), server(app, {}, adapter) {
    server.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
      superline::Admission a = shapes::v1::Shapes::admit(shapes::v1::Shapes::Role::kShared);
      a.user_id = std::string(h.query_param("user").value_or(""));
      return a;
    });
    EXPECT_TRUE(transport.start().ok());
  }
  testing_support::ShapesApp app;
  std::shared_ptr<superline::RedisAdapter> adapter;
  shapes::v1::ShapesServer server;
  superline::WebSocketServer transport{server, {}};
};

TEST(RedisCluster, BusAndTargetedSendsAcrossNodes) {
  RedisProcess redis;
  RedisShapesNode a(redis), b(redis);
  superline::Rendezvous<absl::Status> live;
  std::mutex mu;
  std::vector<std::string> heard;
  a.server.subscribe(
      shapes::v1::Shapes::Shared::kTicker,
      [&](const shapes::v1::Tick& t, std::string_view from) {
        std::lock_guard<std::mutex> lock(mu);
        heard.push_back(std::to_string(t.seq()) + "@" + std::string(from));
      },
      [&](absl::Status s) { live.set(s); });
  ASSERT_TRUE(live.wait_for(3s).has_value());  // BUS-7: awaitable
  int echoes_on_b = 0;
  b.server.subscribe(
      shapes::v1::Shapes::Shared::kTicker,
      [&](const shapes::v1::Tick&, std::string_view from) { echoes_on_b += from == b.server.node_id(); });
  shapes::v1::Tick tick;
  tick.set_seq(5);
  EXPECT_TRUE(b.server.publish(shapes::v1::Shapes::Shared::kTicker, tick).ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return heard == std::vector<std::string>{"5@" + b.server.node_id()};
  }));
  std::this_thread::sleep_for(100ms);  // the looped-back copy would have arrived by now
  EXPECT_EQ(echoes_on_b, 1);           // the publisher's own listener: in-process, exactly once

  auto phone = WsTestClient::open(a.transport.port(), "/?user=u1");
  auto laptop = WsTestClient::open(b.transport.port(), "/?user=u1");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "u:u1") == 2; }));
  shapes::v1::Text text;
  text.set_value("for u1");
  EXPECT_TRUE(b.server.to_user("u1").emit(shapes::v1::Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(phone->read(), R"({"t":"evt","e":"notice","d":{"value":"for u1"}})");
  EXPECT_EQ(laptop->read(), R"({"t":"evt","e":"notice","d":{"value":"for u1"}})");

  const std::string phone_id = a.server.core().connections().at(0)->id();
  text.set_value("just the phone");
  EXPECT_TRUE(b.server.to_conn(phone_id).emit(shapes::v1::Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(phone->read(), R"({"t":"evt","e":"notice","d":{"value":"just the phone"}})");
  EXPECT_TRUE(laptop->quiet_for(200ms));
  b.server.to_conn(phone_id).close();
  EXPECT_TRUE(phone->wait_closed(2s));
}

TEST(RedisPresence, CrashedNodesExpireAndStoppedNodesLeaveAtOnce) {
  RedisProcess redis;
  const std::vector<std::string> flags = {"--redis", redis.url(),         "--heartbeat-ms",
                                          "100",     "--presence-ttl-ms", "600"};
  auto with_name = [&](std::string name) {
    auto f = flags;
    f.insert(f.end(), {"--node", std::move(name)});
    return f;
  };
  ChatServerProcess a(with_name("a")), b(with_name("b"));
  RedisShapesNode observer(redis);  // asks the cluster, with no connections of its own
  // Generated clients answer the 100 ms pings on their own thread, so only the crash drops them.
  auto client = [](uint16_t port, std::string name) {
    superline::ClientOptions options;
    options.port = port;
    options.params = {{"name", std::move(name)}};
    options.reconnect = false;
    return std::make_unique<chat::ChatUserClient>(options);
  };
  auto ann = client(a.port(), "ann");
  auto bo = client(b.port(), "bo");
  ASSERT_TRUE(ann->connect().ok());
  ASSERT_TRUE(bo->connect().ok());
  auto count = [&] { return observer.server.core().cluster_count().value_or(999); };
  auto online = [&](const char* user) { return observer.server.core().is_online(user).value_or(false); };
  ASSERT_TRUE(eventually([&] { return count() == 2 && online("ann") && online("bo"); }));
  auto nodes = observer.server.core().topology();
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->size(), 3u);  // a, b and the observer

  kill(a.pid(), SIGKILL);  // a crash: nothing is cleaned up, the liveness key expires
  EXPECT_TRUE(online("ann"));
  EXPECT_TRUE(eventually([&] { return count() == 1 && !online("ann"); }, 3s));
  EXPECT_TRUE(online("bo"));

  EXPECT_EQ(b.stop(), 0);  // graceful: gone at once, not after the TTL
  EXPECT_EQ(count(), 0u);
  EXPECT_FALSE(online("bo"));
}

// Two nodes with a user each in room "lobby", both subscriptions live.
class RedisFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    on_a = a.user("ann");
    on_b = b.user("bo");
    on_a->request("join", R"({"room":"lobby"})");
    on_b->request("join", R"({"room":"lobby"})");
    ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 2; }));
  }
  RedisProcess redis;
  RedisChatNode a{redis}, b{redis};
  std::unique_ptr<WsTestClient> on_a, on_b;
};

TEST_F(RedisFaults, KilledAndRestartedRedisRecoversByItself) {
  redis.kill();
  ASSERT_TRUE(eventually([&] { return !a.healthy && !b.healthy; }));
  // During the outage: requests are still answered (replies never wait on Redis); what crosses
  // nodes is lost.
  // Once the publish connection has noticed too, publishes are dropped and counted, not queued.
  EXPECT_TRUE(eventually([&] {
    EXPECT_TRUE(has(on_b->request("send", R"({"room":"lobby","text":"lost"})"), R"("t":"res")"));
    return b.adapter->dropped_publishes() > 0;
  }));
  redis.restart();
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return a.healthy && b.healthy; }));
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 2; }, 2s));  // re-subscribed
  // A figure for the record, not an assertion: how long after Redis came back both nodes were
  // subscribed again (the reconnect backoff is capped at 1 s).
  RecordProperty("resubscribed_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         std::chrono::steady_clock::now() - back)
                                                         .count()));
  on_b->request("send", R"({"room":"lobby","text":"back"})");
  EXPECT_TRUE(has(on_a->read_until("back"), R"("text":"back")"));
}

TEST_F(RedisFaults, FrozenRedisIsDetectedAndRecovered) {
  redis.freeze();
  EXPECT_TRUE(eventually([&] { return !a.healthy && !b.healthy; }, 3s));  // PING deadline 500 ms
  EXPECT_TRUE(has(on_a->request("peers", "{}"), R"("t":"res")"));         // still serving
  redis.thaw();
  ASSERT_TRUE(eventually([&] { return a.healthy && b.healthy; }));
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 2; }));
  on_b->request("send", R"({"room":"lobby","text":"thawed"})");
  EXPECT_TRUE(has(on_a->read_until("thawed"), R"("text":"thawed")"));
}

TEST(RedisStall, AStalledNodeDoesNotBlockTheOthers) {
  RedisProcess redis;
  ChatServerProcess a({"--redis", redis.url(), "--node", "a"});
  ChatServerProcess b({"--redis", redis.url(), "--node", "b"});
  auto on_a = WsTestClient::open(a.port(), "/?role=user&name=ann");
  auto on_b = WsTestClient::open(b.port(), "/?role=user&name=bo");
  on_a->request("join", R"({"room":"lobby"})");
  on_b->request("join", R"({"room":"lobby"})");
  ASSERT_TRUE(eventually([&] { return subscribers(redis, "r:lobby") == 2; }));

  kill(a.pid(), SIGSTOP);  // node A stops reading anything, Redis included
  for (int i = 0; i < 50; ++i) {
    auto reply =
        on_b->request("send", R"({"room":"lobby","text":"while a sleeps )" + std::to_string(i) + R"("})");
    ASSERT_TRUE(has(reply, R"("t":"res")")) << i;
  }
  EXPECT_TRUE(has(on_b->read_until("while a sleeps 49"), R"("from":"bo")"));
  kill(a.pid(), SIGCONT);
  on_b->request("send", R"({"room":"lobby","text":"a is back"})");
  EXPECT_TRUE(has(on_a->read_until("a is back", 5s), R"("from":"bo")"));
}

}  // namespace
}  // namespace e2e
