#include "superline/room.h"

#include "channel_registry.h"
#include "channels.h"
#include "superline/server.h"

namespace superline {

Room::Room(Server& server, std::string name)
    : server_(server), name_(std::move(name)), channel_(channels::room(name_)) {}

void Room::add(Conn& conn, std::function<void(absl::Status)> live) {
  server_.channels_->join(conn.shared_from_this(), channel_, std::move(live));
}

void Room::remove(Conn& conn) { server_.channels_->leave(conn, channel_); }

bool Room::contains(const Conn& conn) const {
  for (const std::string& channel : conn.channels()) {
    if (channel == channel_) return true;
  }
  return false;
}

std::size_t Room::size() const { return server_.channels_->member_count(channel_); }

std::vector<std::string> Room::members() const { return server_.channels_->member_ids(channel_); }

absl::Status Room::broadcast_frame(SharedFrame frame, std::string_view except_conn) const {
  return server_.publish(channel_, frame, except_conn);
}

}  // namespace superline
