// The core against the in-memory bus, with recording outboxes instead of sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/shapes_app.h"
#include "superline/channel.pb.h"
#include "superline/internal/transport_port.h"
#include "superline/server.h"
#include "superline/wire.pb.h"

namespace {

using shapes::v1::Shapes;
using shapes::v1::ShapesServer;
using shapes::v1::Text;
using testing_support::ShapesApp;

class RecordingOutbox final : public superline::Outbox {
 public:
  void send(superline::SharedFrame frame) override {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back(std::move(frame));
  }
  void close(uint16_t code, std::string_view) override {
    std::lock_guard<std::mutex> lock(mu_);
    close_code_ = code;
  }
  void terminate() override {
    std::lock_guard<std::mutex> lock(mu_);
    terminated_ = true;
  }

  std::vector<std::string> texts() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& f : frames_) out.push_back(f->json);
    return out;
  }
  std::vector<superline::SharedFrame> frames() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }
  std::string last() {
    auto all = texts();
    return all.empty() ? std::string() : all.back();
  }
  // Waits for a frame containing `needle` (handlers may answer from another thread).
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& t : texts()) {
        if (t.find(needle) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  size_t count(const std::string& needle) {
    size_t n = 0;
    for (const auto& t : texts()) n += t.find(needle) != std::string::npos;
    return n;
  }
  uint16_t close_code() {
    std::lock_guard<std::mutex> lock(mu_);
    return close_code_;
  }
  bool terminated() {
    std::lock_guard<std::mutex> lock(mu_);
    return terminated_;
  }

 private:
  std::mutex mu_;
  std::vector<superline::SharedFrame> frames_;
  uint16_t close_code_ = 0;
  bool terminated_ = false;
};

// Counts what the server asks of its adapter, passing everything to a MemoryAdapter.
class CountingAdapter final : public superline::Adapter {
 public:
  explicit CountingAdapter(std::shared_ptr<superline::MemoryBus> bus) : inner_(std::move(bus)) {}
  void set_handler(MessageHandler handler) override { inner_.set_handler(std::move(handler)); }
  void subscribe(const std::string& channel, Done done) override {
    ++subscribes[channel];
    inner_.subscribe(channel, std::move(done));
  }
  void unsubscribe(const std::string& channel) override {
    ++unsubscribes[channel];
    inner_.unsubscribe(channel);
  }
  void publish(const std::string& channel, superline::Envelope payload) override {
    ++publishes;
    inner_.publish(channel, std::move(payload));
  }
  std::map<std::string, int> subscribes, unsubscribes;
  int publishes = 0;

 private:
  superline::MemoryAdapter inner_;
};

struct Client {
  std::shared_ptr<RecordingOutbox> outbox = std::make_shared<RecordingOutbox>();
  std::shared_ptr<superline::Conn> conn;
};

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() {
    server_.on_error(
        [this](const absl::Status& s, const superline::ErrorInfo&) { errors_.push_back(s.ToString()); });
  }

  Client connect(Shapes::Role role = Shapes::Role::kShared, ShapesServer* server = nullptr,
                 superline::Wire wire = superline::Wire::kJson) {
    Client c;
    c.conn = superline::internal::TransportPort((server ? server : &server_)->core()).open(Shapes::admit(role), c.outbox, wire);
    return c;
  }
  void receive(const Client& c, const std::string& frame, ShapesServer* server = nullptr) {
    superline::internal::TransportPort((server ? server : &server_)->core()).receive(c.conn, frame);
  }

  std::shared_ptr<superline::MemoryBus> bus_ = std::make_shared<superline::MemoryBus>();
  std::shared_ptr<CountingAdapter> adapter_ = std::make_shared<CountingAdapter>(bus_);
  ShapesApp app_;
  ShapesServer server_{app_, {}, adapter_};
  std::vector<std::string> errors_;
};

TEST_F(CoreTest, OpenSendsEnvFirst) {
  Client c = connect();
  EXPECT_EQ(c.outbox->texts(), std::vector<std::string>{R"({"t":"env","d":null})"});
  EXPECT_EQ(server_.core().connection_count(), 1u);
  EXPECT_EQ(c.conn->role_name(), "shared");
}

TEST_F(CoreTest, RequestRoundTrip) {
  Client c = connect();
  receive(c, R"({"t":"req","i":1,"m":"echo","d":{"value":"hi"}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":1,"d":{"value":"hi"}})");
}

TEST_F(CoreTest, RepliesPrintDefaultValues) {
  Client c = connect();
  receive(c, R"({"t":"req","i":2,"m":"echo","d":{}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":2,"d":{"value":""}})");
}

