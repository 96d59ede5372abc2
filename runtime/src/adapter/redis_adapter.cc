// RedisAdapter: hiredis 0.14 async contexts driven by Asio. hiredis has no Asio adapter, no
// reconnect and no timeouts; this file provides all three. Everything that touches hiredis runs on
// the adapter's single I/O thread, and nothing touches a context after its cleanup hook ran.
#include "superline/redis_adapter.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>

#include <atomic>
#include <boost/asio.hpp>
#include <csignal>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "superline/rendezvous.h"
#include "superline/internal/log.h"
#include "superline/internal/text.h"

namespace superline {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

absl::StatusOr<RedisUrl> RedisUrl::parse(std::string_view url) {
  const std::string_view scheme = "redis://";
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        cat("bad Redis URL '", url, "': ", why, " (expected redis://[:password@]host[:port][/db])"));
  };
  if (url.substr(0, scheme.size()) != scheme) return bad("it must start with redis://");
  std::string_view rest = url.substr(scheme.size());
  RedisUrl out;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    if (auth.empty() || auth[0] != ':') return bad("credentials must be ':password'");
    out.password = std::string(auth.substr(1));
    rest.remove_prefix(at + 1);
  }
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!absl::SimpleAtoi(absl_view(db), &out.db) || out.db < 0))
      return bad("the db must be a number");
    rest = rest.substr(0, slash);
  }
  if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(absl_view(rest.substr(colon + 1)), &port) || port <= 0 || port > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("the host is missing");
  out.host = std::string(rest);
  return out;
}

namespace {

// Presence keys: sl:nodes (set of node ids), sl:alive:<node> (its name, expiring after the TTL),
// sl:conns:<node> (hash connection -> user), sl:user:<user> (set of "node\tconnection").
// Queries run as scripts, one round trip each, and sweep what dead nodes left behind.
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

// Runs a command on `ctx` with a std::function as its callback (called once, with null on teardown).
void command(redisAsyncContext* ctx, std::vector<std::string> args, std::function<void(redisReply*)> done) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* callback = done ? new std::function<void(redisReply*)>(std::move(done)) : nullptr;
  const int rc = redisAsyncCommandArgv(
      ctx,
      callback == nullptr ? nullptr
                          : +[](redisAsyncContext*, void* reply, void* privdata) {
                              auto* cb = static_cast<std::function<void(redisReply*)>*>(privdata);
                              (*cb)(static_cast<redisReply*>(reply));
                              delete cb;
                            },
      callback, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (rc != REDIS_OK && callback != nullptr) {
    (*callback)(nullptr);
    delete callback;
  }
}

}  // namespace

// One hiredis connection bridged to Asio: hiredis asks, through five hooks, to watch its socket for
// reading or writing; a stream_descriptor waits and hands readiness back to hiredis.
struct RedisLink {
  RedisLink(net::io_context& ioc, RedisAdapter::Impl& owner, bool subscriber)
      : owner(owner), subscriber(subscriber), fd(ioc) {}

  RedisAdapter::Impl& owner;
  const bool subscriber;
  redisAsyncContext* ctx = nullptr;
  bool ready = false;  // connected, authenticated, db selected
  net::posix::stream_descriptor fd;
  bool want_read = false, want_write = false, reading = false, writing = false;
  uint64_t generation = 0;  // bumped when the context goes away: stale waits do nothing

  void arm();
};

class RedisAdapter::Impl {
 public:
  explicit Impl(RedisOptions options)
      : options_(std::move(options)), ping_timer_(ioc_), reconnect_timer_(ioc_) {}

  // ---- Any thread ----

  void start() {
    thread_ = std::thread([this] {
      // hiredis writes with write(), not send(MSG_NOSIGNAL): to a Redis that just died that raises
      // SIGPIPE, whose default action kills the whole process. The signal is raised on the writing
      // thread, so blocking it here turns it into EPIPE, which hiredis reports as a disconnect.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      ioc_.run();
    });
    net::post(ioc_, [this] {
      open(pub_);
      open(sub_);
      schedule_ping();
    });
  }

