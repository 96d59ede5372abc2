// The chat example's behaviour (DESIGN.md, "The reference example"), as handlers of the generated
// Chat contract. chat_server serves it; the end-to-end tests also run two of them on one MemoryBus.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "chat.superline.h"

namespace chat {

// What the authenticator learned about a connection.
struct ChatCtx {
  std::string name;
};

class ChatApp final : public Chat::Handlers {
 public:
  // Accepts ?role=user|agent&name=<non-empty>; anything else is refused (HTTP 401).
  static absl::StatusOr<superline::Admission> authenticate(const superline::Handshake& handshake);

  superline::Reply<JoinReply> join(superline::Call<JoinReply>& call, const JoinRequest& request) override;
  superline::Reply<LeaveReply> leave(superline::Call<LeaveReply>& call, const LeaveRequest& request) override;
  superline::Reply<PeersReply> peers(superline::Call<PeersReply>& call, const PeersRequest& request) override;
  void typing(superline::Conn& conn, const TypingSignal& event) override;
  superline::Reply<SendReply> send(superline::Call<SendReply>& call, const SendRequest& request) override;
  superline::Reply<AnnounceReply> announce(superline::Call<AnnounceReply>& call,
                                           const AnnounceRequest& request) override;

  // Tells the other nodes this node's connection count (chat_server also calls it every 2 s).
  void emit_stats();
  // What another node said about itself.
  void record_peer(const NodeStats& stats);

 private:
  std::string next_id();
  void publish_presence(const std::string& room, int count);

  std::atomic<uint64_t> sequence_{0};
  std::mutex peers_mu_;
  std::map<std::string, int32_t> peers_;  // node name -> its last reported connection count
};

// Installs the chat's authenticator and node stats on a server built with `app`.
void configure(ChatServer& server, ChatApp& app);

}  // namespace chat
