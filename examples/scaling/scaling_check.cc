// scaling_check --a PORT --b PORT
// Proves, with the generated C++ client, that three kinds of traffic from node B reach node A:
// a topic publish (presence), a room broadcast (message) and a serverToServer event (stats, seen
// through A's peers). Prints one line per check; exits 0 only if all pass.
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "chat.superline.h"

namespace {

using namespace std::chrono_literals;

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

superline::ClientOptions at(uint16_t port, const std::string& name) {
  superline::ClientOptions options;
  options.port = port;
  options.params = {{"name", name}};
  options.reconnect = false;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  int a = 0, b = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--a") (void)absl::SimpleAtoi(argv[i + 1], &a);
    if (flag == "--b") (void)absl::SimpleAtoi(argv[i + 1], &b);
  }
  if (a <= 0 || b <= 0) {
    std::cerr << "usage: scaling_check --a PORT --b PORT\n";
    return 2;
  }
  chat::ChatUserClient ann(at(static_cast<uint16_t>(a), "ann"));  // on node A
  chat::ChatUserClient bo(at(static_cast<uint16_t>(b), "bo"));    // on node B
  if (!ann.connect().ok() || !bo.connect().ok()) {
    std::cerr << "scaling_check: cannot connect to both nodes\n";
    return 1;
  }
  std::atomic<bool> presence_from_b{false}, message_from_b{false};
  ann.on(chat::Chat::Shared::kMessage, [&](const chat::ChatMessage& m) {
    if (m.from() == "bo") message_from_b = true;
  });
  chat::JoinRequest join;
  join.set_room("scaling");
  const bool joined = ann.join(join).ok();
  // Subscribed after A's own join, so the only presence update for this room can come from B.
  // The ack means A's subscription is live on Redis.
  const bool subscribed = ann.subscribe(chat::Chat::Shared::kPresence, [&](const chat::PresenceUpdate& p) {
    if (p.room() == "scaling") presence_from_b = true;
  }).ok();
  bool ok = subscribed && joined;

  (void)bo.join(join);
  const bool topic = eventually([&] { return presence_from_b.load(); });
  std::cout << (topic ? "ok  " : "FAIL") << " topic publish from B (presence) reached A" << std::endl;

  chat::SendRequest send;
  send.set_room("scaling");
  send.set_text("hello from node B");
  // A's room subscription may land a moment after its join reply (replies never wait on Redis),
  // so B sends until one arrives.
  const bool room = eventually([&] {
    (void)bo.send(send);
    return message_from_b.load();
  });
  std::cout << (room ? "ok  " : "FAIL") << " room broadcast from B (message) reached A" << std::endl;

  std::string seen;
  const bool stats = eventually([&] {
    auto peers = ann.peers(chat::PeersRequest());
    if (!peers.ok()) return false;
    for (const auto& peer : peers->peers()) {
      if (peer.node() == "B") {
        seen = "B with " + std::to_string(peer.conns()) + " connection(s)";
        return peers->self() == "A";
      }
    }
    return false;
  });
  std::cout << (stats ? "ok  " : "FAIL") << " serverToServer stats from B reached A" << (stats ? ": " + seen : "")
            << std::endl;
  ok = ok && topic && room && stats;
  ann.close();
  bo.close();
  return ok ? 0 : 1;
}