  absl::Status wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_mu_);
    if (state_cv_.wait_for(lock, timeout, [this] { return health_ == RedisHealth::kConnected; })) {
      return absl::OkStatus();
    }
    return absl::UnavailableError(cat("cannot reach Redis at ", options_.url.host, ":", options_.url.port,
                                      " within ", options_.connect_timeout.count(), " ms",
                                      last_error_.empty() ? std::string() : ": " + last_error_));
  }

  void shutdown() {
    if (!thread_.joinable()) return;
    auto done = std::make_shared<Rendezvous<bool>>();
    net::post(ioc_, [this, done] {
      closing_ = true;
      ping_timer_.cancel();
      reconnect_timer_.cancel();
      drop(pub_);
      drop(sub_);
      done->set(true);
    });
    done->wait();
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  void set_handler(MessageHandler handler) { handler_.set(std::move(handler)); }

  void subscribe(const std::string& channel, Done done) {
    net::post(ioc_, [this, channel, done = std::move(done)]() mutable {
      wanted_.insert(channel);  // subscribed again on every reconnect
      if (!sub_.ready) {
        // Nobody waits for Redis to come back: the caller learns now, and the channel goes live
        // with the reconnect.
        if (done) done(absl::UnavailableError("Redis is unreachable; subscribed once it is back"));
        return;
      }
      if (done) waiting_[channel].push_back(std::move(done));
      send_subscribe({channel});
    });
  }

  void unsubscribe(const std::string& channel) {
    net::post(ioc_, [this, channel] {
      wanted_.erase(channel);
      if (auto it = waiting_.find(channel); it != waiting_.end()) {
        auto waiting = std::move(it->second);
        waiting_.erase(it);
        for (auto& done : waiting) done(absl::CancelledError("unsubscribed before the subscription landed"));
      }
      if (!sub_.ready) return;
      const char* argv[] = {"UNSUBSCRIBE", channel.data()};
      const size_t lens[] = {11, channel.size()};
      redisAsyncCommandArgv(sub_.ctx, nullptr, nullptr, 2, argv, lens);
    });
  }

  void publish(const std::string& channel, Envelope envelope) {
    net::post(ioc_, [this, channel, envelope = std::move(envelope)] {
      if (!pub_.ready) {
        dropped_.fetch_add(1);  // at most once: a publish during an outage is lost, never queued
        return;
      }
      const char* argv[] = {"PUBLISH", channel.data(), envelope->data()};
      const size_t lens[] = {7, channel.size(), envelope->size()};
      redisAsyncCommandArgv(pub_.ctx, nullptr, nullptr, 3, argv, lens);
    });
  }

  RedisHealth health() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return health_;
  }
  void on_health(std::function<void(RedisHealth)> hook) {
    std::lock_guard<std::mutex> lock(state_mu_);
    health_hook_ = std::move(hook);
  }
  uint64_t dropped() const { return dropped_.load(); }
  Adapter::Stats stats() const {
    Adapter::Stats out;
    out.connected = health() == RedisHealth::kConnected;
    out.dropped_publishes = dropped_.load();
    out.reconnects = reconnects_.load();
    out.presence_sweeps = sweeps_.load();
    return out;
  }
  std::string address() const { return cat(options_.url.host, ":", options_.url.port); }

  // ---- Presence (any thread; runs on the I/O thread) ----

  class RedisPresence final : public Presence {
   public:
    explicit RedisPresence(Impl& impl) : impl_(impl) {}
    void add(std::string_view node, std::string_view conn, std::string_view user) override {
      net::post(impl_.ioc_,
                [this, node = std::string(node), conn = std::string(conn), user = std::string(user)] {
                  impl_.local_conns_[conn] = {node, user};
                  impl_.write_conn(node, conn, user);
                });
    }
    void remove(std::string_view node, std::string_view conn, std::string_view user) override {
      net::post(impl_.ioc_,
                [this, node = std::string(node), conn = std::string(conn), user = std::string(user)] {
                  impl_.local_conns_.erase(conn);
                  if (!impl_.pub_.ready) return;
                  command(impl_.pub_.ctx, {"HDEL", "sl:conns:" + node, conn}, nullptr);
                  if (!user.empty())
                    command(impl_.pub_.ctx, {"SREM", "sl:user:" + user, node + "\t" + conn}, nullptr);
                });
    }
    void beat(std::string_view node, std::string_view name, std::chrono::milliseconds ttl) override {
      net::post(impl_.ioc_, [this, node = std::string(node), name = std::string(name), ttl] {
        impl_.beat_ = Beat{node, name, ttl};
        impl_.write_beat();
      });
    }
    void clear_node(std::string_view node) override {
      // Synchronous: a graceful shutdown clears its node before the adapter goes away.
      auto sent = std::make_shared<Rendezvous<bool>>();
      net::post(impl_.ioc_, [this, node = std::string(node), sent] {
        impl_.beat_.reset();
        impl_.local_conns_.clear();
        if (impl_.pub_.ready) {
          command(impl_.pub_.ctx, {"EVAL", kClearNodeScript, "0", node},
                  [sent](redisReply*) { sent->set(true); });
        } else {
          sent->set(true);
        }
      });
      sent->wait_for(std::chrono::seconds(2));
    }
    void topology(std::function<void(absl::StatusOr<std::vector<NodePresence>>)> done) override {
      net::post(impl_.ioc_, [this, done = std::move(done)]() mutable {
        if (!impl_.pub_.ready) return done(absl::UnavailableError("Redis is unreachable"));
        impl_.sweeps_.fetch_add(1);  // the script drops dead nodes as it goes
        command(impl_.pub_.ctx, {"EVAL", kTopologyScript, "0"}, [done = std::move(done)](redisReply* r) {
          if (r == nullptr || r->type != REDIS_REPLY_ARRAY)
            return done(absl::UnavailableError("presence query failed"));
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
    void is_online(std::string_view user, std::function<void(absl::StatusOr<bool>)> done) override {
      net::post(impl_.ioc_, [this, user = std::string(user), done = std::move(done)]() mutable {
        if (!impl_.pub_.ready) return done(absl::UnavailableError("Redis is unreachable"));
        impl_.sweeps_.fetch_add(1);  // and this one a user's entries on dead nodes
        command(impl_.pub_.ctx, {"EVAL", kOnlineScript, "0", user}, [done = std::move(done)](redisReply* r) {
          if (r == nullptr || r->type != REDIS_REPLY_INTEGER)
            return done(absl::UnavailableError("presence query failed"));
          done(r->integer == 1);
        });
      });
    }

   private:
    Impl& impl_;
  };

  Presence* presence() { return &presence_; }

  // ---- I/O thread: hiredis hooks and callbacks ----

  void context_gone(RedisLink& link) {
    link.ctx = nullptr;
    link.ready = false;
    ++link.generation;
    boost::system::error_code ignored;
    link.fd.cancel(ignored);
    (void)link.fd.release();  // hiredis closes its own socket
    link.reading = link.writing = link.want_read = link.want_write = false;
    if (&link == &pub_) ping_outstanding_ = false;
    if (&link == &sub_) {
      // Subscriptions sent on the lost connection will never be confirmed.
      auto waiting = std::move(waiting_);
      waiting_.clear();
      for (auto& [channel, callbacks] : waiting) {
        for (auto& done : callbacks) done(absl::UnavailableError("Redis went away before confirming"));
      }
    }
    update_health();
    if (!closing_) net::post(ioc_, [this] { schedule_reconnect(); });
  }

  void connected(RedisLink& link, int status) {
    if (status != REDIS_OK) {
      last_error_ = link.ctx && link.ctx->errstr ? link.ctx->errstr : "connection failed";
      return;  // hiredis frees the context next; its cleanup hook schedules the reconnect
    }
    if (!options_.url.password.empty()) {
      const char* argv[] = {"AUTH", options_.url.password.data()};
      const size_t lens[] = {4, options_.url.password.size()};
      redisAsyncCommandArgv(link.ctx, &Impl::on_setup_reply, this, 2, argv, lens);
    }
    if (options_.url.db != 0) {
      redisAsyncCommand(link.ctx, &Impl::on_setup_reply, this, "SELECT %d", options_.url.db);
    }
    link.ready = true;  // commands are pipelined in order: AUTH/SELECT run before anything else
    if (&link == &sub_ && !wanted_.empty()) {
      send_subscribe(std::vector<std::string>(wanted_.begin(), wanted_.end()));
    }
    if (&link == &pub_) {
      send_ping();  // the publish link counts as up once Redis answers
      // Redis may have lost this node's presence (restarted) or kept entries of connections that
      // closed while it was unreachable: make it what is live now.
      write_beat();
      replace_conns();
    }
    update_health();
  }

 private:
  void open(RedisLink& link) {
    if (link.ctx != nullptr || closing_) return;
    redisAsyncContext* ctx = redisAsyncConnect(options_.url.host.c_str(), options_.url.port);
    if (ctx == nullptr || ctx->err) {
      last_error_ = ctx ? ctx->errstr : "out of memory";
      if (ctx) redisAsyncFree(ctx);
      schedule_reconnect();
      return;
    }
    link.ctx = ctx;
    ctx->data = &link;
    boost::system::error_code ec;
    link.fd.assign(ctx->c.fd, ec);
    ctx->ev.data = &link;
    ctx->ev.addRead = [](void* p) {
      auto* l = static_cast<RedisLink*>(p);
      l->want_read = true;
      l->arm();
    };
    ctx->ev.delRead = [](void* p) { static_cast<RedisLink*>(p)->want_read = false; };
    ctx->ev.addWrite = [](void* p) {
      auto* l = static_cast<RedisLink*>(p);
      l->want_write = true;
      l->arm();
    };
    ctx->ev.delWrite = [](void* p) { static_cast<RedisLink*>(p)->want_write = false; };
    ctx->ev.cleanup = [](void* p) {
      auto* l = static_cast<RedisLink*>(p);
      l->owner.context_gone(*l);
    };
    redisAsyncSetConnectCallback(ctx, [](const redisAsyncContext* c, int status) {
      auto* l = static_cast<RedisLink*>(c->data);
      l->owner.connected(*l, status);
    });
  }

  // Frees a context now (frozen server, or shutdown). Never called from inside a hiredis callback.
  void drop(RedisLink& link) {
    if (link.ctx != nullptr) redisAsyncFree(link.ctx);  // runs the cleanup hook
  }

  void schedule_reconnect() {
    if (closing_ || reconnect_pending_ || (pub_.ctx && sub_.ctx)) return;
    reconnect_pending_ = true;
    const double raw = std::min<double>(options_.reconnect_max.count(),
                                        options_.reconnect_min.count() * std::pow(2.0, attempt_++));
    const double delay = std::uniform_real_distribution<double>(raw / 2, raw)(rng_);
    reconnect_timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(delay)));
    reconnect_timer_.async_wait([this](boost::system::error_code ec) {
      reconnect_pending_ = false;
      if (ec || closing_) return;
      open(pub_);
      open(sub_);
    });
  }

  void schedule_ping() {
    ping_timer_.expires_after(options_.ping_interval);
    ping_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || closing_) return;
      if (ping_outstanding_ && Clock::now() - ping_sent_ > options_.ping_timeout) {
        last_error_ = "no PING reply within " + std::to_string(options_.ping_timeout.count()) + " ms";
        // Frozen or unreachable: rebuild both connections (the subscriber shares the server's fate).
        drop(pub_);
        drop(sub_);
      } else if (pub_.ready && !ping_outstanding_) {
        send_ping();
      }
      schedule_ping();
    });
  }

  void write_beat() {
    if (!beat_ || !pub_.ready) return;
    command(pub_.ctx,
            {"SET", "sl:alive:" + beat_->node, beat_->name, "PX", std::to_string(beat_->ttl.count())},
            nullptr);
    command(pub_.ctx, {"SADD", "sl:nodes", beat_->node}, nullptr);
  }

  void replace_conns() {
    if (!beat_ || !pub_.ready) return;
    std::vector<std::string> args = {"EVAL", kReplaceNodeConnsScript, "0", beat_->node};
    args.reserve(4 + 2 * local_conns_.size());
    for (const auto& [conn, entry] : local_conns_) {
      args.push_back(conn);
      args.push_back(entry.user);
    }
    command(pub_.ctx, std::move(args), nullptr);
  }

  void write_conn(const std::string& node, const std::string& conn, const std::string& user) {
    if (!pub_.ready) return;
    command(pub_.ctx, {"HSET", "sl:conns:" + node, conn, user}, nullptr);
    if (!user.empty()) command(pub_.ctx, {"SADD", "sl:user:" + user, node + "\t" + conn}, nullptr);
  }

  void send_ping() {
    ping_outstanding_ = true;
    ping_sent_ = Clock::now();
    redisAsyncCommand(pub_.ctx, &Impl::on_pong, this, "PING");
  }

  static void on_pong(redisAsyncContext*, void* reply, void* self) {
    if (reply == nullptr) return;  // the context is being freed
    auto* impl = static_cast<Impl*>(self);
    impl->ping_outstanding_ = false;
    impl->pub_verified_ = true;
    impl->attempt_ = 0;
    impl->update_health();
  }

  static void on_setup_reply(redisAsyncContext*, void* r, void* self) {
    auto* reply = static_cast<redisReply*>(r);
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
      auto* impl = static_cast<Impl*>(self);
      impl->last_error_ = std::string(reply->str, reply->len);
      log(impl->options_.log, LogLevel::kError, "Redis refused the connection's setup",
          {{"redis", impl->address()}, {"error", impl->last_error_}});
    }
  }

  void send_subscribe(const std::vector<std::string>& channels) {
    std::vector<const char*> argv = {"SUBSCRIBE"};
    std::vector<size_t> lens = {9};
    for (const auto& c : channels) {
      argv.push_back(c.data());
      lens.push_back(c.size());
    }
    redisAsyncCommandArgv(sub_.ctx, &Impl::on_subscription, this, static_cast<int>(argv.size()), argv.data(),
                          lens.data());
  }

  static void on_subscription(redisAsyncContext*, void* r, void* self) {
    auto* reply = static_cast<redisReply*>(r);
    auto* impl = static_cast<Impl*>(self);
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
    const std::string channel(reply->element[1]->str, reply->element[1]->len);
    if (kind == "message") {
      impl->handler_.call(
          channel, std::make_shared<const std::string>(reply->element[2]->str, reply->element[2]->len));
    } else if (kind == "subscribe") {
      impl->subscribed(channel);
    } else if (kind == "unsubscribe" && impl->wanted_.contains(channel)) {
      // Wanted again since: hiredis drops its callback on this reply, so subscribe anew.
      impl->send_subscribe({channel});
    }
  }

  void subscribed(const std::string& channel) {
    auto it = waiting_.find(channel);
    if (it == waiting_.end()) return;
    auto waiting = std::move(it->second);
    waiting_.erase(it);
    for (auto& done : waiting) done(absl::OkStatus());
  }

  void update_health() {
    if (!pub_.ready) pub_verified_ = false;
    const RedisHealth now =
        pub_.ready && pub_verified_ && sub_.ready ? RedisHealth::kConnected : RedisHealth::kDegraded;
    std::function<void(RedisHealth)> hook;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (now == health_ && reported_) return;
      const bool first = !reported_;
      reported_ = true;
      health_ = now;
      hook = health_hook_;
      if (first && now == RedisHealth::kDegraded) return;  // still starting: not a change
    }
    state_cv_.notify_all();
    if (now == RedisHealth::kConnected) {
      if (was_connected_) reconnects_.fetch_add(1);
      was_connected_ = true;
      log(options_.log, LogLevel::kInfo, "Redis connected", {{"redis", address()}});
    } else {
      log(options_.log, LogLevel::kWarning, "Redis degraded: publishes are dropped until it is back",
          {{"redis", address()}, {"error", last_error_}});
    }
    if (hook) hook(now);
  }

  RedisOptions options_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  std::thread thread_;

 public:
  RedisLink pub_{ioc_, *this, false};
  RedisLink sub_{ioc_, *this, true};

 private:
  net::steady_timer ping_timer_;
  net::steady_timer reconnect_timer_;
  std::mt19937 rng_{std::random_device{}()};

  // I/O thread only.
  absl::flat_hash_set<std::string> wanted_;                      // channels with local interest
  absl::flat_hash_map<std::string, std::vector<Done>> waiting_;  // subscribe() calls not yet confirmed
  bool ping_outstanding_ = false;
  bool pub_verified_ = false;
  Clock::time_point ping_sent_;
  bool reconnect_pending_ = false;
  int attempt_ = 0;
  bool closing_ = false;
  std::string last_error_;

  HandlerSlot handler_;

  // Presence this node wrote, replayed after a reconnect (I/O thread only).
  struct Beat {
    std::string node, name;
    std::chrono::milliseconds ttl;
  };
  struct ConnEntry {
    std::string node, user;
  };
  std::optional<Beat> beat_;
  absl::flat_hash_map<std::string, ConnEntry> local_conns_;
  RedisPresence presence_{*this};

  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  RedisHealth health_ = RedisHealth::kDegraded;
  bool reported_ = false;
  std::function<void(RedisHealth)> health_hook_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> sweeps_{0};
  bool was_connected_ = false;  // I/O thread only
};

