// The generated C++ clients against in-process servers: typed calls, events, topics, errors,
// per-call timeouts, DISCONNECTED on a drop, and reconnect with re-subscription.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>

#include "../support/eventually.h"
#include "../support/shapes_app.h"
#include "chat_app.h"
#include "reserved.superline.h"
#include "superline/rendezvous.h"
#include "superline/validation.h"
#include "superline/websocket.h"
#include "superline/wire.pb.h"

namespace {

using namespace std::chrono_literals;

using testing_support::eventually;

// Every test runs on both wires: superline.v1 (JSON) and superline.pb.v1 (binary).
std::string wire_name(const ::testing::TestParamInfo<superline::Wire>& info) {
  return info.param == superline::Wire::kJson ? "Json" : "Protobuf";
}

superline::ClientOptions options_for(uint16_t port, std::string name,
                                     superline::Wire wire = superline::Wire::kJson) {
  superline::ClientOptions options;
  options.port = port;
  options.wire = wire;
  options.params = {{"name", std::move(name)}};
  options.backoff.base = 20ms;
  options.backoff.max = 200ms;
  return options;
}

class ChatClientTest : public ::testing::TestWithParam<superline::Wire> {
 protected:
  ChatClientTest() {
    chat::configure(server_, app_);
    EXPECT_TRUE(transport_->start().ok());
  }
  uint16_t port() const { return transport_->port(); }
  chat::ChatApp app_;
  chat::ChatServer server_{app_};
  std::unique_ptr<superline::WebSocketServer> transport_ =
      std::make_unique<superline::WebSocketServer>(server_, superline::ListenOptions{});
};

TEST_P(ChatClientTest, TypedRequestsEventsAndTopics) {
  chat::ChatUserClient alice(options_for(port(), "alice", GetParam()));
  ASSERT_TRUE(alice.connect().ok());
  std::atomic<int> messages{0};
  std::atomic<int> presence{0};
  alice.on(chat::Chat::Shared::kMessage, [&](const chat::ChatMessage& m) {
    if (m.text() == "hi" && m.from() == "alice") ++messages;
  });
  ASSERT_TRUE(alice
                  .subscribe(chat::Chat::Shared::kPresence,
                             [&](const chat::PresenceUpdate& p) {
                               if (p.room() == "lobby") presence = p.count();
                             })
                  .ok());

  chat::JoinRequest join;
  join.set_room("lobby");
  auto joined = alice.join(join);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_TRUE(joined->ok());
  EXPECT_EQ(joined->members(), 1);
  EXPECT_TRUE(eventually([&] { return presence == 1; }));

  chat::SendRequest send;
  send.set_room("lobby");
  send.set_text("hi");
  auto sent = alice.send(send);
  ASSERT_TRUE(sent.ok());
  EXPECT_FALSE(sent->id().empty());
  EXPECT_TRUE(eventually([&] { return messages == 1; }));

  alice.unsubscribe(chat::Chat::Shared::kPresence);
  chat::LeaveRequest leave;
  leave.set_room("lobby");
  ASSERT_TRUE(alice.leave(leave).ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(presence, 1);  // the count 0 was published after unsubscribing
}

TEST_P(ChatClientTest, OneBroadcastReachesClientsOfBothWires) {
  const superline::Wire other =
      GetParam() == superline::Wire::kJson ? superline::Wire::kProtobuf : superline::Wire::kJson;
  chat::ChatUserClient alice(options_for(port(), "alice", GetParam()));
  chat::ChatUserClient bob(options_for(port(), "bob", other));
  ASSERT_TRUE(alice.connect().ok());
  ASSERT_TRUE(bob.connect().ok());
  std::atomic<int> got{0};
  auto count_hi = [&](const chat::ChatMessage& m) {
    if (m.text() == "hi" && m.from() == "alice") ++got;
  };
  alice.on(chat::Chat::Shared::kMessage, count_hi);
  bob.on(chat::Chat::Shared::kMessage, count_hi);
  chat::JoinRequest join;
  join.set_room("lobby");
  ASSERT_TRUE(alice.join(join).ok());
  ASSERT_TRUE(bob.join(join).ok());
  chat::SendRequest send;
  send.set_room("lobby");
  send.set_text("hi");
  ASSERT_TRUE(alice.send(send).ok());
  EXPECT_TRUE(eventually([&] { return got == 2; }));
}

TEST_P(ChatClientTest, ErrorsCarryTheirWireCode) {
  chat::ChatUserClient alice(options_for(port(), "alice", GetParam()));
  ASSERT_TRUE(alice.connect().ok());
  chat::SendRequest send;
  send.set_room("nowhere");
  send.set_text("hello?");
  auto refused = alice.send(send);
  EXPECT_EQ(superline::error_code(refused.status()), "FORBIDDEN");
  EXPECT_EQ(refused.status().message(), "not a member of room 'nowhere'");

  chat::JoinRequest empty;  // room is required
  EXPECT_EQ(superline::error_code(alice.join(empty).status()), "VALIDATION");
  EXPECT_EQ(superline::validation_issues(alice.join(empty).status()),
            (std::vector<superline::ValidationIssue>{{{"room"}, "invalid_type", "Required"}}));
}

// Refused with 401 the client hears why, and does not come back with the same credentials even
// with reconnect on.
TEST_P(ChatClientTest, RejectedHandshakeIsUnauthorizedAndNotRetried) {
  chat::ChatUserClient nobody(options_for(port(), "", GetParam()));
  absl::Status status = nobody.connect(2s);
  EXPECT_EQ(superline::error_code(status), "UNAUTHORIZED") << status;
  EXPECT_EQ(status.message(), "name is required");
  chat::JoinRequest join;
  join.set_room("r");
  EXPECT_EQ(superline::error_code(nobody.join(join, {.timeout = 2s}).status()), "UNAUTHORIZED");  // at once
  EXPECT_EQ(nobody.core().opens(), 0);
  EXPECT_EQ(server_.core().connection_count(), 0u);
}

TEST_P(ChatClientTest, ReconnectsAndResubscribes) {
  chat::ChatUserClient alice(options_for(port(), "alice", GetParam()));
  ASSERT_TRUE(alice.connect().ok());
  std::atomic<int> announcements{0};
  ASSERT_TRUE(
      alice.subscribe(chat::Chat::User::kAnnouncements, [&](const chat::Announcement&) { ++announcements; })
          .ok());

  const uint16_t first_port = port();
  transport_.reset();  // the server goes away: every connection drops
  EXPECT_TRUE(eventually([&] { return !alice.connected(); }));
  superline::ListenOptions same_port;
  same_port.port = first_port;
  transport_ = std::make_unique<superline::WebSocketServer>(server_, same_port);
  ASSERT_TRUE(transport_->start().ok());

  ASSERT_TRUE(
      eventually([&] { return alice.core().opens() == 2 && server_.core().connection_count() == 1; }));
  // The subscription was re-sent on reopen: an announcement reaches the client again.
  ASSERT_TRUE(eventually([&] {
    chat::Announcement a;
    a.set_text("back");
    EXPECT_TRUE(server_.for_role(chat::Chat::kUser).publish(chat::Chat::User::kAnnouncements, a).ok());
    return announcements > 0;
  }));
}

// The upgrade names the server's contract; a client of the same build hears its own id and logs
// nothing, one of another version logs it once however often it reconnects.
TEST_P(ChatClientTest, TheServerNamesItsContractAndAnotherVersionIsLoggedOnce) {
  std::mutex mu;
  std::vector<std::string> warnings;
  auto sink = [&](const superline::LogRecord& r) {
    std::lock_guard lock(mu);
    warnings.push_back(superline::format_log_text(r));
  };
  superline::ClientOptions same = options_for(port(), "alice", GetParam());
  same.log = sink;
  chat::ChatUserClient alice(same);
  EXPECT_EQ(alice.server_contract(), "");  // before the first upgrade
  ASSERT_TRUE(alice.connect().ok());
  EXPECT_EQ(alice.server_contract(), chat::ChatUserClient::contract_id());
  EXPECT_TRUE(std::regex_match(std::string(chat::ChatUserClient::contract_id()), std::regex("chat\\.Chat@[0-9a-f]{16}")))
      << chat::ChatUserClient::contract_id();

  superline::ClientOptions other = options_for(port(), "bob", GetParam());
  other.params.emplace_back("role", "user");
  other.contract_id = "chat.Chat@00000000000000ff";
  other.log = sink;
  superline::ClientCore bob(other);
  ASSERT_TRUE(bob.connect(5s).ok());
  EXPECT_EQ(bob.server_contract(), chat::ChatUserClient::contract_id());
  server_.core().close_user("bob", 1012, "restart");  // a close the client reconnects after
  ASSERT_TRUE(eventually([&] { return bob.opens() == 2 && bob.connected(); }));

  std::lock_guard lock(mu);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "superline warning: the server speaks another version of the contract "
                         "server_contract=" + std::string(chat::ChatUserClient::contract_id()) +
                         " client_contract=chat.Chat@00000000000000ff");
}

INSTANTIATE_TEST_SUITE_P(Wires, ChatClientTest,
                         ::testing::Values(superline::Wire::kJson, superline::Wire::kProtobuf), wire_name);

class ShapesClientTest : public ::testing::TestWithParam<superline::Wire> {
 protected:
  ShapesClientTest() {
    server_.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
      if (h.query_param("role").value_or("") == "member")
        return shapes::v1::Shapes::admit(shapes::v1::Shapes::Role::kMember);
      return shapes::v1::Shapes::admit(shapes::v1::Shapes::Role::kShared);
    });
    EXPECT_TRUE(transport_.start().ok());
  }
  testing_support::ShapesApp app_;
  shapes::v1::ShapesServer server_{app_};
  superline::WebSocketServer transport_{server_, {}};
};