TEST_F(CoreTest, MissingDataIsTheEmptyMessage) {
  Client c = connect();
  receive(c, R"({"t":"req","i":3,"m":"echo"})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":3,"d":{"value":""}})");
}

TEST_F(CoreTest, UnknownRequestIsNotFound) {
  Client c = connect();
  receive(c, R"({"t":"req","i":4,"m":"nope","d":{}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","i":4,"code":"NOT_FOUND","m":"Unknown message: nope"})");
}

TEST_F(CoreTest, AnotherRolesRequestIsNotFoundNeverForbidden) {
  Client shared = connect(Shapes::Role::kShared);
  receive(shared, R"({"t":"req","i":5,"m":"post","d":{}})");
  EXPECT_EQ(shared.outbox->last(), R"({"t":"err","i":5,"code":"NOT_FOUND","m":"Unknown message: post"})");
}

TEST_F(CoreTest, SameNameInTwoRolesReachesEachRolesHandler) {
  Client member = connect(Shapes::Role::kMember);
  Client admin = connect(Shapes::Role::kAdmin);
  receive(member, R"({"t":"req","i":1,"m":"post","d":{}})");
  receive(admin, R"({"t":"req","i":1,"m":"post","d":{}})");
  EXPECT_EQ(member.outbox->last(), R"({"t":"res","i":1,"d":{"value":1}})");
  EXPECT_EQ(admin.outbox->last(), R"({"t":"res","i":1,"d":{"value":2}})");
}

TEST_F(CoreTest, WrongTypeIsValidation) {
  Client c = connect();
  receive(c, R"({"t":"req","i":6,"m":"echo","d":{"value":123}})");
  const std::string err = c.outbox->last();
  EXPECT_EQ(err, R"({"t":"err","i":6,"code":"VALIDATION","m":"Validation failed","d":)"
                 R"([{"path":["value"],"code":"invalid_type","message":"Expected string, received number"}]})");
}

TEST_F(CoreTest, UnknownFieldsAreIgnoredUnlessStrict) {
  Client c = connect();
  receive(c, R"({"t":"req","i":7,"m":"echo","d":{"value":"x","future":true}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":7,"d":{"value":"x"}})");

  superline::ServerOptions strict;
  strict.strict_json = true;
  ShapesApp app;
  ShapesServer server(app, strict);
  Client s;
  s.conn = superline::internal::TransportPort(server.core()).open(Shapes::admit(Shapes::Role::kShared), s.outbox);
  superline::internal::TransportPort(server.core()).receive(s.conn, R"({"t":"req","i":8,"m":"echo","d":{"value":"x","future":true}})");
  EXPECT_NE(s.outbox->last().find(R"("code":"VALIDATION")"), std::string::npos);
}

TEST_F(CoreTest, MalformedFramesGetAConnectionLevelErrorAndTheConnectionStays) {
  Client c = connect();
  for (const char* bad : {"not json", "[1,2]", R"({"i":1})", R"({"t":5})", R"({"t":"req","i":{},"m":"echo"})",
                          R"({"t":"req","m":"echo"})"}) {
    receive(c, bad);
    const std::string err = c.outbox->last();
    EXPECT_EQ(err.rfind(R"({"t":"err","code":"BAD_REQUEST","m":)", 0), 0u) << bad << " -> " << err;
  }
  receive(c, R"({"t":"weird","i":3})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","i":3,"code":"BAD_REQUEST","m":"unknown frame type \"weird\""})");
  receive(c, R"({"t":"req","i":9,"m":"echo","d":{"value":"still here"}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":9,"d":{"value":"still here"}})");
}

TEST_F(CoreTest, DeeplyNestedJsonIsRefused) {
  Client c = connect();
  std::string deep =
      R"({"t":"req","i":1,"m":"echo","d":)" + std::string(200, '[') + std::string(200, ']') + "}";
  receive(c, deep);
  EXPECT_NE(c.outbox->last().find(R"("code":"BAD_REQUEST")"), std::string::npos);
}

TEST_F(CoreTest, ThrowingHandlerIsInternalWithNothingLeaked) {
  Client c = connect();
  receive(c, R"({"t":"req","i":10,"m":"crash","d":{}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","i":10,"code":"INTERNAL","m":"Internal server error"})");
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].find("secret detail"), std::string::npos);
}

TEST_F(CoreTest, CustomErrorCodesPassThrough) {
  Client c = connect();
  receive(c, R"({"t":"req","i":11,"m":"limited","d":{}})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","i":11,"code":"RATE_LIMITED","m":"slow down"})");
}

TEST_F(CoreTest, DeferredReplyFromAnotherThread) {
  Client c = connect();
  receive(c, R"({"t":"req","i":"abc","m":"slow","d":{"value":"later"}})");
  EXPECT_TRUE(c.outbox->wait_for(R"({"t":"res","i":"abc","d":{"value":"later!"}})"));
}

