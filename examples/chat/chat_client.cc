// chat_client --port P [--host H] [--name NAME] [--room ROOM] [--text TEXT]
// A scripted session with the generated C++ client: connect as a user, subscribe to presence and
// announcements, join a room, send a message, and print everything received.
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "chat.superline.h"

int main(int argc, char** argv) {
  superline::ClientOptions options;
  std::string name = "alice", room = "lobby", text = "hello from the C++ client";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    int port = 0;
    if (flag == "--port" && absl::SimpleAtoi(value, &port)) {
      options.port = static_cast<uint16_t>(port);
    } else if (flag == "--host") {
      options.host = value;
    } else if (flag == "--name") {
      name = value;
    } else if (flag == "--room") {
      room = value;
    } else if (flag == "--text") {
      text = value;
    } else {
      std::cerr << "usage: chat_client --port P [--host H] [--name N] [--room R] [--text T]\n";
      return 2;
    }
  }
  options.params = {{"name", name}};
  options.reconnect = false;

  std::mutex out_mu;
  auto print = [&out_mu](const std::string& line) {
    std::lock_guard<std::mutex> lock(out_mu);
    std::cout << line << std::endl;
  };

  chat::ChatUserClient client(options);
  client.on(chat::Chat::Shared::kMessage, [&](const chat::ChatMessage& m) {
    print("event message: [" + m.room() + "] " + m.from() + ": " + m.text());
  });
  if (absl::Status s = client.connect(); !s.ok()) {
    std::cerr << "chat_client: " << s.message() << "\n";
    return 1;
  }
  print("connected to " + options.host + ":" + std::to_string(options.port) + " as " + name);
  absl::Status subscribed =
      client.subscribe(chat::Chat::Shared::kPresence, [&](const chat::PresenceUpdate& p) {
        print("topic presence: room " + p.room() + " has " + std::to_string(p.count()) + " member(s)");
      });
  print("subscribe presence: " + subscribed.ToString());

  chat::JoinRequest join;
  join.set_room(room);
  auto joined = client.join(join);
  if (!joined.ok()) {
    std::cerr << "chat_client: join failed: " << joined.status() << "\n";
    return 1;
  }
  print("join " + room + ": ok=" + (joined->ok() ? "true" : "false") +
        " members=" + std::to_string(joined->members()));

  chat::SendRequest send;
  send.set_room(room);
  send.set_text(text);
  auto sent = client.send(send);
  if (!sent.ok()) {
    std::cerr << "chat_client: send failed: " << sent.status() << "\n";
    return 1;
  }
  print("send: id=" + sent->id());

  chat::SendRequest stranger;
  stranger.set_room("elsewhere");
  stranger.set_text("not a member here");
  auto refused = client.send(stranger);
  print("send to a room not joined: " + refused.status().ToString() + " (code " +
        superline::error_code(refused.status()) + ")");

  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the broadcast arrive
  client.close();
  print("closed");
  return 0;
}
