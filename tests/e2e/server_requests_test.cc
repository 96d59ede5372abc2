// Server requests (sreq/sres/serr) and env, end to end: the exact frames of super-line's wire
// (wire-spec §4.4, §9) through raw clients on both wires, the failure modes (TIMEOUT, DISCONNECTED,
// abort, VALIDATION of the reply, answers for ids never issued), a connection on another node, and
// the typed C++ client answering through its generated ClientHandlers.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>

#include "../support/desk_app.h"
#include "../support/eventually.h"
#include "../support/redis_process.h"
#include "desk.superline.h"
#include "superline/adapter.h"
#include "superline/redis_adapter.h"
#include "superline/rendezvous.h"
#include "superline/validation.h"
#include "superline/websocket.h"
#include "superline/wire.pb.h"
#include "ws_test_client.h"

namespace {

using namespace std::chrono_literals;
using desk::v1::Desk;
using e2e::WsTestClient;
using testing_support::eventually;

using testing_support::admit_by_query;
using testing_support::agent_env;
using testing_support::DeskApp;

// A raw JSON client whose first frame (the env) is left to the test to read.
std::unique_ptr<WsTestClient> connect(uint16_t port, const std::string& target) {
  WsTestClient::Dial dialed = WsTestClient::dial(port, target);
  EXPECT_TRUE(dialed.upgraded);
  return std::move(dialed.client);
}

desk::v1::Question question(std::string q) {
  desk::v1::Question out;
  out.set_q(std::move(q));
  return out;
}

// What a server request came back with.
using Outcome = std::shared_ptr<superline::Rendezvous<absl::StatusOr<desk::v1::Answer>>>;
Outcome outcome() { return std::make_shared<superline::Rendezvous<absl::StatusOr<desk::v1::Answer>>>(); }
auto settles(Outcome o) {
  return [o](absl::StatusOr<desk::v1::Answer> r) { o->set(std::move(r)); };
}
absl::StatusOr<desk::v1::Answer> wait(const Outcome& o) {
  auto r = o->wait_for(5s);
  return r ? *r : absl::StatusOr<desk::v1::Answer>(absl::DeadlineExceededError("the request never settled"));
}

class DeskTest : public ::testing::Test {
 protected:
  DeskTest() {
    admit_by_query(server_);
    EXPECT_TRUE(transport_.start().ok());
  }
  // The connection the n-th client opened (in connection order).
  std::shared_ptr<superline::Conn> conn(std::size_t n = 0) {
    std::shared_ptr<superline::Conn> found;
    EXPECT_TRUE(eventually([&] {
      auto all = server_.core().connections();
      std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a->connected_at() < b->connected_at(); });
      if (all.size() <= n) return false;
      found = all[n];
      return true;
    }));
    return found;
  }
  DeskApp app_;
  desk::v1::DeskServer server_{app_};
  superline::WebSocketServer transport_{server_, superline::ListenOptions{}};
};

TEST_F(DeskTest, TheFramesAreSuperLinesOnTheJsonWire) {
  auto c = connect(transport_.port(), "/?role=agent");
  EXPECT_EQ(c->read(), R"({"t":"env","d":{"desk":"d1","shift":2}})");
  auto agent = conn();

  Outcome first = outcome();
  agent->request(Desk::Agent::kConfirm, question("ready?"), settles(first));
  EXPECT_EQ(c->read(), R"({"t":"sreq","i":1,"m":"confirm","d":{"q":"ready?"}})");
  c->send(R"({"t":"sres","i":1,"d":{"ok":true}})");
  auto answer = wait(first);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->ok());

  Outcome second = outcome();
  agent->request(Desk::Agent::kConfirm, question("again?"), settles(second));
  EXPECT_EQ(c->read(), R"({"t":"sreq","i":2,"m":"confirm","d":{"q":"again?"}})");
  c->send(R"({"t":"serr","i":2,"code":"FORBIDDEN","m":"no","d":{"why":"x"}})");
  answer = wait(second);
  EXPECT_EQ(superline::error_code(answer.status()), "FORBIDDEN");
  EXPECT_EQ(answer.status().message(), "no");
}