TEST_F(CoreTest, DroppedResponderAnswersInternal) {
  Client c = connect();
  receive(c, R"({"t":"req","i":12,"m":"dropped","d":{}})");
  EXPECT_EQ(
      c.outbox->last(),
      R"({"t":"err","i":12,"code":"INTERNAL","m":"the handler dropped the request without answering"})");
}

TEST_F(CoreTest, ClientEventRunsItsHandlerWithoutReply) {
  Client c = connect();
  receive(c, R"({"t":"cev","m":"poke","d":{"value":"p1"}})");
  EXPECT_EQ(app_.pokes(), std::vector<std::string>{"p1"});
  EXPECT_EQ(c.outbox->last(), R"({"t":"evt","e":"notice","d":{"value":"poked:p1"}})");
  receive(c, R"({"t":"cev","m":"echo","d":{}})");  // a request is not a client event
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","code":"NOT_FOUND","m":"Unknown message: echo"})");
}

TEST_F(CoreTest, TopicSubscribePublishUnsubscribe) {
  Client c = connect();
  receive(c, R"({"t":"sub","i":1,"c":"ticker"})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"res","i":1,"d":null})");
  shapes::v1::Tick tick;
  tick.set_seq(7);
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, tick).ok());
  EXPECT_EQ(c.outbox->last(),
            R"({"t":"pub","c":"ticker","d":{"seq":"7","tags":[]},"nd":")" + server_.node_id() + R"("})");
  receive(c, R"({"t":"unsub","c":"ticker"})");
  const size_t before = c.outbox->texts().size();
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, tick).ok());
  EXPECT_EQ(c.outbox->texts().size(), before);
}

TEST_F(CoreTest, RoleTopicsAreOnlyInTheirRole) {
  Client member = connect(Shapes::Role::kMember);
  receive(member, R"({"t":"sub","i":1,"c":"audit"})");
  EXPECT_EQ(member.outbox->last(), R"({"t":"err","i":1,"code":"NOT_FOUND","m":"Unknown topic: audit"})");
  receive(member, R"({"t":"sub","i":2,"c":"nothing"})");
  EXPECT_EQ(member.outbox->last(), R"({"t":"err","i":2,"code":"NOT_FOUND","m":"Unknown topic: nothing"})");
  receive(member, R"({"t":"sub","i":3,"c":"feed"})");
  EXPECT_EQ(member.outbox->last(), R"({"t":"res","i":3,"d":null})");
  Text text;
  text.set_value("f");
  EXPECT_TRUE(server_.for_role(Shapes::kMember).publish(Shapes::Member::kFeed, text).ok());
  EXPECT_TRUE(member.outbox->wait_for(R"({"t":"pub","c":"feed","d":{"value":"f"})"));
}

TEST_F(CoreTest, SubscribeAuthorizerCanRefuse) {
  server_.authorize_subscribe([](superline::Conn&, std::string_view topic) { return topic != "ticker"; });
  Client c = connect();
  receive(c, R"({"t":"sub","i":1,"c":"ticker"})");
  EXPECT_EQ(c.outbox->last(), R"({"t":"err","i":1,"code":"FORBIDDEN","m":"Subscribe denied: ticker"})");
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, shapes::v1::Tick()).ok());
  EXPECT_EQ(c.outbox->count(R"("t":"pub")"), 0u);
}

TEST_F(CoreTest, OneFanOutCarriesEachWireOnceAndRepliesOnlyTheirOwn) {
  Client json = connect(), binary = connect(Shapes::Role::kShared, nullptr, superline::Wire::kProtobuf);
  auto room = server_.room("lobby");
  room.add(*json.conn);
  room.add(*binary.conn);
  Text text;
  text.set_value("hello");
  EXPECT_TRUE(room.broadcast(Shapes::Shared::kNotice, text).ok());
  const superline::SharedFrame frame = binary.outbox->frames().back();
  EXPECT_EQ(frame.get(), json.outbox->frames().back().get());  // one encoding per wire, shared
  EXPECT_EQ(frame->json, R"({"t":"evt","e":"notice","d":{"value":"hello"}})");
  superline::wire::Frame evt;
  ASSERT_TRUE(evt.ParseFromString(frame->binary));
  EXPECT_EQ(evt.t(), superline::wire::Frame::EVT);
  EXPECT_EQ(evt.e(), "notice");
  Text payload;
  ASSERT_TRUE(payload.ParseFromString(evt.d()));
  EXPECT_EQ(payload.value(), "hello");

  // A reply is encoded for its connection's wire only.
  superline::wire::Frame req;
  req.set_t(superline::wire::Frame::REQ);
  req.set_i(4);
  req.set_m("nope");
  receive(binary, req.SerializeAsString());
  const superline::SharedFrame reply = binary.outbox->frames().back();
  EXPECT_TRUE(reply->json.empty());
  superline::wire::Frame err;
  ASSERT_TRUE(err.ParseFromString(reply->binary));
  EXPECT_EQ(err.i(), 4u);
  EXPECT_EQ(err.code(), "NOT_FOUND");
}

