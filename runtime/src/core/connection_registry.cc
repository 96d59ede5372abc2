#include "connection_registry.h"

#include "superline/internal/text.h"

namespace superline {

bool ConnectionRegistry::add(const std::shared_ptr<Conn>& conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!conns_.try_emplace(conn->id(), conn).second) return false;
  ++by_role_[static_cast<std::size_t>(conn->role())];
  return true;
}

bool ConnectionRegistry::remove(const Conn& conn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn.id());
  if (it == conns_.end() || it->second.get() != &conn) return false;
  conns_.erase(it);
  --by_role_[static_cast<std::size_t>(conn.role())];
  return true;
}

std::shared_ptr<Conn> ConnectionRegistry::find(std::string_view conn_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(absl_view(conn_id));
  return it == conns_.end() ? nullptr : it->second;
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conns_.size();
}

std::vector<std::size_t> ConnectionRegistry::count_by_role() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_role_;
}

std::vector<std::shared_ptr<Conn>> ConnectionRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Conn>> out;
  out.reserve(conns_.size());
  for (const auto& [id, conn] : conns_) out.push_back(conn);
  return out;
}

}  // namespace superline
