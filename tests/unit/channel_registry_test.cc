// The server's parts on their own: channel names, the channel registry against a recording adapter,
// the connection registry.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "channel_registry.h"
#include "channels.h"
#include "connection_registry.h"
#include "superline/adapter.h"
#include "superline/conn.h"

namespace {

using superline::ChannelRegistry;
namespace channels = superline::channels;

TEST(Channels, EveryNameParsesBackToWhatMadeIt) {
  EXPECT_EQ(channels::room("lobby"), "r:lobby");
  EXPECT_EQ(channels::topic("shared", "ticker"), "t:shared:ticker");
  EXPECT_EQ(channels::conn("c1"), "c:c1");
  EXPECT_EQ(channels::user("u1"), "u:u1");
  EXPECT_EQ(channels::reply("n1"), "reply:n1");

  // parse() gives views into the name: the names must outlive them.
  const std::string room_name = channels::room("a:b"), topic_name = channels::topic("admin", "audit");
  auto room = channels::parse(room_name);  // a room name may hold ':'
  ASSERT_TRUE(room);
  EXPECT_EQ(room->kind, channels::Kind::kRoom);
  EXPECT_EQ(room->name, "a:b");
  auto topic = channels::parse(topic_name);
  ASSERT_TRUE(topic);
  EXPECT_EQ(topic->kind, channels::Kind::kTopic);
  EXPECT_EQ(topic->ns, "admin");
  EXPECT_EQ(topic->name, "audit");
  EXPECT_EQ(channels::parse(channels::conn("x"))->kind, channels::Kind::kConn);
  EXPECT_EQ(channels::parse(channels::user("x"))->kind, channels::Kind::kUser);
  EXPECT_EQ(channels::parse(channels::reply("n"))->name, "n");
  EXPECT_EQ(channels::parse(channels::kServer)->kind, channels::Kind::kServer);
}

TEST(Channels, NamesNoFunctionMakesDoNotParse) {
  EXPECT_FALSE(channels::parse(""));
  EXPECT_FALSE(channels::parse("lobby"));
  EXPECT_FALSE(channels::parse("t:shared"));  // no topic
  EXPECT_FALSE(channels::parse("t::ticker"));  // no namespace
  EXPECT_FALSE(channels::parse("s2s:x"));
}

// Records the calls an adapter gets; answers subscribes when told to.
class RecordingAdapter final : public superline::Adapter {
 public:
  void set_handler(MessageHandler) override {}
  void subscribe(const std::string& channel, Done done) override {
    calls.push_back("sub " + channel);
    pending.push_back(std::move(done));
  }
  void unsubscribe(const std::string& channel) override { calls.push_back("unsub " + channel); }
  void publish(const std::string&, superline::Envelope) override {}

  void answer_all(absl::Status status) {
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& done : waiting) done(status);
  }

  std::vector<std::string> calls;
  std::vector<Done> pending;
};

class NullOutbox final : public superline::Outbox {
 public:
  void send(superline::SharedFrame) override {}
  void close(uint16_t, std::string_view) override {}
  void terminate() override {}
};

std::shared_ptr<superline::Conn> make_conn(const std::string& id, const std::shared_ptr<NullOutbox>& outbox,
                                           int role = 0) {
  return std::make_shared<superline::Conn>(id, role, "shared", std::any(), "", outbox);
}

TEST(ChannelRegistry, SubscribesOnFirstInterestAndUnsubscribesOnLast) {
  RecordingAdapter adapter;
  ChannelRegistry registry(adapter);
  auto outbox = std::make_shared<NullOutbox>();
  auto a = make_conn("a", outbox), b = make_conn("b", outbox);

  int live_calls = 0;
  registry.join(a, "r:lobby", [&](absl::Status s) { live_calls += s.ok(); });
  registry.join(b, "r:lobby", [&](absl::Status s) { live_calls += s.ok(); });
  EXPECT_EQ(adapter.calls, std::vector<std::string>{"sub r:lobby"});  // asked once
  EXPECT_EQ(live_calls, 0);                                           // not live yet
  adapter.answer_all(absl::OkStatus());
  EXPECT_EQ(live_calls, 2);  // both waiting joins learn it
  registry.join(b, "r:lobby", [&](absl::Status s) { live_calls += s.ok(); });  // already a member
  EXPECT_EQ(live_calls, 3);
  EXPECT_EQ(registry.member_count("r:lobby"), 2u);

  registry.leave(*a, "r:lobby");
  EXPECT_EQ(adapter.calls.size(), 1u);  // b is still there
  registry.leave(*b, "r:lobby");
  EXPECT_EQ(adapter.calls.back(), "unsub r:lobby");
  EXPECT_EQ(registry.member_count("r:lobby"), 0u);
  EXPECT_EQ(registry.counts().total, 0u);
}