TEST_F(CoreTest, RoomMembershipAndBroadcast) {
  Client a = connect(), b = connect(), outsider = connect();
  auto room = server_.room("lobby");
  room.add(*a.conn);
  room.add(*b.conn);
  room.add(*b.conn);  // idempotent
  EXPECT_EQ(room.size(), 2u);
  EXPECT_TRUE(room.contains(*a.conn));
  EXPECT_FALSE(room.contains(*outsider.conn));
  Text text;
  text.set_value("hello");
  EXPECT_TRUE(room.broadcast(Shapes::Shared::kNotice, text).ok());
  const std::string expected = R"({"t":"evt","e":"notice","d":{"value":"hello"}})";
  EXPECT_EQ(a.outbox->last(), expected);
  EXPECT_EQ(b.outbox->last(), expected);
  EXPECT_EQ(outsider.outbox->count("notice"), 0u);
  // Encoded once: every recipient holds the same bytes.
  EXPECT_EQ(a.outbox->frames().back().get(), b.outbox->frames().back().get());

  EXPECT_TRUE(room.broadcast_except(*a.conn, Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(a.outbox->count("notice"), 1u);
  EXPECT_EQ(b.outbox->count("notice"), 2u);

  room.remove(*a.conn);
  EXPECT_EQ(room.size(), 1u);
  EXPECT_EQ(room.members(), std::vector<std::string>{b.conn->id()});
}

TEST_F(CoreTest, AdapterSubscriptionFollowsLocalInterest) {
  Client a = connect(), b = connect();
  auto room = server_.room("lobby");
  room.add(*a.conn);
  room.add(*b.conn);
  EXPECT_EQ(adapter_->subscribes["r:lobby"], 1);
  room.remove(*a.conn);
  EXPECT_EQ(adapter_->unsubscribes["r:lobby"], 0);
  superline::internal::TransportPort(server_.core()).closed(b.conn, 1000);  // leaving by disconnecting counts too
  EXPECT_EQ(adapter_->unsubscribes["r:lobby"], 1);
  EXPECT_EQ(room.size(), 0u);
}

TEST_F(CoreTest, DisconnectLeavesEverythingAndFiresTheHookOnce) {
  int disconnects = 0;
  uint16_t code = 0;
  server_.on_disconnect([&](superline::Conn&, uint16_t c) { ++disconnects, code = c; });
  Client a = connect();
  server_.room("lobby").add(*a.conn);
  receive(a, R"({"t":"sub","i":1,"c":"ticker"})");
  superline::internal::TransportPort(server_.core()).closed(a.conn, 1001);
  superline::internal::TransportPort(server_.core()).closed(a.conn, 1001);
  EXPECT_EQ(disconnects, 1);
  EXPECT_EQ(code, 1001);
  EXPECT_EQ(server_.core().connection_count(), 0u);
  EXPECT_EQ(adapter_->unsubscribes["t:shared:ticker"], 1);
  EXPECT_TRUE(a.conn->channels().empty());
  server_.room("lobby").add(*a.conn);  // a late add after close is refused
  EXPECT_EQ(server_.room("lobby").size(), 0u);
}

TEST_F(CoreTest, HeartbeatPingsAndDropsSilentConnections) {
  Client quiet = connect(), lively = connect();
  superline::internal::TransportPort(server_.core()).heartbeat();
  EXPECT_EQ(quiet.outbox->last(), R"({"t":"ping"})");
  receive(lively, R"({"t":"pong"})");
  superline::internal::TransportPort(server_.core()).heartbeat();
  receive(lively, R"({"t":"pong"})");
  EXPECT_FALSE(quiet.outbox->terminated());
  superline::internal::TransportPort(server_.core()).heartbeat();  // the quiet one missed two pings
  EXPECT_TRUE(quiet.outbox->terminated());
  EXPECT_FALSE(lively.outbox->terminated());
}

TEST_F(CoreTest, ShutdownClosesEveryConnectionGoingAway) {
  Client a = connect(), b = connect();
  superline::internal::TransportPort(server_.core()).shutdown();
  EXPECT_EQ(a.outbox->close_code(), 1001);
  EXPECT_EQ(b.outbox->close_code(), 1001);
}

TEST_F(CoreTest, EmitChecksTheRoleAtRunTime) {
  Client shared = connect(Shapes::Role::kShared), member = connect(Shapes::Role::kMember);
  Text text;
  EXPECT_EQ(shared.conn->emit(Shapes::Member::kPrivate, text).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(shared.outbox->count("private"), 0u);
  EXPECT_TRUE(member.conn->emit(Shapes::Member::kPrivate, text).ok());
  EXPECT_EQ(member.outbox->last(), R"({"t":"evt","e":"private","d":{"value":""}})");
}

TEST_F(CoreTest, AuthenticatorDecidesAndDefaultsToShared) {
  superline::Handshake handshake;
  auto admitted = superline::internal::TransportPort(server_.core()).authenticate(handshake);
  ASSERT_TRUE(admitted.ok());
  EXPECT_EQ(admitted->role, superline::kSharedRole);
  server_.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
    if (h.query_param("token").value_or("") != "t") return absl::UnauthenticatedError("bad token");
    return Shapes::admit(Shapes::Role::kAdmin);
  });
  EXPECT_FALSE(superline::internal::TransportPort(server_.core()).authenticate(handshake).ok());
  handshake.query["token"] = "t";
  EXPECT_EQ(superline::internal::TransportPort(server_.core()).authenticate(handshake)->role, static_cast<int>(Shapes::Role::kAdmin));
}

// Two servers on one bus behave as two nodes.
TEST_F(CoreTest, TwoNodesOnOneBus) {
  ShapesApp other_app;
  ShapesServer other(other_app, {}, std::make_shared<superline::MemoryAdapter>(bus_));
  Client here = connect();
  Client there = connect(Shapes::Role::kShared, &other);
  Client there_too = connect(Shapes::Role::kShared, &other);
  server_.room("lobby").add(*here.conn);
  other.room("lobby").add(*there.conn);
  other.room("lobby").add(*there_too.conn);
  receive(here, R"({"t":"sub","i":1,"c":"ticker"})");

  Text text;
  text.set_value("from B");
  EXPECT_TRUE(other.room("lobby").broadcast_except(*there.conn, Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(here.outbox->last(), R"({"t":"evt","e":"notice","d":{"value":"from B"}})");
  EXPECT_EQ(there_too.outbox->count("from B"), 1u);
  EXPECT_EQ(there.outbox->count("from B"), 0u);

  shapes::v1::Tick tick;
  tick.set_seq(1);
  EXPECT_TRUE(other.publish(Shapes::Shared::kTicker, tick).ok());
  EXPECT_EQ(here.outbox->last(),
            R"({"t":"pub","c":"ticker","d":{"seq":"1","tags":[]},"nd":")" + other.node_id() + R"("})");
  EXPECT_NE(server_.node_id(), other.node_id());
}

}  // namespace

namespace {

// ---- Cluster bus and targeted sends, two nodes on one bus ----

class ClusterTest : public CoreTest {
 protected:
  ClusterTest() {
    other_.on_error([this](const absl::Status& s, const superline::ErrorInfo&) { other_errors_.push_back(s.ToString()); });
  }
  ShapesApp other_app_;
  std::shared_ptr<CountingAdapter> other_adapter_ = std::make_shared<CountingAdapter>(bus_);
  ShapesServer other_{other_app_, {}, other_adapter_};
  std::vector<std::string> other_errors_;
};

TEST_F(ClusterTest, BusListenersHearEveryNodeOnceWithTheOrigin) {
  std::vector<std::string> here, there;
  bool ready = false;
  server_.subscribe(Shapes::Shared::kTicker,
                    [&](const shapes::v1::Tick& t, std::string_view from) { here.push_back(std::to_string(t.seq()) + "@" + std::string(from)); },
                    [&](absl::Status s) { ready = s.ok(); });
  EXPECT_TRUE(ready);
  other_.subscribe(Shapes::Shared::kTicker,
                   [&](const shapes::v1::Tick& t, std::string_view from) { there.push_back(std::to_string(t.seq()) + "@" + std::string(from)); });
  shapes::v1::Tick tick;
  tick.set_seq(1);
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, tick).ok());
  EXPECT_EQ(here, std::vector<std::string>{"1@" + server_.node_id()});  // local echo, exactly once
  EXPECT_EQ(there, std::vector<std::string>{"1@" + server_.node_id()});
  tick.set_seq(2);
  EXPECT_TRUE(other_.publish(Shapes::Shared::kTicker, tick).ok());
  EXPECT_EQ(here.back(), "2@" + other_.node_id());
  EXPECT_EQ(here.size(), 2u);
  EXPECT_EQ(there.size(), 2u);
}

TEST_F(ClusterTest, ListenersAreIsolatedAndRemovable) {
  int first = 0, second = 0;
  const uint64_t a = other_.subscribe(Shapes::Shared::kTicker, [&](const shapes::v1::Tick&, std::string_view) {
    ++first;
    throw std::runtime_error("listener bug");
  });
  other_.subscribe(Shapes::Shared::kTicker, [&](const shapes::v1::Tick&, std::string_view) { ++second; });
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, shapes::v1::Tick()).ok());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(other_errors_.size(), 1u);
  other_.unsubscribe(a);
  EXPECT_TRUE(server_.publish(Shapes::Shared::kTicker, shapes::v1::Tick()).ok());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
}

