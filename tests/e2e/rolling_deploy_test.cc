// A rolling deploy, tested: chat_server (the contract as released) and chat_server_v2 (the next
// version: a request, an event, a topic and two fields more; tests/rolling/v2/chat.proto) on one
// real Redis, with clients of both versions on each node, on both wires. v2's new methods are
// NOT_FOUND on the v1 node, v2's new fields are skipped by v1 readers, a broadcast made on the v2
// node reaches the v1 node's clients intact, and nothing crashes or disconnects.
#include <gtest/gtest.h>
#include <signal.h>

#include "../support/redis_process.h"
#include "chat.pb.h"
#include "superline/wire.pb.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

using superline::wire::Frame;
using testing_support::RedisProcess;

// A binary (superline.pb.v1) client speaking raw frames: what a v1 or a v2 client sends is bytes.
class BinaryClient {
 public:
  BinaryClient(uint16_t port, const std::string& name) {
    auto dialed = WsTestClient::dial(port, "/?role=user&name=" + name, "superline.pb.v1");
    EXPECT_TRUE(dialed.upgraded);
    contract = dialed.contract;
    ws_ = std::move(dialed.client);
    ws_->read();  // env
  }

  // Sends a REQ and returns the RES or ERR that answers it, skipping events.
  Frame request(const std::string& method, const std::string& payload) {
    Frame req;
    req.set_t(Frame::REQ);
    req.set_i(++id_);
    req.set_m(method);
    req.set_d(payload);
    ws_->send(req.SerializeAsString(), /*binary=*/true);
    for (;;) {
      Frame f = next();
      if (f.t() == Frame::TYPE_UNSPECIFIED || ((f.t() == Frame::RES || f.t() == Frame::ERR) && f.i() == id_)) return f;
      kept_.push_back(f);
    }
  }
  Frame subscribe(const std::string& topic) {
    Frame sub;
    sub.set_t(Frame::SUB);
    sub.set_i(++id_);
    sub.set_c(topic);
    ws_->send(sub.SerializeAsString(), /*binary=*/true);
    for (;;) {
      Frame f = next();
      if (f.t() == Frame::TYPE_UNSPECIFIED || f.i() == id_) return f;
      kept_.push_back(f);
    }
  }
  // The next event named `event` (kept or new); an empty frame on timeout.
  Frame event(const std::string& event) {
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (it->t() == Frame::EVT && it->e() == event) {
        Frame f = *it;
        kept_.erase(it);
        return f;
      }
    }
    for (;;) {
      Frame f = next();
      if (f.t() == Frame::TYPE_UNSPECIFIED || (f.t() == Frame::EVT && f.e() == event)) return f;
    }
  }
  bool closed() const { return ws_->closed(); }
  std::string contract;

 private:
  Frame next() {
    Frame f;
    auto bytes = ws_->read(5s);
    if (!bytes || !f.ParseFromString(*bytes)) return Frame();
    return f;
  }
  std::unique_ptr<WsTestClient> ws_;
  uint64_t id_ = 0;
  std::vector<Frame> kept_;
};

std::string join(const std::string& room) {
  chat::JoinRequest r;
  r.set_room(room);
  return r.SerializeAsString();
}

// A v2 SendRequest: v1's fields, and field 3 (mood), which v1 does not know.
std::string send_v2(const std::string& room, const std::string& text, const std::string& mood) {
  chat::SendRequest r;
  r.set_room(room);
  r.set_text(text);
  std::string bytes = r.SerializeAsString();
  bytes += '\x1a';  // field 3, length-delimited
  bytes += static_cast<char>(mood.size());
  return bytes + mood;
}

bool alive(const ChatServerProcess& p) { return kill(p.pid(), 0) == 0; }

