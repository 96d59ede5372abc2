// The contract's constraints on the wire: a request, a client event and a node-to-node event that
// fail them never reach their handler, and the client hears VALIDATION with the issues, on both
// wires, through the raw frames and the typed C++ client.
#include <gtest/gtest.h>

#include <atomic>

#include "../support/eventually.h"
#include "rules.superline.h"
#include "superline/adapter.h"
#include "superline/validation.h"
#include "superline/websocket.h"
#include "superline/wire.pb.h"
#include "ws_test_client.h"

namespace {

using namespace std::chrono_literals;
using rules::v1::Rules;
using testing_support::eventually;
using P = std::vector<superline::PathElement>;
using e2e::WsTestClient;

class RulesApp final : public Rules::Handlers {
 public:
  superline::Reply<rules::v1::Ok> submit(superline::Call<rules::v1::Ok, Rules::Clerk>&, const rules::v1::Form&) override {
    ++submits;
    rules::v1::Ok ok;
    ok.set_ok(true);
    return ok;
  }
  void remark(superline::RoleConn<Rules::Clerk>, const rules::v1::Note& note) override {
    ++remarks;
    last_remark = note.text();
  }
  void on_relay(const rules::v1::Note&, std::string_view) override { ++relays; }

  std::atomic<int> submits{0}, remarks{0}, relays{0};
  std::string last_remark;
};

class RulesServerTest : public ::testing::Test {
 protected:
  RulesServerTest() {
    server_.authenticate([](const superline::Handshake&) -> absl::StatusOr<superline::Admission> {
      return Rules::admit(Rules::Role::kClerk);
    });
    EXPECT_TRUE(transport_.start().ok());
  }
  RulesApp app_;
  rules::v1::RulesServer server_{app_};
  superline::WebSocketServer transport_{server_, superline::ListenOptions{}};
};

TEST_F(RulesServerTest, ARequestThatFailsTheConstraintsIsValidationOnTheJsonWire) {
  auto c = WsTestClient::open(transport_.port(), "/");
  EXPECT_EQ(c->request("submit", R"j({"name":"a","mainLine":{"sku":"x","qty":500},"agreed":true})j"),
            R"j({"t":"err","i":1001,"code":"VALIDATION","m":"Validation failed","d":[)j"
            R"j({"path":["name"],"code":"too_small","message":"String must contain at least 2 character(s)"},)j"
            R"j({"path":["mainLine","qty"],"code":"too_big","message":"Number must be less than or equal to 99"}]})j");
  // Unset required fields, a type error: each with its path.
  EXPECT_EQ(c->request("submit", "{}"),
            R"j({"t":"err","i":1002,"code":"VALIDATION","m":"Validation failed","d":[)j"
            R"j({"path":["name"],"code":"invalid_type","message":"Required"},)j"
            R"j({"path":["mainLine"],"code":"invalid_type","message":"Required"},)j"
            R"j({"path":["agreed"],"code":"invalid_type","message":"Required"}]})j");
  EXPECT_EQ(c->request("submit", R"j({"name":"ann","lines":[{"sku":7}]})j"),
            R"j({"t":"err","i":1003,"code":"VALIDATION","m":"Validation failed","d":[)j"
            R"j({"path":["lines",0,"sku"],"code":"invalid_type","message":"Expected string, received number"}]})j");
  EXPECT_EQ(app_.submits, 0);  // the handler never ran
  EXPECT_EQ(c->request("submit", R"j({"name":"ann","mainLine":{"sku":"x"},"agreed":false})j"),
            R"j({"t":"res","i":1004,"d":{"ok":true}})j");
  EXPECT_EQ(app_.submits, 1);
}

TEST_F(RulesServerTest, ARequestThatFailsTheConstraintsIsValidationOnTheBinaryWire) {
  auto dialed = WsTestClient::dial(transport_.port(), "/", "superline.pb.v1");
  ASSERT_TRUE(dialed.upgraded);
  auto& c = *dialed.client;
  c.read();  // env
  rules::v1::Form form;
  form.set_name("toolong");
  form.mutable_main_line()->set_sku("x");
  form.set_agreed(true);
  superline::wire::Frame req;
  req.set_t(superline::wire::Frame::REQ);
  req.set_i(5);
  req.set_m("submit");
  req.set_d(form.SerializeAsString());
  c.send(req.SerializeAsString(), /*binary=*/true);
  superline::wire::Frame err;
  ASSERT_TRUE(err.ParseFromString(c.read().value_or("")));
  EXPECT_EQ(err.t(), superline::wire::Frame::ERR);
  EXPECT_EQ(err.i(), 5u);
  EXPECT_EQ(err.code(), "VALIDATION");
  EXPECT_EQ(err.m(), "Validation failed");
  superline::wire::ValidationIssues issues;
  ASSERT_TRUE(issues.ParseFromString(err.d()));
  ASSERT_EQ(issues.issues_size(), 1);
  ASSERT_EQ(issues.issues(0).path_size(), 1);
  EXPECT_EQ(issues.issues(0).path(0).key(), "name");
  EXPECT_EQ(issues.issues(0).code(), "too_big");
  EXPECT_EQ(issues.issues(0).message(), "String must contain at most 5 character(s)");
  EXPECT_EQ(app_.submits, 0);
}

TEST_F(RulesServerTest, AClientEventThatFailsTheConstraintsIsReportedAndNotHandled) {
  auto c = WsTestClient::open(transport_.port(), "/");
  c->send(R"j({"t":"cev","m":"remark","d":{"text":""}})j");
  EXPECT_EQ(c->read(), R"j({"t":"err","code":"VALIDATION","m":"Validation failed","d":[)j"
                       R"j({"path":["text"],"code":"invalid_type","message":"Required"}]})j");
  c->send(R"j({"t":"cev","m":"remark","d":{"text":"fine"}})j");
  ASSERT_TRUE(eventually([&] { return app_.remarks == 1; }));
  EXPECT_EQ(app_.last_remark, "fine");
}

class TypedRulesTest : public RulesServerTest, public ::testing::WithParamInterface<superline::Wire> {};

TEST_P(TypedRulesTest, TheTypedClientReadsTheIssuesBack) {
  superline::ClientOptions options;
  options.port = transport_.port();
  options.wire = GetParam();
  rules::v1::RulesClerkClient client(options);
  ASSERT_TRUE(client.connect().ok());
  rules::v1::Form form;
  form.set_name("ann");
  form.set_agreed(true);
  for (int i = 0; i < 4; ++i) form.add_lines()->set_sku("s");
  const auto reply = client.submit(form);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(superline::error_code(reply.status()), "VALIDATION");
  EXPECT_EQ(superline::validation_issues(reply.status()),
            (std::vector<superline::ValidationIssue>{
                {P{"lines"}, "too_big", "Array must contain at most 3 element(s)"},
                {P{"mainLine"}, "invalid_type", "Required"},
            }));
  EXPECT_EQ(reply.status().message(), "lines: Array must contain at most 3 element(s) (and 1 more)");
  EXPECT_EQ(app_.submits, 0);
}

INSTANTIATE_TEST_SUITE_P(Wires, TypedRulesTest, ::testing::Values(superline::Wire::kJson, superline::Wire::kProtobuf),
                         [](const auto& info) { return info.param == superline::Wire::kJson ? "Json" : "Protobuf"; });

// A node of another contract version may send what this one refuses: the handler never sees it.
TEST(RulesAcrossNodes, ANodeToNodePayloadThatFailsTheConstraintsIsReportedNotHandled) {
  auto bus = std::make_shared<superline::MemoryBus>();
  RulesApp app_a, app_b;
  rules::v1::RulesServer a(app_a, {}, std::make_shared<superline::MemoryAdapter>(bus));
  rules::v1::RulesServer b(app_b, {}, std::make_shared<superline::MemoryAdapter>(bus));
  std::vector<std::string> errors;
  b.on_error([&](const absl::Status& s, const superline::ErrorInfo&) { errors.emplace_back(s.message()); });
  rules::v1::Note note;
  a.emit_server(Rules::ServerToServer::kRelay, note);  // text is required
  EXPECT_EQ(app_b.relays, 0);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'relay' payload from node " + a.node_id() + " fails the contract: text: Required"),
            std::string::npos)
      << errors[0];
  note.set_text("hello");
  a.emit_server(Rules::ServerToServer::kRelay, note);
  EXPECT_EQ(app_b.relays, 1);
}

}  // namespace