TEST_F(ClusterTest, MalformedRemotePublishesNeverReachListeners) {
  int heard = 0;
  server_.subscribe(Shapes::Shared::kTicker, [&](const shapes::v1::Tick&, std::string_view) { ++heard; });
  // A raw frame on the topic's channel from a "foreign node", with a payload of the wrong type.
  superline::channel::ChannelMessage message;
  message.set_json(R"({"t":"pub","c":"ticker","d":{"seq":"not a number"},"nd":"foreign"})");
  message.set_origin("foreign");
  adapter_->publish("t:shared:ticker", std::make_shared<const std::string>(message.SerializeAsString()));
  EXPECT_EQ(heard, 0);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].find("malformed publish on t:shared:ticker from node foreign"), std::string::npos);
}

TEST_F(ClusterTest, ToConnReachesAConnectionOnAnyNode) {
  Client remote = connect(Shapes::Role::kShared, &other_);
  Client local = connect();
  const int publishes_before = adapter_->publishes;
  Text text;
  text.set_value("direct");
  EXPECT_TRUE(server_.to_conn(local.conn->id()).emit(Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(adapter_->publishes, publishes_before);  // local: no adapter trip
  EXPECT_EQ(local.outbox->last(), R"({"t":"evt","e":"notice","d":{"value":"direct"}})");
  EXPECT_TRUE(server_.to_conn(remote.conn->id()).emit(Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(remote.outbox->last(), R"({"t":"evt","e":"notice","d":{"value":"direct"}})");
  server_.to_conn(remote.conn->id()).close();
  EXPECT_EQ(remote.outbox->close_code(), 1000);
  EXPECT_TRUE(server_.to_conn("nobody").emit(Shapes::Shared::kNotice, text).ok());  // unknown: dropped, harmless
}

TEST_F(ClusterTest, ToUserReachesEveryDeviceOnEveryNode) {
  auto admit_user = [](const std::string& user) {
    superline::Admission a = Shapes::admit(Shapes::Role::kShared);
    a.user_id = user;
    return a;
  };
  Client phone, laptop, stranger;
  phone.conn = superline::internal::TransportPort(server_.core()).open(admit_user("u1"), phone.outbox);
  laptop.conn = superline::internal::TransportPort(other_.core()).open(admit_user("u1"), laptop.outbox);
  stranger.conn = superline::internal::TransportPort(other_.core()).open(admit_user("u2"), stranger.outbox);
  const int publishes_before = adapter_->publishes;
  Text text;
  text.set_value("to u1");
  EXPECT_TRUE(server_.to_user("u1").emit(Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(adapter_->publishes, publishes_before + 1);  // always through the adapter
  EXPECT_EQ(phone.outbox->count("to u1"), 1u);
  EXPECT_EQ(laptop.outbox->count("to u1"), 1u);
  EXPECT_EQ(stranger.outbox->count("to u1"), 0u);
  other_.to_user("u1").close();
  EXPECT_EQ(phone.outbox->close_code(), 1000);
  EXPECT_EQ(laptop.outbox->close_code(), 1000);
  EXPECT_EQ(stranger.outbox->close_code(), 0);
}

}  // namespace

namespace {

TEST_F(ClusterTest, PresenceAcrossNodesOnOneBus) {
  // The counting adapters keep no directory of their own: plain MemoryAdapters on the bus do.
  ShapesApp app_a, app_b;
  ShapesServer a(app_a, {}, std::make_shared<superline::MemoryAdapter>(bus_));
  ShapesServer b(app_b, {}, std::make_shared<superline::MemoryAdapter>(bus_));
  superline::Admission user = Shapes::admit(Shapes::Role::kShared);
  user.user_id = "u1";
  auto outbox = std::make_shared<RecordingOutbox>();
  auto phone = superline::internal::TransportPort(a.core()).open(user, outbox);
  auto other = superline::internal::TransportPort(b.core()).open(Shapes::admit(Shapes::Role::kShared), outbox);
  auto nodes = a.core().topology();
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->size(), 2u);
  EXPECT_EQ(*b.core().cluster_count(), 2u);
  EXPECT_TRUE(*b.core().is_online("u1"));
  EXPECT_FALSE(*b.core().is_online("u2"));
  superline::internal::TransportPort(a.core()).closed(phone, 1000);
  EXPECT_FALSE(*b.core().is_online("u1"));
  EXPECT_EQ(*b.core().cluster_count(), 1u);
  superline::internal::TransportPort(b.core()).shutdown();  // graceful: gone from the cluster's view at once
  EXPECT_EQ(a.core().topology()->size(), 1u);
}

TEST_F(CoreTest, ClusterQueriesNeedAnAdapterWithPresence) {
  auto count = server_.core().cluster_count();  // CountingAdapter keeps no directory
  EXPECT_EQ(count.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(count.status().message()).find("presence"), std::string::npos);
}

}  // namespace

namespace {

// A node whose frames may be at most 200 bytes on either wire.
class OutboundLimitTest : public CoreTest {
 protected:
  static superline::ServerOptions small() {
    superline::ServerOptions options;
    options.max_outbound_message_bytes = 200;
    return options;
  }
  ShapesServer limited_{app_, small(), std::make_shared<superline::MemoryAdapter>()};
};

TEST_F(OutboundLimitTest, AFanOutOverTheLimitIsRefusedToItsCallerAndSentToNobody) {
  Client a = connect(Shapes::Role::kShared, &limited_);
  auto room = limited_.room("r");
  room.add(*a.conn);
  Text text;
  text.set_value(std::string(100, '<'));  // 100 bytes, 600 as JSON (\u003c)
  const absl::Status refused = room.broadcast(Shapes::Shared::kNotice, text);
  EXPECT_EQ(superline::error_code(refused), superline::kPayloadTooLarge);
  EXPECT_EQ(a.outbox->count(R"("e":"notice")"), 0u);
  shapes::v1::Tick tick;
  tick.add_tags(std::string(300, 't'));
  EXPECT_EQ(superline::error_code(limited_.publish(Shapes::Shared::kTicker, tick)), superline::kPayloadTooLarge);
  EXPECT_EQ(superline::error_code(limited_.to_conn(a.conn->id()).emit(Shapes::Shared::kNotice, text)),
            superline::kPayloadTooLarge);
  EXPECT_EQ(superline::error_code(a.conn->emit(Shapes::Shared::kNotice, text)), superline::kPayloadTooLarge);
  text.set_value("fits");
  EXPECT_TRUE(room.broadcast(Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(a.outbox->count(R"("e":"notice")"), 1u);
}

TEST_F(OutboundLimitTest, AReplyOverTheLimitBecomesAnError) {
  Client a = connect(Shapes::Role::kShared, &limited_);
  receive(a, R"({"t":"req","i":1,"m":"echo","d":{"value":")" + std::string(300, 'x') + R"("}})", &limited_);
  EXPECT_TRUE(a.outbox->last().rfind(R"({"t":"err","i":1,"code":"PAYLOAD_TOO_LARGE","m":"the reply to 'echo')", 0) ==
              0)
      << a.outbox->last();
  EXPECT_FALSE(a.outbox->close_code());
}

TEST_F(OutboundLimitTest, AFrameFromAnotherNodeOverTheLimitIsDroppedAndReported) {
  auto bus = std::make_shared<superline::MemoryBus>();
  ShapesServer here{app_, small(), std::make_shared<superline::MemoryAdapter>(bus)};
  ShapesServer there{app_, {}, std::make_shared<superline::MemoryAdapter>(bus)};  // a larger limit
  std::vector<std::string> here_errors;
  here.on_error([&](const absl::Status& s, const superline::ErrorInfo&) { here_errors.push_back(s.ToString()); });
  Client member = connect(Shapes::Role::kShared, &here);
  here.room("r").add(*member.conn);
  Text text;
  text.set_value(std::string(500, 'x'));
  EXPECT_TRUE(there.room("r").broadcast(Shapes::Shared::kNotice, text).ok());
  EXPECT_EQ(member.outbox->count(R"("e":"notice")"), 0u);
  ASSERT_EQ(here_errors.size(), 1u);
  EXPECT_NE(here_errors[0].find("over the 200-byte limit"), std::string::npos) << here_errors[0];
  EXPECT_FALSE(member.outbox->close_code());
}

// An adapter whose broker is away: every subscribe is answered UNAVAILABLE at once.
class UnreachableAdapter final : public superline::Adapter {
 public:
  void set_handler(MessageHandler) override {}
  void subscribe(const std::string&, Done done) override {
    ++subscribes;
    if (done) done(absl::UnavailableError("broker away"));
  }
  void unsubscribe(const std::string&) override {}
  void publish(const std::string&, superline::Envelope) override {}
  int subscribes = 0;
};

TEST_F(CoreTest, ASubscriptionIsAnsweredWhileTheBrokerIsAway) {
  auto away = std::make_shared<UnreachableAdapter>();
  ShapesServer server{app_, {}, away};
  Client a = connect(Shapes::Role::kShared, &server), b = connect(Shapes::Role::kShared, &server);
  receive(a, R"({"t":"sub","i":1,"c":"ticker"})", &server);
  EXPECT_EQ(a.outbox->last(), R"({"t":"res","i":1,"d":null})");
  // The next subscriber asks the adapter again rather than waiting on an answer that will not come.
  const int before = away->subscribes;
  receive(b, R"({"t":"sub","i":2,"c":"ticker"})", &server);
  EXPECT_EQ(b.outbox->last(), R"({"t":"res","i":2,"d":null})");
  EXPECT_EQ(away->subscribes, before + 1);
}

}  // namespace

namespace {

// What another node publishes is forwarded as bytes, so it is checked once before it is: a text
// frame that is not UTF-8, or a binary frame that is not a SharedFrame, would fail a strict client.
TEST_F(CoreTest, AFrameFromAnotherNodeThatAClientWouldRefuseIsDroppedAndReported) {
  Client member = connect();
  server_.room("r").add(*member.conn);
  superline::MemoryAdapter peer(bus_);
  const size_t before = member.outbox->frames().size();
  for (const auto& [json, binary] : std::vector<std::pair<std::string, std::string>>{
           {"{\"t\":\"evt\",\"e\":\"notice\",\"d\":{\"value\":\"\xff\"}}", ""}, {"{}", "\xff\xff\xff"}}) {
    superline::channel::ChannelMessage message;
    message.set_json(json);
    message.set_binary(binary);
    message.set_origin("another-node");
    peer.publish("r:r", std::make_shared<const std::string>(message.SerializeAsString()));
  }
  EXPECT_EQ(member.outbox->frames().size(), before);
  EXPECT_EQ(errors_.size(), 2u);
}

}  // namespace

namespace {

// A targeted event reaches only the connections whose role has it, on whichever node owns them:
// the owner drops it for the others, counts it and reports it.
TEST_F(ClusterTest, TargetedEventsStayInsideEachConnectionsSurface) {
  auto admit = [](Shapes::Role role, const std::string& user) {
    superline::Admission a = Shapes::admit(role);
    a.user_id = user;
    return a;
  };
  Client member_here, admin_here, admin_there;
  member_here.conn = superline::internal::TransportPort(server_.core()).open(admit(Shapes::Role::kMember, "u1"), member_here.outbox);
  admin_here.conn = superline::internal::TransportPort(server_.core()).open(admit(Shapes::Role::kAdmin, "u1"), admin_here.outbox);
  admin_there.conn = superline::internal::TransportPort(other_.core()).open(admit(Shapes::Role::kAdmin, "u1"), admin_there.outbox);
  Text text;
  text.set_value("members only");
  EXPECT_TRUE(server_.to_user("u1").emit(Shapes::Member::kPrivate, text).ok());
  EXPECT_EQ(member_here.outbox->count("members only"), 1u);
  EXPECT_EQ(admin_here.outbox->count("members only"), 0u);
  EXPECT_EQ(admin_there.outbox->count("members only"), 0u);
  EXPECT_EQ(server_.core().dropped_outside_surface(), 1u);
  EXPECT_EQ(other_.core().dropped_outside_surface(), 1u);
  ASSERT_EQ(other_errors_.size(), 1u);
  EXPECT_NE(other_errors_[0].find("of role 'member'"), std::string::npos) << other_errors_[0];

  // To one connection: refused at once when it is local, dropped by its node when it is not.
  EXPECT_TRUE(absl::IsFailedPrecondition(server_.to_conn(admin_here.conn->id()).emit(Shapes::Member::kPrivate, text)));
  EXPECT_TRUE(server_.to_conn(admin_there.conn->id()).emit(Shapes::Member::kPrivate, text).ok());
  EXPECT_EQ(admin_there.outbox->count("members only"), 0u);
  EXPECT_EQ(other_.core().dropped_outside_surface(), 2u);
  EXPECT_TRUE(server_.to_conn(member_here.conn->id()).emit(Shapes::Member::kPrivate, text).ok());
  EXPECT_EQ(member_here.outbox->count("members only"), 2u);
  // Shared events reach every role.
  text.set_value("for all");
  EXPECT_TRUE(other_.to_user("u1").emit(Shapes::Shared::kNotice, text).ok());
  for (Client* c : {&member_here, &admin_here, &admin_there}) EXPECT_EQ(c->outbox->count("for all"), 1u);
}

}  // namespace
