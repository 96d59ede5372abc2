// The chat example's behaviour (DESIGN.md, "The reference example"), as handlers of the generated
// Chat contract. chat_server serves it; the end-to-end tests also run two of them on one MemoryBus.
#pragma once

#include <atomic>
#include <chrono>
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
  // How many other nodes `peers` lists at most, and how long a node's name may be.
  static constexpr size_t kMaxPeers = 256;
  static constexpr size_t kMaxNodeName = 128;

  // Every node sends its stats each `stats_period`; a peer not heard from for three periods is
  // forgotten.
  explicit ChatApp(std::chrono::milliseconds stats_period = std::chrono::seconds(2))
      : stats_period_(stats_period) {}

  // Accepts ?role=user|agent&name=<non-empty text>. A name that is not plain text (invalid UTF-8,
  // control characters) is refused with HTTP 400, a missing one or another role with 401.
  static absl::StatusOr<superline::Admission> authenticate(const superline::Handshake& handshake);

  superline::Reply<JoinReply> join(superline::Call<JoinReply, Chat::Shared>& call, const JoinRequest& request) override;
  superline::Reply<LeaveReply> leave(superline::Call<LeaveReply, Chat::Shared>& call, const LeaveRequest& request) override;
  superline::Reply<PeersReply> peers(superline::Call<PeersReply, Chat::Shared>& call, const PeersRequest& request) override;
  void typing(superline::RoleConn<Chat::Shared> conn, const TypingSignal& event) override;
  superline::Reply<SendReply> send(superline::Call<SendReply, Chat::User>& call, const SendRequest& request) override;
  superline::Reply<AnnounceReply> announce(superline::Call<AnnounceReply, Chat::Agent>& call,
                                           const AnnounceRequest& request) override;

  // What another node said about itself. Names longer than kMaxNodeName are ignored; with
  // kMaxPeers known, the one heard from longest ago makes room.
  void on_stats(const NodeStats& stats, std::string_view from_node) override;

  // Tells the other nodes this node's connection count (chat_server also calls it every period).
  void emit_stats();
  std::chrono::milliseconds stats_period() const { return stats_period_; }

#ifdef CHAT_APP_EXTRA_HANDLERS
  // The handlers a later version of the contract adds (tests/rolling builds the chat's v2 so).
#include CHAT_APP_EXTRA_HANDLERS
#endif

 private:
  struct Peer {
    int32_t conns = 0;
    std::chrono::steady_clock::time_point heard;
  };
  std::string next_id();
  void publish_presence(const std::string& room, int count);
  // Forgets peers not heard from for three stats periods. Needs peers_mu_.
  void forget_stale_peers(std::chrono::steady_clock::time_point now);

  const std::chrono::milliseconds stats_period_;
  std::atomic<uint64_t> sequence_{0};
  std::mutex peers_mu_;
  std::map<std::string, Peer> peers_;  // node name -> what it last said
};

// Installs the chat's authenticator and node stats on a server built with `app`.
void configure(ChatServer& server, ChatApp& app);

}  // namespace chat