TEST_F(DeskTest, TheFramesOnTheBinaryWire) {
  auto dialed = WsTestClient::dial(transport_.port(), "/?role=agent", "superline.pb.v1");
  ASSERT_TRUE(dialed.upgraded);
  auto& c = *dialed.client;
  superline::wire::Frame env;
  ASSERT_TRUE(env.ParseFromString(c.read().value_or("")));
  EXPECT_EQ(env.t(), superline::wire::Frame::ENV);
  EXPECT_TRUE(env.env_set());
  desk::v1::AgentEnv got;
  ASSERT_TRUE(got.ParseFromString(env.d()));
  EXPECT_EQ(got.desk(), "d1");

  Outcome done = outcome();
  conn()->request(Desk::Shared::kPing, desk::v1::PingRequest(), [done](absl::StatusOr<desk::v1::PingReply> r) {
    desk::v1::Answer a;
    a.set_ok(r.ok() && r->n() == 7);
    done->set(r.ok() ? absl::StatusOr<desk::v1::Answer>(a) : r.status());
  });
  superline::wire::Frame sreq;
  ASSERT_TRUE(sreq.ParseFromString(c.read().value_or("")));
  EXPECT_EQ(sreq.t(), superline::wire::Frame::SREQ);
  EXPECT_EQ(sreq.i(), 1u);
  EXPECT_EQ(sreq.m(), "ping");
  superline::wire::Frame sres;
  sres.set_t(superline::wire::Frame::SRES);
  sres.set_i(sreq.i());
  desk::v1::PingReply pong;
  pong.set_n(7);
  sres.set_d(pong.SerializeAsString());
  c.send(sres.SerializeAsString(), /*binary=*/true);
  auto answer = wait(done);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->ok());
}

TEST_F(DeskTest, AnswersForIdsNeverIssuedAreIgnoredWithoutAWord) {
  auto a = connect(transport_.port(), "/?role=agent");
  auto b = connect(transport_.port(), "/?role=agent");
  a->read();
  b->read();
  Outcome done = outcome();
  conn(0)->request(Desk::Agent::kConfirm, question("a?"), settles(done));
  EXPECT_EQ(a->read(), R"({"t":"sreq","i":1,"m":"confirm","d":{"q":"a?"}})");
  b->send(R"({"t":"sres","i":1,"d":{"ok":false}})");  // not b's to answer
  b->send(R"({"t":"sres","i":99,"d":{}})");
  b->send(R"({"t":"serr","i":98,"code":"FORBIDDEN","m":"no"})");
  b->send(R"({"t":"sres","d":{}})");
  EXPECT_TRUE(b->quiet_for(300ms));  // no err carrying any of those ids
  EXPECT_FALSE(done->wait_for(10ms).has_value());
  a->send(R"({"t":"sres","i":1,"d":{"ok":true}})");
  a->send(R"({"t":"sres","i":1,"d":{"ok":false}})");  // answered already: ignored
  auto answer = wait(done);
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE(answer->ok());
  EXPECT_TRUE(a->quiet_for(200ms));
  EXPECT_NE(b->request("whoami", "{}").value_or("").find(R"("t":"res")"), std::string::npos);  // still served
}

TEST_F(DeskTest, ATimeoutAnAbortAndADisconnectSettleTheCaller) {
  auto c = connect(transport_.port(), "/?role=agent");
  c->read();
  auto agent = conn();
  Outcome timed_out = outcome();
  agent->request(Desk::Agent::kConfirm, question("t"), settles(timed_out), {.timeout = 150ms});
  c->read();
  auto answer = wait(timed_out);
  EXPECT_EQ(superline::error_code(answer.status()), "TIMEOUT");
  EXPECT_EQ(answer.status().message(), "confirm timed out after 150 ms");
  c->send(R"({"t":"sres","i":1,"d":{"ok":true}})");  // late: nobody waits, nothing said
  EXPECT_TRUE(c->quiet_for(200ms));

  Outcome aborted = outcome();
  superline::PendingRequest pending = agent->request(Desk::Agent::kConfirm, question("a"), settles(aborted));
  c->read();
  pending.abort();
  answer = wait(aborted);
  EXPECT_EQ(superline::error_code(answer.status()), "BAD_REQUEST");
  EXPECT_EQ(answer.status().message(), "Aborted");
  pending.abort();  // settled: a no-op

  Outcome dropped = outcome();
  agent->request(Desk::Agent::kConfirm, question("d"), settles(dropped));
  c->read();
  c.reset();  // the client goes away without answering
  answer = wait(dropped);
  EXPECT_EQ(superline::error_code(answer.status()), "DISCONNECTED");
}

