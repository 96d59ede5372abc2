// The Desk test contract's server handlers (tests/contracts/desk.proto), shared by the C++ e2e tests
// and desk_server (the TypeScript tests' server): ask asks the caller back, move_desk sets its env.
#pragma once

#include <string>

#include "desk.superline.h"

namespace testing_support {

class DeskApp final : public desk::v1::Desk::Handlers {
 public:
  using Desk = desk::v1::Desk;

  superline::Reply<desk::v1::Who> whoami(superline::Call<desk::v1::Who, Desk::Shared>& call,
                                         const desk::v1::Empty&) override {
    desk::v1::Who who;
    who.set_conn(call.conn().id());
    return who;
  }

  superline::Reply<desk::v1::AskReply> ask(superline::Call<desk::v1::AskReply, Desk::Shared>& call,
                                           const desk::v1::AskRequest& request) override {
    superline::RequestOptions options;
    if (request.timeout_ms() > 0) options.timeout = std::chrono::milliseconds(request.timeout_ms());
    auto respond = [responder = call.defer()](const absl::Status& status, desk::v1::AskReply reply) {
      if (!status.ok()) {
        reply.set_code(superline::error_code(status));
        reply.set_message(std::string(status.message()));
      }
      responder.reply(reply);
    };
    superline::Conn& conn = call.conn();
    if (request.method() == "ping") {
      desk::v1::PingRequest ping;
      ping.set_n(request.n());
      conn.request(Desk::Shared::kPing, ping, [respond](absl::StatusOr<desk::v1::PingReply> r) {
        desk::v1::AskReply reply;
        if (r.ok()) reply.set_n(r->n());
        respond(r.status(), reply);
      }, options);
    } else {
      desk::v1::Question question;
      question.set_q(request.q());
      // Untyped: a visitor asked to confirm hears FAILED_PRECONDITION.
      conn.request(request.method(), question, [respond](absl::StatusOr<std::string> raw) {
        desk::v1::AskReply reply;
        desk::v1::Answer answer;
        if (raw.ok() && answer.ParseFromString(*raw)) {
          reply.set_ok(answer.ok());
          reply.set_note(answer.note());
        }
        respond(raw.status(), reply);
      }, options);
    }
    return superline::kDeferred;
  }

  void ready(superline::RoleConn<Desk::Agent>, const desk::v1::Empty&) override {}

  superline::Reply<desk::v1::Empty> move_desk(superline::Call<desk::v1::Empty, Desk::Agent>& call,
                                              const desk::v1::AgentEnv& env) override {
    if (absl::Status set = call.conn().set_env(env); !set.ok()) return set;
    return desk::v1::Empty();
  }

  superline::Reply<desk::v1::Empty> look(superline::Call<desk::v1::Empty, Desk::Visitor>&,
                                         const desk::v1::Empty&) override {
    return desk::v1::Empty();
  }
};

inline desk::v1::AgentEnv agent_env(std::string desk, int shift) {
  desk::v1::AgentEnv env;
  env.set_desk(std::move(desk));
  env.set_shift(shift);
  return env;
}

// ?role=agent|visitor, ?user=<id>; agents start at desk d1, shift 2.
inline void admit_by_query(desk::v1::DeskServer& server) {
  server.authenticate([](const superline::Handshake& h) -> absl::StatusOr<superline::Admission> {
    std::string user(h.raw_query_param("user"));
    if (h.raw_query_param("role") == "visitor") return desk::v1::Desk::admit(desk::v1::Desk::Role::kVisitor, {}, user);
    return desk::v1::Desk::admit(desk::v1::Desk::kAgent, agent_env("d1", 2), {}, user);
  });
}

}  // namespace testing_support