TEST_P(ShapesClientTest, PerCallTimeoutAndCustomCodes) {
  shapes::v1::ShapesSharedClient client(options_for(transport_.port(), "x", GetParam()));
  ASSERT_TRUE(client.connect().ok());
  shapes::v1::Text text;
  text.set_value("long");
  auto late = client.slow(text, {.timeout = 50ms});
  EXPECT_EQ(superline::error_code(late.status()), "TIMEOUT");
  EXPECT_EQ(late.status().message(), "Request 'slow' timed out");
  EXPECT_EQ(superline::error_code(client.limited(text).status()), "RATE_LIMITED");
  text.set_value("quick");
  auto quick = client.slow(text);
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->value(), "quick!");
}

TEST_P(ShapesClientTest, InFlightRequestsFailDisconnectedWhenTheConnectionDrops) {
  superline::ClientOptions options = options_for(transport_.port(), "x", GetParam());
  options.reconnect = false;
  shapes::v1::ShapesSharedClient client(options);
  ASSERT_TRUE(client.connect().ok());
  shapes::v1::Text text;
  text.set_value("long");
  superline::Rendezvous<absl::Status> result;
  client.async_slow(text, [&](absl::StatusOr<shapes::v1::Text> r) { result.set(r.status()); });
  // Sent or still queued when the connection drops, the request fails the same way.
  transport_.stop(0ms);
  std::optional<absl::Status> outcome = result.wait_for(2s);
  ASSERT_TRUE(outcome.has_value());
  const absl::Status status = *outcome;
  EXPECT_EQ(superline::error_code(status), "DISCONNECTED") << status;
  EXPECT_EQ(status.message(), "Connection closed");
}