TEST_F(DeskTest, AReplyThatFailsTheContractIsValidationForTheCaller) {
  auto c = connect(transport_.port(), "/?role=agent");
  c->read();
  auto agent = conn();
  Outcome wrong_type = outcome();
  agent->request(Desk::Agent::kConfirm, question("q"), settles(wrong_type));
  c->read();
  c->send(R"({"t":"sres","i":1,"d":{"ok":"yes"}})");
  auto answer = wait(wrong_type);
  EXPECT_EQ(superline::error_code(answer.status()), "VALIDATION");
  auto issues = superline::validation_issues(answer.status());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, std::vector<superline::PathElement>{"ok"});
  EXPECT_EQ(issues[0].code, "invalid_type");

  Outcome too_long = outcome();
  agent->request(Desk::Agent::kConfirm, question("q"), settles(too_long));
  c->read();
  c->send(R"({"t":"sres","i":2,"d":{"ok":true,"note":"far too long"}})");
  answer = wait(too_long);
  issues = superline::validation_issues(answer.status());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, std::vector<superline::PathElement>{"note"});
  EXPECT_EQ(issues[0].code, "too_big");
  EXPECT_TRUE(c->quiet_for(100ms));  // the client is told nothing: the caller decides
}

TEST_F(DeskTest, OnlyTheRolesSurfaceAndOneConnectionAreAsked) {
  auto v = connect(transport_.port(), "/?role=visitor");
  EXPECT_EQ(v->read(), R"({"t":"env","d":null})");  // a role without env
  auto visitor = conn();
  Outcome outside = outcome();
  // Untyped: Desk::Agent::kConfirm through RoleConn<Visitor> would not compile.
  visitor->request("confirm", question("q"), [outside](absl::StatusOr<std::string> r) { outside->set(r.status()); });
  EXPECT_TRUE(absl::IsFailedPrecondition(wait(outside).status()));
  Outcome to_user = outcome();
  server_.to_user("someone").request(Desk::Agent::kConfirm, question("q"), settles(to_user));
  EXPECT_TRUE(absl::IsFailedPrecondition(wait(to_user).status()));
  EXPECT_TRUE(v->quiet_for(100ms));
}

TEST_F(DeskTest, PerConnectionRoutesAreBounded) {
  superline::ServerOptions options;
  options.max_server_requests_per_conn = 2;
  DeskApp app;
  desk::v1::DeskServer server(app, options);
  admit_by_query(server);
  superline::WebSocketServer transport(server, superline::ListenOptions{});
  ASSERT_TRUE(transport.start().ok());
  auto c = connect(transport.port(), "/?role=agent");
  c->read();
  ASSERT_TRUE(eventually([&] { return server.core().connection_count() == 1; }));
  auto agent = server.core().connections()[0];
  std::vector<Outcome> asked;
  for (int i = 0; i < 3; ++i) {
    asked.push_back(outcome());
    agent->request(Desk::Agent::kConfirm, question("q"), settles(asked.back()));
  }
  EXPECT_EQ(superline::error_code(wait(asked[2]).status()), "BUSY");
  c->read();
  c->read();
  c->send(R"({"t":"sres","i":1,"d":{"ok":true}})");
  EXPECT_TRUE(wait(asked[0]).ok());
}