void RedisLink::arm() {
  if (ctx == nullptr) return;
  const uint64_t gen = generation;
  if (want_read && !reading) {
    reading = true;
    fd.async_wait(net::posix::stream_descriptor::wait_read, [this, gen](boost::system::error_code ec) {
      if (gen != generation) return;
      reading = false;
      if (ec || ctx == nullptr) return;
      redisAsyncHandleRead(ctx);
      if (gen == generation) arm();
    });
  }
  if (want_write && !writing && ctx != nullptr) {
    writing = true;
    fd.async_wait(net::posix::stream_descriptor::wait_write, [this, gen](boost::system::error_code ec) {
      if (gen != generation) return;
      writing = false;
      if (ec || ctx == nullptr) return;
      redisAsyncHandleWrite(ctx);
      if (gen == generation) arm();
    });
  }
}

absl::StatusOr<std::shared_ptr<RedisAdapter>> RedisAdapter::connect(RedisOptions options) {
  const auto timeout = options.connect_timeout;
  auto impl = std::make_shared<Impl>(std::move(options));
  impl->start();
  if (absl::Status up = impl->wait_connected(timeout); !up.ok()) {
    impl->shutdown();
    return up;
  }
  return std::shared_ptr<RedisAdapter>(new RedisAdapter(std::move(impl)));
}

RedisAdapter::RedisAdapter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisAdapter::~RedisAdapter() { impl_->shutdown(); }
void RedisAdapter::set_handler(MessageHandler handler) { impl_->set_handler(std::move(handler)); }
void RedisAdapter::subscribe(const std::string& channel, Done done) {
  impl_->subscribe(channel, std::move(done));
}
void RedisAdapter::unsubscribe(const std::string& channel) { impl_->unsubscribe(channel); }
void RedisAdapter::publish(const std::string& channel, Envelope envelope) {
  impl_->publish(channel, std::move(envelope));
}
RedisHealth RedisAdapter::health() const { return impl_->health(); }
void RedisAdapter::on_health(std::function<void(RedisHealth)> hook) { impl_->on_health(std::move(hook)); }
uint64_t RedisAdapter::dropped_publishes() const { return impl_->dropped(); }
Adapter::Stats RedisAdapter::stats() const { return impl_->stats(); }
Presence* RedisAdapter::presence() { return impl_->presence(); }

}  // namespace superline