TEST_P(ShapesClientTest, ClientEventsAndServerEvents) {
  shapes::v1::ShapesMemberClient member(options_for(transport_.port(), "m", GetParam()));
  ASSERT_TRUE(member.connect().ok());
  std::atomic<int> notices{0};
  member.on(shapes::v1::Shapes::Shared::kNotice, [&](const shapes::v1::Text& t) {
    if (t.value() == "poked:p") ++notices;
  });
  shapes::v1::Text poke;
  poke.set_value("p");
  ASSERT_TRUE(member.poke(poke).ok());
  EXPECT_TRUE(eventually([&] { return notices == 1; }));
  auto posted = member.post(poke);
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->value(), 1);
}

// The connection's id on the server (the only one).
std::string only_conn_id(shapes::v1::ShapesServer& server) {
  std::string id;
  EXPECT_TRUE(eventually([&] {
    auto conns = server.core().connections();
    if (conns.size() == 1) id = conns[0]->id();
    return conns.size() == 1;
  }));
  return id;
}

// With reconnect off and the connection gone there is nothing to wait for: every call fails at
// once, each callback runs once, and none runs after close().
TEST_P(ShapesClientTest, FailsFastWhenItWillNotReconnect) {
  superline::ClientOptions options = options_for(transport_.port(), "x", GetParam());
  options.reconnect = false;
  auto client = std::make_unique<shapes::v1::ShapesSharedClient>(options);
  ASSERT_TRUE(client->connect().ok());
  server_.to_conn(only_conn_id(server_)).close();
  ASSERT_TRUE(eventually([&] { return !client->connected(); }));
  shapes::v1::Text text;
  text.set_value("x");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(superline::error_code(client->echo(text, {.timeout = 3s}).status()), "DISCONNECTED");
  EXPECT_EQ(superline::error_code(client->subscribe(shapes::v1::Shapes::Shared::kTicker,
                                                    [](const shapes::v1::Tick&) {}, {.timeout = 3s})),
            "DISCONNECTED");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // not the 3 s timeouts
  auto calls = std::make_shared<std::atomic<int>>(0);
  client->async_subscribe(shapes::v1::Shapes::Shared::kTicker, [](const shapes::v1::Tick&) {},
                          [calls](absl::Status) { ++*calls; });
  EXPECT_TRUE(eventually([&] { return *calls == 1; }));
  client->close();
  client.reset();  // the destructor runs nothing more
  EXPECT_EQ(*calls, 1);
}

