// The chat_server binary over real sockets: every row of the reference example, the handshake, the
// error codes, malformed input, heartbeat and shutdown.
#include <gtest/gtest.h>

#include <thread>

#include "chat.pb.h"
#include "superline/wire.pb.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

class ChatServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<WsTestClient> user(const std::string& name) {
    return WsTestClient::open(server_.port(), "/?role=user&name=" + name);
  }
  std::unique_ptr<WsTestClient> agent(const std::string& name) {
    return WsTestClient::open(server_.port(), "/?role=agent&name=" + name);
  }
  ChatServerProcess server_;
};

TEST_F(ChatServerTest, HandshakeRejectsBadCredentialsWith401) {
  for (const char* target : {"/", "/?role=user", "/?role=admin&name=x", "/?role=user&name="}) {
    auto d = WsTestClient::dial(server_.port(), target);
    EXPECT_FALSE(d.upgraded) << target;
    EXPECT_EQ(d.http_status, 401) << target;
  }
  auto ok = WsTestClient::dial(server_.port(), "/any/path?role=user&name=ann%20lee");
  EXPECT_TRUE(ok.upgraded);
  EXPECT_EQ(ok.subprotocol, "");  // none offered, none selected (super-line clients)
}

TEST_F(ChatServerTest, NegotiatesTheJsonSubprotocolWhenOffered) {
  auto d = WsTestClient::dial(server_.port(), "/?role=user&name=a", "superline.v1");
  ASSERT_TRUE(d.upgraded);
  EXPECT_EQ(d.subprotocol, "superline.v1");
  EXPECT_EQ(d.client->read(), R"({"t":"env","d":null})");
}

