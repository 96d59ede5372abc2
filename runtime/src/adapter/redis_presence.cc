#include "redis_presence.h"

#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <vector>

#include "superline/internal/text.h"
#include "superline/rendezvous.h"

namespace superline {

namespace net = boost::asio;

namespace redis_keys {
std::string alive(std::string_view node) { return cat("sl:alive:", node); }
std::string conns(std::string_view node) { return cat("sl:conns:", node); }
std::string user(std::string_view user) { return cat("sl:user:", user); }
std::string user_entry(std::string_view node, std::string_view conn) { return cat(node, "\t", conn); }
}  // namespace redis_keys

namespace {

// The scripts spell the key scheme out in Lua; the header names it.
constexpr char kTopologyScript[] = R"lua(
local out = {}
for _, n in ipairs(redis.call('SMEMBERS', 'sl:nodes')) do
  local name = redis.call('GET', 'sl:alive:' .. n)
  if name then
    table.insert(out, n)
    table.insert(out, name)
    table.insert(out, redis.call('HLEN', 'sl:conns:' .. n))
  else
    redis.call('SREM', 'sl:nodes', n)
    redis.call('DEL', 'sl:conns:' .. n)
  end
end
return out)lua";

constexpr char kOnlineScript[] = R"lua(
for _, m in ipairs(redis.call('SMEMBERS', 'sl:user:' .. ARGV[1])) do
  local node = string.match(m, '^([^\t]*)\t')
  if node and redis.call('EXISTS', 'sl:alive:' .. node) == 1 then return 1 end
  redis.call('SREM', 'sl:user:' .. ARGV[1], m)
end
return 0)lua";

// Makes a node's connection entries exactly ARGV[2..] (connection, user pairs): what it wrote
// before is removed first, so connections that closed while the node could not reach Redis vanish.
constexpr char kReplaceNodeConnsScript[] = R"lua(
local node = ARGV[1]
local old = redis.call('HGETALL', 'sl:conns:' .. node)
for i = 1, #old, 2 do
  if old[i + 1] ~= '' then redis.call('SREM', 'sl:user:' .. old[i + 1], node .. '\t' .. old[i]) end
end
redis.call('DEL', 'sl:conns:' .. node)
for i = 2, #ARGV, 2 do
  redis.call('HSET', 'sl:conns:' .. node, ARGV[i], ARGV[i + 1])
  if ARGV[i + 1] ~= '' then redis.call('SADD', 'sl:user:' .. ARGV[i + 1], node .. '\t' .. ARGV[i]) end
end
return 1)lua";

constexpr char kClearNodeScript[] = R"lua(
local conns = redis.call('HGETALL', 'sl:conns:' .. ARGV[1])
for i = 1, #conns, 2 do
  if conns[i + 1] ~= '' then redis.call('SREM', 'sl:user:' .. conns[i + 1], ARGV[1] .. '\t' .. conns[i]) end
end
redis.call('DEL', 'sl:conns:' .. ARGV[1], 'sl:alive:' .. ARGV[1])
redis.call('SREM', 'sl:nodes', ARGV[1])
return 1)lua";

}  // namespace

void RedisPresence::add(std::string_view node, std::string_view conn, std::string_view user) {
  net::post(ioc_, [this, node = std::string(node), conn = std::string(conn), user = std::string(user)] {
    local_conns_[conn] = {node, user};
    write_conn(node, conn, user);
  });
}

void RedisPresence::remove(std::string_view node, std::string_view conn, std::string_view user) {
  net::post(ioc_, [this, node = std::string(node), conn = std::string(conn), user = std::string(user)] {
    local_conns_.erase(conn);
    if (!link_.ready()) return;
    link_.command({"HDEL", redis_keys::conns(node), conn});
    if (!user.empty()) link_.command({"SREM", redis_keys::user(user), redis_keys::user_entry(node, conn)});
  });
}

void RedisPresence::beat(std::string_view node, std::string_view name, std::chrono::milliseconds ttl) {
  net::post(ioc_, [this, node = std::string(node), name = std::string(name), ttl] {
    beat_ = Beat{node, name, ttl};
    write_beat();
  });
}

void RedisPresence::clear_node(std::string_view node) {
  // Synchronous: a graceful shutdown clears its node before the adapter goes away.
  auto sent = std::make_shared<Rendezvous<bool>>();
  net::post(ioc_, [this, node = std::string(node), sent] {
    beat_.reset();
    local_conns_.clear();
    if (!link_.ready()) return sent->set(true);
    link_.command({"EVAL", kClearNodeScript, "0", node}, [sent](redisReply*) { sent->set(true); });
  });
  sent->wait_for(std::chrono::seconds(2));
}

void RedisPresence::topology(std::function<void(absl::StatusOr<std::vector<NodePresence>>)> done) {
  net::post(ioc_, [this, done = std::move(done)]() mutable {
    if (!link_.ready()) return done(absl::UnavailableError("Redis is unreachable"));
    sweeps_.fetch_add(1, std::memory_order_relaxed);  // the script drops dead nodes as it goes
    link_.command({"EVAL", kTopologyScript, "0"}, [done = std::move(done)](redisReply* r) {
      if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return done(absl::UnavailableError("presence query failed"));
      std::vector<NodePresence> nodes;
      for (size_t i = 0; i + 2 < r->elements; i += 3) {  // (id, name, connections) per live node
        nodes.push_back({std::string(r->element[i]->str, r->element[i]->len),
                         std::string(r->element[i + 1]->str, r->element[i + 1]->len),
                         static_cast<size_t>(r->element[i + 2]->integer)});
      }
      done(std::move(nodes));
    });
  });
}

void RedisPresence::is_online(std::string_view user, std::function<void(absl::StatusOr<bool>)> done) {
  net::post(ioc_, [this, user = std::string(user), done = std::move(done)]() mutable {
    if (!link_.ready()) return done(absl::UnavailableError("Redis is unreachable"));
    sweeps_.fetch_add(1, std::memory_order_relaxed);  // and this one a user's entries on dead nodes
    link_.command({"EVAL", kOnlineScript, "0", user}, [done = std::move(done)](redisReply* r) {
      if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return done(absl::UnavailableError("presence query failed"));
      done(r->integer == 1);
    });
  });
}

void RedisPresence::replay() {
  write_beat();
  if (!beat_ || !link_.ready()) return;
  std::vector<std::string> args = {"EVAL", kReplaceNodeConnsScript, "0", beat_->node};
  args.reserve(4 + 2 * local_conns_.size());
  for (const auto& [conn, entry] : local_conns_) {
    args.push_back(conn);
    args.push_back(entry.user);
  }
  link_.command(args);
}

void RedisPresence::write_beat() {
  if (!beat_ || !link_.ready()) return;
  link_.command({"SET", redis_keys::alive(beat_->node), beat_->name, "PX", std::to_string(beat_->ttl.count())});
  link_.command({"SADD", redis_keys::kNodes, beat_->node});
}

void RedisPresence::write_conn(const std::string& node, const std::string& conn, const std::string& user) {
  if (!link_.ready()) return;
  link_.command({"HSET", redis_keys::conns(node), conn, user});
  if (!user.empty()) link_.command({"SADD", redis_keys::user(user), redis_keys::user_entry(node, conn)});
}

}  // namespace superline