// What the client would otherwise drop reaches on_error: an event whose payload does not decode, and
// an err without "i".
TEST_P(ShapesClientTest, ErrorHookHearsWhatWouldBeDropped) {
  shapes::v1::ShapesSharedClient client(options_for(transport_.port(), "x", GetParam()));
  std::mutex mu;
  std::vector<std::string> errors;
  client.on_error([&](const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(superline::error_code(s) + ": " + std::string(s.message()));
  });
  std::atomic<int> notices{0};
  client.on(shapes::v1::Shapes::Shared::kNotice, [&](const shapes::v1::Text&) { ++notices; });
  ASSERT_TRUE(client.connect().ok());
  const std::string id = only_conn_id(server_);
  auto bad_event = std::make_shared<superline::EncodedFrame>();
  bad_event->json = R"({"t":"evt","e":"notice","d":{"value":123}})";
  superline::wire::Frame evt;
  evt.set_t(superline::wire::Frame::EVT);
  evt.set_e("notice");
  evt.set_d(std::string("\x0a\x05", 2) + "ab");  // a length running past the end
  bad_event->binary = evt.SerializeAsString();
  ASSERT_TRUE(server_.core().send_to_conn(id, bad_event).ok());
  auto connection_error = std::make_shared<superline::EncodedFrame>();
  connection_error->json = R"({"t":"err","code":"BAD_REQUEST","m":"that was not a frame"})";
  superline::wire::Frame err;
  err.set_t(superline::wire::Frame::ERR);
  err.set_code("BAD_REQUEST");
  err.set_m("that was not a frame");
  connection_error->binary = err.SerializeAsString();
  ASSERT_TRUE(server_.core().send_to_conn(id, connection_error).ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return errors.size() == 2;
  }));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(errors[0].rfind("VALIDATION: event 'notice' does not decode", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1], "BAD_REQUEST: that was not a frame");
  EXPECT_EQ(notices, 0);
}

