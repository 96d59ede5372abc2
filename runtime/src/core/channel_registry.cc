#include "channel_registry.h"

#include "channels.h"
#include "superline/internal/text.h"

namespace superline {

void ChannelRegistry::join(const std::shared_ptr<Conn>& conn, const std::string& channel, Live live) {
  if (!conn->join_channel(channel)) {
    // Already a member, or closed: nothing changes; a subscriber still gets its answer.
    if (live) live(absl::OkStatus());
    return;
  }
  add_interest(channel, [&conn](Channel& slot) { slot.members[conn->id()] = conn; }, std::move(live));
}

void ChannelRegistry::leave(Conn& conn, const std::string& channel) {
  if (conn.leave_channel(channel)) remove_member(channel, conn.id());
}

void ChannelRegistry::leave_all(Conn& conn) {
  for (const std::string& channel : conn.take_channels()) remove_member(channel, conn.id());
}

void ChannelRegistry::add_listener(const std::string& channel, uint64_t id, Listener listener, Live live) {
  add_interest(channel, [&](Channel& slot) { slot.listeners[id] = std::move(listener); }, std::move(live));
}

void ChannelRegistry::add_interest(const std::string& channel, const std::function<void(Channel&)>& add,
                                   Live live) {
  bool live_now = false;
  {
    std::lock_guard<std::mutex> order(order_mu_);
    bool subscribe = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& slot = channels_[channel];
      if (!slot) {
        slot = std::make_unique<Channel>();
        count(channel, +1);
      }
      add(*slot);
      if (slot->live) {
        live_now = true;
      } else {
        if (live) slot->waiting.push_back(std::move(live));
        // A new channel, or one whose last subscribe failed (its broker was away): ask (again).
        subscribe = !slot->subscribing;
        slot->subscribing = true;
      }
    }
    if (subscribe) {
      adapter_.subscribe(channel, [this, channel](absl::Status status) { subscribed(channel, status); });
    }
  }
  if (live_now && live) live(absl::OkStatus());
}

void ChannelRegistry::subscribed(const std::string& channel, const absl::Status& status) {
  std::vector<Live> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    it->second->live = status.ok();
    it->second->subscribing = false;
    waiting.swap(it->second->waiting);
  }
  for (auto& callback : waiting) callback(status);
}

void ChannelRegistry::remove_member(const std::string& channel, std::string_view conn_id) {
  std::lock_guard<std::mutex> order(order_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    it->second->members.erase(absl_view(conn_id));
  }
  drop_if_unused(channel);
}

void ChannelRegistry::remove_listener(uint64_t id) {
  std::lock_guard<std::mutex> order(order_mu_);
  std::string emptied;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, channel] : channels_) {
      if (channel->listeners.erase(id) > 0) {
        emptied = name;
        break;
      }
    }
  }
  if (!emptied.empty()) drop_if_unused(emptied);
}

void ChannelRegistry::drop_if_unused(const std::string& channel) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end() || !it->second->members.empty() || !it->second->listeners.empty()) return;
    channels_.erase(it);
    count(channel, -1);
  }
  adapter_.unsubscribe(channel);
}

void ChannelRegistry::count(std::string_view channel, int delta) {
  auto apply = [delta](std::size_t& n) { delta > 0 ? ++n : --n; };
  apply(counts_.total);
  const auto parsed = channels::parse(channel);
  if (!parsed) return;
  switch (parsed->kind) {
    case channels::Kind::kRoom:
      return apply(counts_.rooms);
    case channels::Kind::kTopic:
      return apply(counts_.topics);
    case channels::Kind::kConn:
    case channels::Kind::kUser:
      return apply(counts_.personal);
    case channels::Kind::kServer:
    case channels::Kind::kReply:
      return;
  }
}

std::size_t ChannelRegistry::member_count(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(absl_view(channel));
  return it == channels_.end() ? 0 : it->second->members.size();
}

std::vector<std::string> ChannelRegistry::member_ids(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  if (auto it = channels_.find(absl_view(channel)); it != channels_.end()) {
    for (const auto& [id, conn] : it->second->members) out.push_back(id);
  }
  return out;
}

std::vector<Listener> ChannelRegistry::listeners(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Listener> out;
  if (auto it = channels_.find(absl_view(channel)); it != channels_.end()) {
    for (const auto& [id, listener] : it->second->listeners) out.push_back(listener);
  }
  return out;
}

bool ChannelRegistry::recipients(std::string_view channel, std::string_view except_conn, bool with_listeners,
                                 Recipients& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(absl_view(channel));
  if (it == channels_.end()) return false;
  out.members.reserve(it->second->members.size());
  for (const auto& [id, conn] : it->second->members) {
    if (id != except_conn) out.members.push_back(conn);
  }
  if (with_listeners) {
    for (const auto& [id, listener] : it->second->listeners) out.listeners.push_back(listener);
  }
  return true;
}

ChannelRegistry::Counts ChannelRegistry::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

}  // namespace superline