// A connection on another node: the request goes out on c:<conn>, the answer back on reply:<node>.
// `live(channel)` says when a node's subscription to `channel` is live on the adapters' broker.
void across_nodes(std::shared_ptr<superline::Adapter> adapter_a, std::shared_ptr<superline::Adapter> adapter_b,
                  const std::function<bool(const std::string&)>& live) {
  DeskApp app_a, app_b;
  desk::v1::DeskServer a(app_a, {}, std::move(adapter_a));
  desk::v1::DeskServer b(app_b, {}, std::move(adapter_b));
  admit_by_query(b);
  superline::WebSocketServer transport_b(b, superline::ListenOptions{});
  ASSERT_TRUE(transport_b.start().ok());
  auto c = connect(transport_b.port(), "/?role=agent&user=ann");
  c->read();
  const std::string who = c->request("whoami", "{}").value_or("");
  const std::string id = who.substr(who.find("\"conn\":\"") + 8, 36);
  ASSERT_TRUE(eventually([&] { return live("c:" + id) && live("u:ann") && live("reply:" + a.node_id()); }));

  Outcome answered = outcome();
  a.to_conn(id).request(Desk::Agent::kConfirm, question("from a"), settles(answered));
  EXPECT_EQ(c->read(), R"({"t":"sreq","i":1,"m":"confirm","d":{"q":"from a"}})");  // b's id
  c->send(R"({"t":"sres","i":1,"d":{"ok":true,"note":"ok"}})");
  auto answer = wait(answered);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->note(), "ok");

  Outcome invalid = outcome();
  a.to_conn(id).request(Desk::Agent::kConfirm, question("again"), settles(invalid));
  c->read();
  c->send(R"({"t":"sres","i":2,"d":{"note":"much too long"}})");
  EXPECT_EQ(superline::validation_issues(wait(invalid).status()).size(), 1u);  // checked at b, issues carried

  // The env, set from a on b's connection, by connection and by user.
  ASSERT_TRUE(a.to_conn(id).set_env(agent_env("d7", 3)).ok());
  EXPECT_EQ(c->read(), R"({"t":"env","d":{"desk":"d7","shift":3}})");
  ASSERT_TRUE(a.to_user("ann").set_env(agent_env("d8", 0)).ok());
  EXPECT_EQ(c->read(), R"({"t":"env","d":{"desk":"d8","shift":0}})");
  EXPECT_EQ(b.core().find(id)->env<desk::v1::AgentEnv>()->desk(), "d8");
  EXPECT_TRUE(absl::IsFailedPrecondition(a.to_conn(id).set_env(desk::v1::Question())));  // no role's env
  EXPECT_EQ(superline::error_code(a.to_conn(id).set_env(agent_env("", 1))), "VALIDATION");  // desk required
  ASSERT_TRUE(a.to_conn(id).clear_env().ok());
  EXPECT_EQ(c->read(), R"({"t":"env","d":null})");

  Outcome dropped = outcome();
  a.to_conn(id).request(Desk::Agent::kConfirm, question("bye"), settles(dropped));
  c->read();
  c.reset();
  EXPECT_EQ(superline::error_code(wait(dropped).status()), "DISCONNECTED");

  Outcome nobody = outcome();
  a.to_conn("no-such-connection").request(Desk::Agent::kConfirm, question("?"), settles(nobody), {.timeout = 100ms});
  EXPECT_EQ(superline::error_code(wait(nobody).status()), "TIMEOUT");
}

TEST(DeskAcrossNodes, OnTheMemoryBus) {
  auto bus = std::make_shared<superline::MemoryBus>();
  across_nodes(std::make_shared<superline::MemoryAdapter>(bus), std::make_shared<superline::MemoryAdapter>(bus),
               [](const std::string&) { return true; });  // subscriptions are live at once
}

TEST(DeskAcrossNodes, OnARealRedis) {
  testing_support::RedisProcess redis;
  superline::RedisOptions options;
  options.url = *superline::RedisUrl::parse(redis.url());
  auto a = superline::RedisAdapter::connect(options);
  auto b = superline::RedisAdapter::connect(options);
  ASSERT_TRUE(a.ok() && b.ok());
  across_nodes(*a, *b, [&](const std::string& channel) {
    auto reply = redis.command({"PUBSUB", "NUMSUB", channel});
    return reply.size() == 2 && reply[1] == "1";
  });
}

TEST_F(DeskTest, SetEnvReplacesItAndRefusesWhatTheRoleDoesNotHave) {
  auto c = connect(transport_.port(), "/?role=agent");
  c->read();
  auto agent = conn();
  EXPECT_EQ(agent->env<desk::v1::AgentEnv>()->shift(), 2);
  ASSERT_TRUE(agent->set_env(agent_env("d2", 5)).ok());
  EXPECT_EQ(c->read(), R"({"t":"env","d":{"desk":"d2","shift":5}})");
  EXPECT_TRUE(absl::IsFailedPrecondition(agent->set_env(desk::v1::Question())));
  EXPECT_EQ(superline::error_code(agent->set_env(agent_env("", 0))), "VALIDATION");
  EXPECT_TRUE(c->quiet_for(100ms));
  EXPECT_EQ(agent->env<desk::v1::AgentEnv>()->desk(), "d2");
}

TEST(DeskEnv, AnAdmissionWithAnotherRolesEnvSendsNullAndKeepsTheConnection) {
  std::mutex mu;  // before the server, whose threads report into it
  std::vector<std::string> errors;
  DeskApp app;
  desk::v1::DeskServer server(app);
  server.on_error([&](const absl::Status& s, const superline::ErrorInfo&) {
    std::lock_guard lock(mu);
    errors.emplace_back(s.message());
  });
  server.authenticate([](const superline::Handshake&) -> absl::StatusOr<superline::Admission> {
    superline::Admission admission = Desk::admit(Desk::Role::kVisitor);
    admission.env = std::make_shared<desk::v1::AgentEnv>(agent_env("d1", 1));
    return admission;
  });
  superline::WebSocketServer transport(server, superline::ListenOptions{});
  ASSERT_TRUE(transport.start().ok());
  auto c = connect(transport.port(), "/");
  EXPECT_EQ(c->read(), R"({"t":"env","d":null})");
  EXPECT_NE(c->request("look", "{}").value_or("").find(R"("t":"res")"), std::string::npos);
  std::lock_guard lock(mu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("role 'visitor' with env desk.v1.AgentEnv"), std::string::npos) << errors[0];
}