// kick() closes with 4000 and a reason: the client stays away and says why. A plain close (1000)
// is followed by a reconnect, as after network loss, 1001 or 1013.
TEST_P(ShapesClientTest, KickedClientsStayAwayClosedOnesReconnect) {
  shapes::v1::ShapesSharedClient client(options_for(transport_.port(), "x", GetParam()));
  std::mutex mu;
  std::vector<std::pair<uint16_t, std::string>> closes;
  client.on_close([&](uint16_t code, std::string_view reason) {
    std::lock_guard<std::mutex> lock(mu);
    closes.emplace_back(code, std::string(reason));
  });
  ASSERT_TRUE(client.connect().ok());
  server_.to_conn(only_conn_id(server_)).close();
  ASSERT_TRUE(eventually([&] { return client.core().opens() == 2 && client.connected(); }));  // back

  server_.to_conn(only_conn_id(server_)).kick("banned for spam");
  ASSERT_TRUE(eventually([&] { return !client.connected(); }));
  shapes::v1::Text text;
  const absl::Status refused = client.echo(text).status();
  EXPECT_EQ(superline::error_code(refused), "DISCONNECTED");
  EXPECT_EQ(refused.message(), "the server closed with 4000: banned for spam");
  // Reconnects here take at most 200 ms (options_for): five times that passes with no attempt.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(client.core().opens(), 2);
  EXPECT_EQ(server_.core().connection_count(), 0u);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(closes.size(), 2u);
  EXPECT_EQ(closes[0].first, 1000);
  EXPECT_EQ(closes[1], (std::pair<uint16_t, std::string>{4000, "banned for spam"}));
}

INSTANTIATE_TEST_SUITE_P(Wires, ShapesClientTest,
                         ::testing::Values(superline::Wire::kJson, superline::Wire::kProtobuf), wire_name);

// Method names the generated C++ cannot use as they are (a keyword, the client's connect/close/
// subscribe, the handlers' server()) are escaped with a trailing underscore; the wire keeps the rpc
// names, and the client's own connect()/close() still work.
namespace reserved_names {

using reserved::v1::Reserved;
using reserved::v1::Word;

Word word(const std::string& value) {
  Word w;
  w.set_value(value);
  return w;
}

class ReservedApp final : public Reserved::Handlers {
 public:
  superline::Reply<Word> delete_(superline::Call<Word, Reserved::Shared>&, const Word& w) override { return word("delete:" + w.value()); }
  superline::Reply<Word> connect_(superline::Call<Word, Reserved::Shared>&, const Word& w) override { return word("connect:" + w.value()); }
  superline::Reply<Word> subscribe_(superline::Call<Word, Reserved::Shared>&, const Word& w) override {
    return word("subscribe:" + w.value());
  }
  superline::Reply<Word> server_(superline::Call<Word, Reserved::Shared>&, const Word& w) override {
    return word("server:" + w.value() + (server().core().connection_count() == 1 ? "" : "?"));  // server() intact
  }
  void close_(superline::RoleConn<Reserved::Shared> conn, const Word& w) override {
    (void)conn.emit(Reserved::Shared::kTemplate, word("closed:" + w.value()));
  }
};

static_assert(Reserved::Shared::Delete::kName == "delete" && Reserved::Shared::Close::kName == "close",
              "the wire keeps the rpc names");

TEST_P(ShapesClientTest, EscapedNamesWorkOnEitherWire) {
  ReservedApp app;
  reserved::v1::ReservedServer server(app);
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  reserved::v1::ReservedSharedClient client(options_for(transport.port(), "r", GetParam()));
  ASSERT_TRUE(client.connect().ok());  // the client's own connect()
  EXPECT_EQ(client.delete_(word("a"))->value(), "delete:a");
  EXPECT_EQ(client.connect_(word("b"))->value(), "connect:b");
  EXPECT_EQ(client.subscribe_(word("c"))->value(), "subscribe:c");
  EXPECT_EQ(client.server_(word("d"))->value(), "server:d");
  superline::Rendezvous<std::string> async_answer;
  client.async_subscribe_(word("e"), [&](absl::StatusOr<Word> r) { async_answer.set(r.ok() ? r->value() : "error"); });
  EXPECT_EQ(async_answer.wait_for(2s), "subscribe:e");
  superline::Rendezvous<std::string> event;
  client.on(Reserved::Shared::kTemplate, [&](const Word& w) { event.set(w.value()); });
  ASSERT_TRUE(client.close_(word("f")).ok());
  EXPECT_EQ(event.wait_for(2s), "closed:f");
  client.close();  // and its own close()
  EXPECT_FALSE(client.connected());
}

}  // namespace reserved_names

}  // namespace
