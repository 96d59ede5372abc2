// Handlers for the shapes test contract, each doing one observable thing (see shapes.proto).
#pragma once

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "shapes.superline.h"
#include "superline/status.h"

namespace testing_support {

using shapes::v1::Count;
using shapes::v1::Shapes;
using shapes::v1::Text;

class ShapesApp final : public Shapes::Handlers {
 public:
  superline::Reply<Text> echo(superline::Call<Text, Shapes::Shared>&, const Text& request) override { return request; }

  superline::Reply<Text> slow(superline::Call<Text, Shapes::Shared>& call, const Text& request) override {
    auto responder = call.defer();
    const auto delay = std::chrono::milliseconds(request.value() == "long" ? 3000 : 20);
    std::thread([responder, request, delay] {
      std::this_thread::sleep_for(delay);
      Text reply;
      reply.set_value(request.value() + "!");
      responder.reply(reply);
    }).detach();
    return superline::kDeferred;
  }

  superline::Reply<Text> crash(superline::Call<Text, Shapes::Shared>&, const Text&) override {
    throw std::runtime_error("secret detail");
  }

  // A custom code, or a canonical absl code mapped to its wire code ("who" -> UNAUTHORIZED).
  superline::Reply<Count> limited(superline::Call<Count, Shapes::Shared>&, const Text& request) override {
    if (request.value() == "who") return absl::UnauthenticatedError("log in first");
    return superline::error("RATE_LIMITED", "slow down");
  }

  superline::Reply<google::protobuf::Empty> dropped(superline::Call<google::protobuf::Empty, Shapes::Shared>& call,
                                                    const Text&) override {
    (void)call.defer();  // taken and dropped: the client must hear INTERNAL, not wait forever
    return superline::kDeferred;
  }

  void poke(superline::RoleConn<Shapes::Shared> conn, const Text& event) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pokes_.push_back(event.value());
    }
    Text notice;
    notice.set_value("poked:" + event.value());
    (void)conn.emit(Shapes::Shared::kNotice, notice);
  }

  superline::Reply<Count> member_post(superline::Call<Count, Shapes::Member>& call, const Text& request) override {
    server().room("members").add(call.conn());
    Count reply;
    reply.set_value(1);
    return reply;
  }

  // Node-to-node syncs heard from the other nodes, as "<value>@<node>".
  void on_sync(const Count& event, std::string_view from_node) override {
    std::lock_guard<std::mutex> lock(syncs_mu_);
    syncs_.push_back(std::to_string(event.value()) + "@" + std::string(from_node));
  }
  std::vector<std::string> syncs() {
    std::lock_guard<std::mutex> lock(syncs_mu_);
    return syncs_;
  }

  superline::Reply<Count> admin_post(superline::Call<Count, Shapes::Admin>&, const Text&) override {
    Count reply;
    reply.set_value(2);
    return reply;
  }

  std::vector<std::string> pokes() {
    std::lock_guard<std::mutex> lock(mu_);
    return pokes_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> pokes_;
  std::mutex syncs_mu_;
  std::vector<std::string> syncs_;
};

}  // namespace testing_support
