// Cluster presence in Redis, and the key scheme it lives in:
//   sl:nodes          set of node ids
//   sl:alive:<node>   the node's name, expiring after its TTL (a crashed node's entries go stale)
//   sl:conns:<node>   hash connection -> user
//   sl:user:<user>    set of "<node>\t<connection>"
// Queries run as Lua scripts, one round trip each, and sweep what dead nodes left behind. What this
// node wrote is kept, and written again whenever the publish connection comes back (Redis may
// have restarted, or kept entries of connections that closed while it was unreachable).
// Thread-safety: the Presence methods from any thread (they post to the adapter's I/O thread);
// replay() and sweeps() on that thread / any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "redis_link.h"
#include "superline/presence.h"

namespace superline {

namespace redis_keys {
inline constexpr std::string_view kNodes = "sl:nodes";
std::string alive(std::string_view node);
std::string conns(std::string_view node);
std::string user(std::string_view user);
std::string user_entry(std::string_view node, std::string_view conn);  // a member of user()
}  // namespace redis_keys

class RedisPresence final : public Presence {
 public:
  // Commands go over `link` (the publish connection), on `ioc`'s thread.
  RedisPresence(boost::asio::io_context& ioc, RedisLink& link) : ioc_(ioc), link_(link) {}

  void add(std::string_view node, std::string_view conn, std::string_view user) override;
  void remove(std::string_view node, std::string_view conn, std::string_view user) override;
  void beat(std::string_view node, std::string_view name, std::chrono::milliseconds ttl) override;
  void clear_node(std::string_view node) override;
  void topology(std::function<void(absl::StatusOr<std::vector<NodePresence>>)> done) override;
  void is_online(std::string_view user, std::function<void(absl::StatusOr<bool>)> done) override;

  // The link is back: writes this node's beat and makes its connection entries exactly the live
  // ones. I/O thread.
  void replay();
  // Queries that swept dead nodes' entries, since start.
  uint64_t sweeps() const { return sweeps_.load(std::memory_order_relaxed); }

 private:
  void write_beat();
  void write_conn(const std::string& node, const std::string& conn, const std::string& user);

  boost::asio::io_context& ioc_;
  RedisLink& link_;
  std::atomic<uint64_t> sweeps_{0};

  // What this node wrote (I/O thread only).
  struct Beat {
    std::string node, name;
    std::chrono::milliseconds ttl;
  };
  struct ConnEntry {
    std::string node, user;
  };
  std::optional<Beat> beat_;
  absl::flat_hash_map<std::string, ConnEntry> local_conns_;
};

}  // namespace superline