TEST(ChannelRegistry, AFailedSubscribeIsAskedAgainByTheNextJoin) {
  RecordingAdapter adapter;
  ChannelRegistry registry(adapter);
  auto outbox = std::make_shared<NullOutbox>();
  auto a = make_conn("a", outbox), b = make_conn("b", outbox);
  absl::Status seen;
  registry.join(a, "t:shared:ticker", [&](absl::Status s) { seen = s; });
  adapter.answer_all(absl::UnavailableError("broker away"));
  EXPECT_TRUE(absl::IsUnavailable(seen));
  registry.join(b, "t:shared:ticker", nullptr);
  EXPECT_EQ(adapter.calls, (std::vector<std::string>{"sub t:shared:ticker", "sub t:shared:ticker"}));
}

TEST(ChannelRegistry, ListenersKeepAChannelAndAreFoundById) {
  RecordingAdapter adapter;
  ChannelRegistry registry(adapter);
  int heard = 0;
  registry.add_listener("t:shared:ticker", 7, [&](const google::protobuf::Message&, std::string_view) { ++heard; },
                        nullptr);
  ASSERT_EQ(registry.listeners("t:shared:ticker").size(), 1u);
  ChannelRegistry::Recipients recipients;
  ASSERT_TRUE(registry.recipients("t:shared:ticker", "", /*with_listeners=*/true, recipients));
  EXPECT_EQ(recipients.listeners.size(), 1u);
  registry.remove_listener(8);  // not there
  EXPECT_EQ(adapter.calls.size(), 1u);
  registry.remove_listener(7);
  EXPECT_EQ(adapter.calls.back(), "unsub t:shared:ticker");
  EXPECT_FALSE(registry.recipients("t:shared:ticker", "", true, recipients));
}

TEST(ChannelRegistry, RecipientsSkipTheExcludedConnectionAndCountsFollowKinds) {
  RecordingAdapter adapter;
  ChannelRegistry registry(adapter);
  auto outbox = std::make_shared<NullOutbox>();
  auto a = make_conn("a", outbox), b = make_conn("b", outbox);
  registry.join(a, "r:lobby", nullptr);
  registry.join(b, "r:lobby", nullptr);
  registry.join(a, "c:a", nullptr);
  registry.join(a, "u:alice", nullptr);
  registry.join(a, "t:shared:ticker", nullptr);
  ChannelRegistry::Recipients recipients;
  ASSERT_TRUE(registry.recipients("r:lobby", "a", false, recipients));
  ASSERT_EQ(recipients.members.size(), 1u);
  EXPECT_EQ(recipients.members[0]->id(), "b");
  const auto counts = registry.counts();
  EXPECT_EQ(counts.rooms, 1u);
  EXPECT_EQ(counts.topics, 1u);
  EXPECT_EQ(counts.personal, 2u);
  EXPECT_EQ(counts.total, 4u);

  registry.leave_all(*a);  // a closed: it leaves everything and joins nothing more
  registry.join(a, "r:other", nullptr);
  EXPECT_EQ(registry.counts().total, 1u);  // b's lobby
  EXPECT_TRUE(a->channels().empty());
}

TEST(ConnectionRegistry, RefusesADuplicateIdAndCountsByRole) {
  superline::ConnectionRegistry registry(2);
  auto outbox = std::make_shared<NullOutbox>();
  auto a = make_conn("a", outbox, 1), again = make_conn("a", outbox, 0), b = make_conn("b", outbox, 0);
  EXPECT_TRUE(registry.add(a));
  EXPECT_FALSE(registry.add(again));
  EXPECT_TRUE(registry.add(b));
  EXPECT_EQ(registry.count_by_role(), (std::vector<std::size_t>{1, 1}));
  EXPECT_FALSE(registry.remove(*again));  // not the registered one
  EXPECT_EQ(registry.find("a"), a);
  EXPECT_TRUE(registry.remove(*a));
  EXPECT_FALSE(registry.remove(*a));
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(registry.count_by_role(), (std::vector<std::size_t>{1, 0}));
}

}  // namespace