// ---- The typed C++ client ----

class Agent final : public Desk::Agent::ClientHandlers {
 public:
  absl::StatusOr<desk::v1::PingReply> ping(const desk::v1::PingRequest& request) override {
    desk::v1::PingReply reply;
    reply.set_n(request.n() + 1);
    return reply;
  }
  absl::StatusOr<desk::v1::Answer> confirm(const desk::v1::Question& request) override {
    if (request.q() == "throw") throw std::runtime_error("boom");
    if (request.q() == "no") return superline::error(superline::kForbidden, "not now");
    desk::v1::Answer answer;
    answer.set_ok(request.q() == "ready?");
    if (request.q() == "long") answer.set_note("too long for eight");
    return answer;
  }
};

class TypedDeskTest : public DeskTest, public ::testing::WithParamInterface<superline::Wire> {};

TEST_P(TypedDeskTest, TheGeneratedHandlersAnswerAndTheEnvIsExposed) {
  Agent handlers;
  superline::ClientOptions options;
  options.port = transport_.port();
  options.wire = GetParam();
  std::mutex mu;  // before the client: its thread may run on_env until the client is gone
  std::vector<std::string> desks;
  desk::v1::DeskAgentClient client(options, handlers);
  client.on_env([&](const std::optional<desk::v1::AgentEnv>& env) {
    std::lock_guard lock(mu);
    desks.push_back(env ? env->desk() : "null");
  });
  ASSERT_TRUE(client.connect().ok());
  ASSERT_TRUE(client.env().has_value());
  EXPECT_EQ(client.env()->desk(), "d1");
  auto agent = conn();

  Outcome yes = outcome();
  agent->request(Desk::Agent::kConfirm, question("ready?"), settles(yes));
  auto answer = wait(yes);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->ok());

  auto pong = std::make_shared<superline::Rendezvous<absl::StatusOr<desk::v1::PingReply>>>();
  desk::v1::PingRequest ping;
  ping.set_n(41);
  agent->request(Desk::Shared::kPing, ping, [pong](absl::StatusOr<desk::v1::PingReply> r) { pong->set(std::move(r)); });
  auto got = pong->wait_for(5s);
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ((*got)->n(), 42);

  Outcome refused = outcome();
  agent->request(Desk::Agent::kConfirm, question("no"), settles(refused));
  answer = wait(refused);
  EXPECT_EQ(superline::error_code(answer.status()), "FORBIDDEN");
  EXPECT_EQ(answer.status().message(), "not now");

  Outcome threw = outcome();
  agent->request(Desk::Agent::kConfirm, question("throw"), settles(threw));
  answer = wait(threw);
  EXPECT_EQ(superline::error_code(answer.status()), "INTERNAL");
  EXPECT_EQ(answer.status().message(), "Internal client error");

  Outcome too_long = outcome();
  agent->request(Desk::Agent::kConfirm, question("long"), settles(too_long));
  EXPECT_EQ(superline::error_code(wait(too_long).status()), "VALIDATION");

  ASSERT_TRUE(agent->set_env(agent_env("d9", 1)).ok());
  ASSERT_TRUE(eventually([&] { return client.env() && client.env()->desk() == "d9"; }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return desks.size() == 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(desks, (std::vector<std::string>{"d1", "d9"}));
}

TEST_P(TypedDeskTest, ARequestWithoutAHandlerIsNotFound) {
  superline::ClientOptions options;
  options.port = transport_.port();
  options.wire = GetParam();
  options.params = {{"role", "agent"}};
  superline::ClientCore core(options);  // answers nothing
  ASSERT_TRUE(core.connect(5s).ok());
  Outcome done = outcome();
  conn()->request(Desk::Agent::kConfirm, question("anyone?"), settles(done));
  auto answer = wait(done);
  EXPECT_EQ(superline::error_code(answer.status()), "NOT_FOUND");
  EXPECT_EQ(answer.status().message(), "No handler for confirm");
}

INSTANTIATE_TEST_SUITE_P(Wires, TypedDeskTest, ::testing::Values(superline::Wire::kJson, superline::Wire::kProtobuf),
                         [](const auto& info) { return info.param == superline::Wire::kJson ? "Json" : "Protobuf"; });

}  // namespace