TEST(RollingDeploy, V1AndV2NodesServeV1AndV2ClientsOnBothWiresOnOneRedis) {
  RedisProcess redis;
  ChatServerProcess v1({"--redis", redis.url(), "--node", "v1", "--drain-ms", "100"});
  ChatServerProcess v2({"--redis", redis.url(), "--node", "v2", "--drain-ms", "100"}, 0, {.binary = CHAT_SERVER_V2_PATH});

  // JSON and binary clients on each node.
  auto json_on_v1 = WsTestClient::dial(v1.port(), "/?role=user&name=j1");
  auto json_on_v2 = WsTestClient::dial(v2.port(), "/?role=user&name=j2");
  ASSERT_TRUE(json_on_v1.upgraded && json_on_v2.upgraded);
  WsTestClient& j1 = *json_on_v1.client;
  WsTestClient& j2 = *json_on_v2.client;
  j1.read();
  j2.read();  // env
  BinaryClient b1(v1.port(), "b1"), b2(v2.port(), "b2");

  // Each node names its own contract at the upgrade: same package and name, another hash.
  EXPECT_EQ(json_on_v1.contract.rfind("chat.Chat@", 0), 0u) << json_on_v1.contract;
  EXPECT_EQ(json_on_v2.contract.rfind("chat.Chat@", 0), 0u) << json_on_v2.contract;
  EXPECT_NE(json_on_v1.contract, json_on_v2.contract);
  EXPECT_EQ(b1.contract, json_on_v1.contract);
  EXPECT_EQ(b2.contract, json_on_v2.contract);

  for (WsTestClient* c : {&j1, &j2}) ASSERT_TRUE(has(c->request("join", R"({"room":"deploy"})"), R"("ok":true)"));
  for (BinaryClient* c : {&b1, &b2}) ASSERT_EQ(c->request("join", join("deploy")).t(), Frame::RES);

  // v2's request: NOT_FOUND on the v1 node, on both wires; answered on the v2 node.
  EXPECT_EQ(j1.request("whoami", R"({"room":"deploy"})"),
            R"({"t":"err","i":1002,"code":"NOT_FOUND","m":"Unknown message: whoami"})");
  const Frame refused = b1.request("whoami", join("deploy"));  // WhoamiRequest's field 1 is room too
  EXPECT_EQ(refused.t(), Frame::ERR);
  EXPECT_EQ(refused.code(), "NOT_FOUND");
  // v2's topic likewise.
  j1.send(R"({"t":"sub","i":7,"c":"rooms"})");
  EXPECT_EQ(j1.read(), R"({"t":"err","i":7,"code":"NOT_FOUND","m":"Unknown topic: rooms"})");
  EXPECT_EQ(b1.subscribe("rooms").code(), "NOT_FOUND");
  j2.send(R"({"t":"sub","i":7,"c":"rooms"})");
  EXPECT_EQ(j2.read(), R"({"t":"res","i":7,"d":null})");
  EXPECT_EQ(b2.subscribe("rooms").t(), Frame::RES);

  // v2's new request field, sent to the v1 node on both wires: skipped, the message goes out.
  EXPECT_TRUE(has(j1.request("send", R"({"room":"deploy","text":"json v2 to v1","mood":"calm"})"), R"("t":"res")"));
  EXPECT_EQ(b1.request("send", send_v2("deploy", "binary v2 to v1", "calm")).t(), Frame::RES);
  for (const char* text : {"json v2 to v1", "binary v2 to v1"}) {
    EXPECT_TRUE(has(j2.read_until(text, 5s), std::string(R"("text":")") + text));  // reached the v2 node too
    chat::ChatMessage m;
    ASSERT_TRUE(m.ParseFromString(b2.event("message").d()));
    EXPECT_EQ(m.text(), text);
  }
  for (const char* text : {"json v2 to v1", "binary v2 to v1"}) {
    EXPECT_TRUE(has(j1.read_until(text, 5s), text));
    chat::ChatMessage m;
    ASSERT_TRUE(m.ParseFromString(b1.event("message").d()));
    EXPECT_EQ(m.text(), text);
  }

  // A broadcast made on the v2 node, with a field v1 does not know, reaches the v1 node's clients
  // intact: the JSON bytes as the v2 node encoded them, and binary bytes a v1 reader parses.
  EXPECT_TRUE(has(j2.request("whoami", R"({"room":"deploy"})"), R"({"name":"j2","node":"v2"})"));
  EXPECT_TRUE(has(j2.read_until(R"("e":"nudged")", 5s), R"({"from":"j2"})"));
  const auto on_v1 = j1.read_until("from v2", 5s);
  EXPECT_TRUE(has(on_v1, R"({"t":"evt","e":"message","d":{"room":"deploy","text":"from v2","from":"j2","sentAt":"42"}})"))
      << on_v1.value_or("");
  chat::ChatMessage v1_reads;
  ASSERT_TRUE(v1_reads.ParseFromString(b1.event("message").d()));
  EXPECT_EQ(v1_reads.text(), "from v2");
  EXPECT_EQ(v1_reads.from(), "j2");
  EXPECT_FALSE(v1_reads.GetReflection()->GetUnknownFields(v1_reads).empty());  // sent_at, kept unread

  // Nothing crashed or disconnected: every client still talks to its node.
  for (WsTestClient* c : {&j1, &j2}) {
    EXPECT_FALSE(c->closed());
    EXPECT_TRUE(has(c->request("leave", R"({"room":"deploy"})"), R"("ok":true)"));
  }
  for (BinaryClient* c : {&b1, &b2}) {
    EXPECT_FALSE(c->closed());
    EXPECT_EQ(c->request("leave", join("deploy")).t(), Frame::RES);
  }
  EXPECT_TRUE(alive(v1));
  EXPECT_TRUE(alive(v2));
  EXPECT_EQ(v1.stop(), 0);
  EXPECT_EQ(v2.stop(), 0);
}

}  // namespace
}  // namespace e2e