TEST_F(ChatServerTest, JoinRepliesAndPublishesPresence) {
  auto watcher = user("watcher");
  watcher->send(R"({"t":"sub","i":1,"c":"presence"})");
  EXPECT_EQ(watcher->read(), R"({"t":"res","i":1,"d":null})");
  auto alice = user("alice");
  EXPECT_EQ(alice->request("join", R"({"room":"lobby"})"),
            R"({"t":"res","i":1001,"d":{"ok":true,"members":1}})");
  EXPECT_TRUE(has(watcher->read(), R"({"t":"pub","c":"presence","d":{"room":"lobby","count":1},"nd":")"));
  auto bob = user("bob");
  EXPECT_EQ(bob->request("join", R"({"room":"lobby"})"),
            R"({"t":"res","i":1001,"d":{"ok":true,"members":2}})");
  EXPECT_TRUE(has(watcher->read(), R"("d":{"room":"lobby","count":2})"));
}

TEST_F(ChatServerTest, LeaveRepliesAndPublishesPresence) {
  auto alice = user("alice");
  alice->request("join", R"({"room":"lobby"})");
  EXPECT_EQ(alice->request("leave", R"({"room":"lobby"})"),
            R"({"t":"res","i":1002,"d":{"ok":true,"members":0}})");
  EXPECT_EQ(alice->request("leave", R"({"room":"lobby"})"),
            R"({"t":"res","i":1003,"d":{"ok":false,"members":0}})");
}

TEST_F(ChatServerTest, PeersListsNobodyOnASingleNode) {
  auto alice = user("alice");
  auto reply = alice->request("peers", "{}");
  EXPECT_TRUE(has(reply, R"({"t":"res","i":1001,"d":{"self":")")) << *reply;
  EXPECT_TRUE(has(reply, R"(,"peers":[]}})")) << *reply;
}

TEST_F(ChatServerTest, SendBroadcastsToTheRoomSenderIncluded) {
  auto alice = user("alice"), bob = user("bob"), carol = user("carol");
  alice->request("join", R"({"room":"lobby"})");
  bob->request("join", R"({"room":"lobby"})");
  carol->request("join", R"({"room":"elsewhere"})");
  auto reply = alice->request("send", R"({"room":"lobby","text":"hi all"})");
  ASSERT_TRUE(has(reply, R"({"t":"res","i":1002,"d":{"id":")")) << *reply;
  EXPECT_FALSE(has(reply, R"("id":"")"));
  const std::string message =
      R"({"t":"evt","e":"message","d":{"room":"lobby","text":"hi all","from":"alice"}})";
  EXPECT_EQ(bob->read_until("message"), message);
  EXPECT_TRUE(has(alice->read_until("message", 500ms), "hi all"));  // sender included
  EXPECT_TRUE(carol->quiet_for(200ms));

  auto second = alice->request("send", R"({"room":"lobby","text":"again"})");
  EXPECT_NE(*second, *reply);  // ids are unique
}

TEST_F(ChatServerTest, SendFromANonMemberIsForbidden) {
  auto alice = user("alice");
  EXPECT_TRUE(has(alice->request("send", R"({"room":"lobby","text":"x"})"),
                  R"({"t":"err","i":1001,"code":"FORBIDDEN","m":"not a member of room 'lobby'"})"));
}

TEST_F(ChatServerTest, TypingReachesTheRoomExceptTheSender) {
  auto alice = user("alice"), bob = user("bob");
  alice->request("join", R"({"room":"lobby"})");
  bob->request("join", R"({"room":"lobby"})");
  alice->read_until("presence", 200ms);
  alice->send(R"({"t":"cev","m":"typing","d":{"room":"lobby"}})");
  EXPECT_EQ(bob->read_until("userTyping"),
            R"({"t":"evt","e":"userTyping","d":{"room":"lobby","from":"alice"}})");
  EXPECT_FALSE(alice->read_until("userTyping", 300ms).has_value());
}

TEST_F(ChatServerTest, AnnounceReachesSubscribedUsersOnly) {
  auto alice = user("alice"), ops = agent("ops");
  alice->send(R"({"t":"sub","i":1,"c":"announcements"})");
  EXPECT_EQ(alice->read(), R"({"t":"res","i":1,"d":null})");
  auto reply = ops->request("announce", R"({"text":"maintenance at noon"})");
  EXPECT_TRUE(has(reply, R"({"t":"res","i":1001,"d":{"id":")"));
  EXPECT_TRUE(
      has(alice->read(),
          R"({"t":"pub","c":"announcements","d":{"text":"maintenance at noon","from":"ops"},"nd":")"));
}

TEST_F(ChatServerTest, RolesSeeOnlyTheirSurfaceAndLearnNothingOfOthers) {
  auto alice = user("alice"), ops = agent("ops");
  EXPECT_EQ(alice->request("announce", R"({"text":"x"})"),
            R"({"t":"err","i":1001,"code":"NOT_FOUND","m":"Unknown message: announce"})");
  EXPECT_EQ(ops->request("send", R"({"room":"r","text":"x"})"),
            R"({"t":"err","i":1001,"code":"NOT_FOUND","m":"Unknown message: send"})");
  ops->send(R"({"t":"sub","i":5,"c":"announcements"})");
  EXPECT_EQ(ops->read(), R"({"t":"err","i":5,"code":"NOT_FOUND","m":"Unknown topic: announcements"})");
  EXPECT_TRUE(has(ops->request("join", R"({"room":"ops"})"), R"("ok":true)"));  // shared works for both
}

TEST_F(ChatServerTest, ErrorCodes) {
  auto alice = user("alice");
  EXPECT_EQ(alice->request("nope", "{}"),
            R"({"t":"err","i":1001,"code":"NOT_FOUND","m":"Unknown message: nope"})");
  EXPECT_EQ(alice->request("join", R"({"room":123})"),
            R"({"t":"err","i":1002,"code":"VALIDATION","m":"Validation failed","d":)"
            R"([{"path":["room"],"code":"invalid_type","message":"Expected string, received number"}]})");
  // The contract's constraints: room is required, at most 64 characters.
  EXPECT_EQ(alice->request("join", R"({"room":""})"),
            R"({"t":"err","i":1003,"code":"VALIDATION","m":"Validation failed","d":)"
            R"([{"path":["room"],"code":"invalid_type","message":"Required"}]})");
  alice->send(R"({"t":"sub","i":9,"c":"nope"})");
  EXPECT_EQ(alice->read(), R"({"t":"err","i":9,"code":"NOT_FOUND","m":"Unknown topic: nope"})");
}

TEST_F(ChatServerTest, UnknownFieldsAreIgnored) {
  auto alice = user("alice");
  EXPECT_EQ(alice->request("join", R"({"room":"lobby","fromTheFuture":[1,2]})"),
            R"({"t":"res","i":1001,"d":{"ok":true,"members":1}})");
}

TEST_F(ChatServerTest, MalformedFramesAreAnsweredAndTheConnectionStaysUp) {
  auto alice = user("alice");
  alice->send("{not json");
  EXPECT_TRUE(has(alice->read(), R"({"t":"err","code":"BAD_REQUEST","m":"malformed frame)"));
  alice->send(R"({"t":"teleport"})");
  EXPECT_EQ(alice->read(), R"({"t":"err","code":"BAD_REQUEST","m":"unknown frame type \"teleport\""})");
  alice->send(std::string("\xff\xfe", 2), /*binary=*/true);
  EXPECT_TRUE(has(alice->read(), R"("code":"BAD_REQUEST")"));
  // JSON in a binary frame is accepted (super-line relays through Redis arrive as binary).
  alice->send(R"({"t":"req","i":1,"m":"join","d":{"room":"b"}})", /*binary=*/true);
  EXPECT_EQ(alice->read(), R"({"t":"res","i":1,"d":{"ok":true,"members":1}})");
}

// superline.pb.v1: the same frames as binary superline.wire.Frame messages.
superline::wire::Frame binary_frame(const std::optional<std::string>& bytes) {
  superline::wire::Frame frame;
  EXPECT_TRUE(bytes.has_value());
  if (bytes) EXPECT_TRUE(frame.ParseFromString(*bytes));
  return frame;
}

TEST_F(ChatServerTest, BinarySubprotocolSpeaksProtobufFrames) {
  auto d = WsTestClient::dial(server_.port(), "/?role=user&name=alice", "superline.pb.v1, superline.v1");
  ASSERT_TRUE(d.upgraded);
  EXPECT_EQ(d.subprotocol, "superline.pb.v1");  // the client's first choice
  auto& alice = *d.client;
  EXPECT_EQ(binary_frame(alice.read()).t(), superline::wire::Frame::ENV);

  superline::wire::Frame req;
  req.set_t(superline::wire::Frame::REQ);
  req.set_i(7);
  req.set_m("join");
  chat::JoinRequest join;
  join.set_room("lobby");
  req.set_d(join.SerializeAsString());
  alice.send(req.SerializeAsString(), /*binary=*/true);
  superline::wire::Frame res = binary_frame(alice.read());
  EXPECT_EQ(res.t(), superline::wire::Frame::RES);
  EXPECT_EQ(res.i(), 7u);
  chat::JoinReply reply;
  ASSERT_TRUE(reply.ParseFromString(res.d()));
  EXPECT_TRUE(reply.ok());
  EXPECT_EQ(reply.members(), 1);

  // A broadcast reaches a JSON client and a binary client, each in its own encoding.
  auto bob = user("bob");
  EXPECT_TRUE(has(bob->request("join", R"({"room":"lobby"})"), R"("ok":true)"));
  EXPECT_TRUE(has(bob->request("send", R"({"room":"lobby","text":"hi"})"), R"("t":"res")"));
  superline::wire::Frame evt = binary_frame(alice.read());
  EXPECT_EQ(evt.t(), superline::wire::Frame::EVT);
  EXPECT_EQ(evt.e(), "message");
  chat::ChatMessage message;
  ASSERT_TRUE(message.ParseFromString(evt.d()));
  EXPECT_EQ(message.text(), "hi");
  EXPECT_EQ(message.from(), "bob");
  EXPECT_TRUE(has(bob->read_until("message"), R"("text":"hi","from":"bob")"));

  // Bad input: an ERR frame, and the connection stays up.
  alice.send(std::string("\xff\xfe\x01", 3), /*binary=*/true);
  superline::wire::Frame err = binary_frame(alice.read());
  EXPECT_EQ(err.t(), superline::wire::Frame::ERR);
  EXPECT_EQ(err.code(), "BAD_REQUEST");
  req.set_i(8);
  req.set_d(std::string("\x0a\xff", 2));  // a length running past the end: not a JoinRequest
  alice.send(req.SerializeAsString(), /*binary=*/true);
  err = binary_frame(alice.read());
  EXPECT_EQ(err.i(), 8u);
  EXPECT_EQ(err.code(), "VALIDATION");
  req.set_i(9);
  req.set_m("teleport");
  alice.send(req.SerializeAsString(), /*binary=*/true);
  err = binary_frame(alice.read());
  EXPECT_EQ(err.code(), "NOT_FOUND");
  EXPECT_EQ(err.m(), "Unknown message: teleport");
}

TEST_F(ChatServerTest, HugeNamesAreRefusedWithoutBeingEchoedBack) {
  auto alice = user("alice");
  const std::string huge(1'000'000, 'n');
  alice->send(R"({"t":"req","i":1,"m":")" + huge + R"(","d":{}})");
  auto err = alice->read();
  ASSERT_TRUE(has(err, R"("code":"NOT_FOUND","m":"Unknown message: nnn)"));
  EXPECT_LT(err->size(), 300u);
  alice->send(R"({"t":"sub","i":2,"c":")" + huge + R"("})");
  err = alice->read();
  ASSERT_TRUE(has(err, R"("code":"NOT_FOUND","m":"Unknown topic: nnn)"));
  EXPECT_LT(err->size(), 300u);
  alice->send(R"({"t":")" + huge + R"("})");
  err = alice->read();
  ASSERT_TRUE(has(err, R"("code":"BAD_REQUEST")"));
  EXPECT_LT(err->size(), 300u);
  EXPECT_TRUE(has(alice->request("join", R"({"room":"r"})"), R"("ok":true)"));
}

TEST_F(ChatServerTest, ThousandsOfSubscriptionsKeepMemoryBounded) {
  auto alice = user("alice");
  EXPECT_TRUE(has(alice->request("join", R"({"room":"r"})"), R"("ok":true)"));  // warm up
  const long before = rss_kb(server_.pid());
  for (int i = 0; i < 10000; ++i) {
    // The same topic again and again (idempotent), and names the contract does not have.
    alice->send(i % 2 == 0 ? R"({"t":"sub","i":)" + std::to_string(100000 + i) + R"(,"c":"presence"})"
                           : R"({"t":"sub","i":)" + std::to_string(100000 + i) + R"(,"c":"topic)" +
                                 std::to_string(i) + R"("})");
  }
  EXPECT_TRUE(has(alice->read_until(R"("i":109999,)", 10s), R"("code":"NOT_FOUND")"));
  EXPECT_LT(rss_kb(server_.pid()) - before, 10 * 1024);  // no state per refused or repeated subscription
  EXPECT_TRUE(has(alice->request("join", R"({"room":"s"})"), R"("ok":true)"));
}

TEST_F(ChatServerTest, OversizeMessageClosesWith1009) {
  auto alice = user("alice");
  alice->send(R"({"t":"req","i":1,"m":"join","d":{"room":")" + std::string(2 << 20, 'x') + R"("}})");
  EXPECT_TRUE(alice->wait_closed(5s));
  EXPECT_EQ(alice->close_code(), 1009);
  auto bob = user("bob");  // the server keeps serving others
  EXPECT_TRUE(has(bob->request("join", R"({"room":"r"})"), R"("ok":true)"));
}

TEST_F(ChatServerTest, GracefulShutdownClosesWith1001) {
  auto alice = user("alice");
  int exit_status = -2;
  std::thread stopper([&] { exit_status = server_.stop(); });
  EXPECT_TRUE(alice->wait_closed(3s));  // reading, so the close handshake completes
  EXPECT_EQ(alice->close_code(), 1001);
  stopper.join();
  EXPECT_EQ(exit_status, 0);
}

TEST(ChatServerHeartbeat, PingsAndDropsClientsThatStopAnswering) {
  ChatServerProcess server({"--heartbeat-ms", "100"});
  auto silent = WsTestClient::open(server.port(), "/?role=user&name=s");
  auto lively = WsTestClient::open(server.port(), "/?role=user&name=l");
  silent->answer_pings(false);
  // Both read side by side (a client answers pings only while reading).
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!silent->closed() && std::chrono::steady_clock::now() < deadline) {
    silent->read(10ms);
    lively->read(10ms);
  }
  EXPECT_TRUE(silent->closed());  // 2 missed pings at 100 ms
  for (int i = 0; i < 50; ++i) lively->read(10ms);
  EXPECT_FALSE(lively->closed());  // answers, so stays
  EXPECT_TRUE(has(lively->request("join", R"({"room":"r"})"), R"("ok":true)"));
}

}  // namespace
}  // namespace e2e
