#include "chat_app.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "superline/status.h"

namespace chat {
namespace {

std::string name_of(const superline::Conn& conn) {
  const ChatCtx* ctx = conn.ctx<ChatCtx>();
  return ctx ? ctx->name : std::string();
}

}  // namespace

absl::StatusOr<superline::Admission> ChatApp::authenticate(const superline::Handshake& handshake) {
  const absl::StatusOr<std::string_view> role = handshake.query_param("role");
  const absl::StatusOr<std::string_view> name = handshake.query_param("name");
  if (!name.ok()) return name.status();  // HTTP 400: it could not be shown as it was sent
  if (name->empty()) return absl::UnauthenticatedError("name is required");
  // The name is also the user id: to_user(name) reaches all of a person's connections.
  const std::string who(*name);
  if (role.ok() && *role == "user") return Chat::admit(Chat::Role::kUser, ChatCtx{who}, who);
  if (role.ok() && *role == "agent") return Chat::admit(Chat::Role::kAgent, ChatCtx{who}, who);
  return absl::UnauthenticatedError("role must be user or agent");
}

void configure(ChatServer& server, ChatApp& app) {
  server.authenticate(&ChatApp::authenticate);
  server.on_connection([&app](superline::Conn&) { app.emit_stats(); });
  server.on_disconnect([&app](superline::Conn&, uint16_t) { app.emit_stats(); });
}

void ChatApp::emit_stats() {
  NodeStats stats;
  stats.set_node(server().core().node_name());
  stats.set_conns(static_cast<int32_t>(server().core().connection_count()));
  server().emit_server(Chat::ServerToServer::kStats, stats);
}

void ChatApp::on_stats(const NodeStats& stats, std::string_view) {
  if (stats.node().empty() || stats.node().size() > kMaxNodeName) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(stats.node());
  if (it == peers_.end()) {
    forget_stale_peers(now);
    if (peers_.size() >= kMaxPeers) {
      peers_.erase(std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
        return a.second.heard < b.second.heard;
      }));
    }
    it = peers_.emplace(stats.node(), Peer{}).first;
  }
  it->second = Peer{stats.conns(), now};
}

void ChatApp::forget_stale_peers(std::chrono::steady_clock::time_point now) {
  std::erase_if(peers_, [&](const auto& peer) { return now - peer.second.heard > 3 * stats_period_; });
}

std::string ChatApp::next_id() { return absl::StrCat(server().core().node_name(), "-", ++sequence_); }

void ChatApp::publish_presence(const std::string& room, int count) {
  PresenceUpdate update;
  update.set_room(room);
  update.set_count(count);
  // Never too large to send: the contract bounds room names.
  server().publish(Chat::Shared::kPresence, update).IgnoreError();
}

superline::Reply<JoinReply> ChatApp::join(superline::Call<JoinReply, Chat::Shared>& call, const JoinRequest& request) {
  // The contract bounds the room name (required, at most 64 characters): checked before this runs.
  auto room = server().room(request.room());
  room.add(call.conn());
  const int members = static_cast<int>(room.size());
  publish_presence(request.room(), members);
  JoinReply reply;
  reply.set_ok(true);
  reply.set_members(members);
  return reply;
}

superline::Reply<LeaveReply> ChatApp::leave(superline::Call<LeaveReply, Chat::Shared>& call, const LeaveRequest& request) {
  auto room = server().room(request.room());
  const bool was_member = room.contains(call.conn());
  room.remove(call.conn());
  const int members = static_cast<int>(room.size());
  if (was_member) publish_presence(request.room(), members);
  LeaveReply reply;
  reply.set_ok(was_member);
  reply.set_members(members);
  return reply;
}

superline::Reply<PeersReply> ChatApp::peers(superline::Call<PeersReply, Chat::Shared>&, const PeersRequest&) {
  PeersReply reply;
  reply.set_self(server().core().node_name());
  std::lock_guard<std::mutex> lock(peers_mu_);
  forget_stale_peers(std::chrono::steady_clock::now());
  for (const auto& [node, heard] : peers_) {
    PeerStats* peer = reply.add_peers();
    peer->set_node(node);
    peer->set_conns(heard.conns);
  }
  return reply;
}

void ChatApp::typing(superline::RoleConn<Chat::Shared> conn, const TypingSignal& event) {
  auto room = server().room(event.room());
  if (!room.contains(conn)) return;
  TypingNotice typing;
  typing.set_room(event.room());
  typing.set_from(name_of(conn));
  room.broadcast_except(conn, Chat::Shared::kUserTyping, typing).IgnoreError();  // small: a name and a room
}

superline::Reply<SendReply> ChatApp::send(superline::Call<SendReply, Chat::User>& call, const SendRequest& request) {
  auto room = server().room(request.room());
  if (!room.contains(call.conn())) {
    return superline::error(superline::kForbidden,
                            absl::StrCat("not a member of room '", request.room(), "'"));
  }
  ChatMessage message;
  message.set_room(request.room());
  message.set_text(request.text());
  message.set_from(name_of(call.conn()));
  // Refused when the encoded message would be over the server's outbound limit: tell the sender.
  if (absl::Status sent = room.broadcast(Chat::Shared::kMessage, message); !sent.ok()) return sent;
  SendReply reply;
  reply.set_id(next_id());
  return reply;
}

superline::Reply<AnnounceReply> ChatApp::announce(superline::Call<AnnounceReply, Chat::Agent>& call,
                                                  const AnnounceRequest& request) {
  Announcement announcement;
  announcement.set_text(request.text());
  announcement.set_from(name_of(call.conn()));
  if (absl::Status sent = server().for_role(Chat::kUser).publish(Chat::User::kAnnouncements, announcement);
      !sent.ok()) {
    return sent;
  }
  AnnounceReply reply;
  reply.set_id(next_id());
  return reply;
}

}  // namespace chat
