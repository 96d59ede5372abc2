// RedisAdapter: channel pub/sub over two hiredis connections (RedisLink) on one Asio thread,
// with the reconnect, liveness and health hiredis does not have: a PING on the publish link every
// ping_interval, both links rebuilt with backoff when it goes unanswered or either link drops,
// every wanted channel subscribed again. Presence lives in redis_presence.cc.
#include "superline/redis_adapter.h"

#include <hiredis/hiredis.h>
#include <pthread.h>

#include <atomic>
#include <boost/asio.hpp>
#include <csignal>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "redis_link.h"
#include "redis_presence.h"
#include "superline/internal/log.h"
#include "superline/internal/text.h"
#include "superline/rendezvous.h"

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

class RedisAdapter::Impl {
 public:
  explicit Impl(RedisOptions options)
      : options_(std::move(options)), ping_timer_(ioc_), reconnect_timer_(ioc_) {
    sub_.set_push_handler([this](redisReply* reply) { on_push(reply); });
  }

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
    return absl::UnavailableError(cat("cannot reach Redis at ", address(), " within ", options_.connect_timeout.count(),
                                      " ms", last_error_.empty() ? std::string() : ": " + last_error_));
  }

  void shutdown() {
    if (!thread_.joinable()) return;
    auto done = std::make_shared<Rendezvous<bool>>();
    net::post(ioc_, [this, done] {
      closing_ = true;
      ping_timer_.cancel();
      reconnect_timer_.cancel();
      pub_.drop();
      sub_.drop();
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
      if (!sub_.ready()) {
        // Nobody waits for Redis to come back: the caller learns now, and the channel goes live
        // with the reconnect.
        if (done) done(absl::UnavailableError("Redis is unreachable; subscribed once it is back"));
        return;
      }
      if (done) waiting_[channel].push_back(std::move(done));
      sub_.push_command({"SUBSCRIBE", channel});
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
      if (sub_.ready()) sub_.push_command({"UNSUBSCRIBE", channel});
    });
  }

  void publish(const std::string& channel, Envelope envelope) {
    net::post(ioc_, [this, channel, envelope = std::move(envelope)] {
      if (!pub_.ready()) {
        dropped_.fetch_add(1);  // at most once: a publish during an outage is lost, never queued
        return;
      }
      pub_.command({"PUBLISH", channel, *envelope});
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
    out.presence_sweeps = presence_.sweeps();
    return out;
  }
  Presence* presence() { return &presence_; }

 private:
  std::string address() const { return cat(options_.url.host, ":", options_.url.port); }

  // ---- I/O thread ----

  void open(RedisLink& link) {
    if (link.opened() || closing_) return;
    std::string error;
    const bool opened = link.open(
        options_.url.host, options_.url.port, [this, &link](bool ok) { connected(link, ok); },
        [this, &link] { gone(link); }, &error);
    if (!opened) {
      last_error_ = error;
      schedule_reconnect();
    }
  }

  void connected(RedisLink& link, bool ok) {
    if (!ok) {
      last_error_ = link.error().empty() ? "connection failed" : link.error();
      return;  // hiredis frees the context next; gone() schedules the reconnect
    }
    // Commands are pipelined in order: AUTH and SELECT run before anything sent after them.
    if (!options_.url.password.empty()) link.command({"AUTH", options_.url.password}, setup_reply());
    if (options_.url.db != 0) link.command({"SELECT", std::to_string(options_.url.db)}, setup_reply());
    if (&link == &sub_ && !wanted_.empty()) {
      std::vector<std::string> args = {"SUBSCRIBE"};
      args.insert(args.end(), wanted_.begin(), wanted_.end());
      sub_.push_command(args);
    }
    if (&link == &pub_) {
      send_ping();  // the publish link counts as up once Redis answers
      presence_.replay();
    }
    update_health();
  }

  void gone(RedisLink& link) {
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

  RedisLink::Reply setup_reply() {
    return [this](redisReply* reply) {
      if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return;
      last_error_ = std::string(reply->str, reply->len);
      log(options_.log, LogLevel::kError, "Redis refused the connection's setup",
          {{"redis", address()}, {"error", last_error_}});
    };
  }

  void schedule_reconnect() {
    if (closing_ || reconnect_pending_ || (pub_.opened() && sub_.opened())) return;
    reconnect_pending_ = true;
    reconnect_timer_.expires_after(options_.backoff.delay(attempt_++, std::uniform_real_distribution<double>(0, 1)(rng_)));
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
        pub_.drop();
        sub_.drop();
      } else if (pub_.ready() && !ping_outstanding_) {
        send_ping();
      }
      schedule_ping();
    });
  }

  void send_ping() {
    ping_outstanding_ = true;
    ping_sent_ = Clock::now();
    pub_.command({"PING"}, [this](redisReply* reply) {
      if (reply == nullptr) return;  // the context is being freed
      ping_outstanding_ = false;
      pub_verified_ = true;
      attempt_ = 0;
      update_health();
    });
  }

  // The subscribe link's confirmations and messages.
  void on_push(redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
    const std::string channel(reply->element[1]->str, reply->element[1]->len);
    if (kind == "message") {
      handler_.call(channel, std::make_shared<const std::string>(reply->element[2]->str, reply->element[2]->len));
    } else if (kind == "subscribe") {
      subscribed(channel);
    } else if (kind == "unsubscribe" && wanted_.contains(channel)) {
      // Wanted again since: hiredis drops its callback on this reply, so subscribe anew.
      sub_.push_command({"SUBSCRIBE", channel});
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
    if (!pub_.ready()) pub_verified_ = false;
    const RedisHealth now =
        pub_.ready() && pub_verified_ && sub_.ready() ? RedisHealth::kConnected : RedisHealth::kDegraded;
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
  RedisLink pub_{ioc_, "publish"};
  RedisLink sub_{ioc_, "subscribe"};
  RedisPresence presence_{ioc_, pub_};
  net::steady_timer ping_timer_;
  net::steady_timer reconnect_timer_;
  std::mt19937 rng_{std::random_device{}()};
  HandlerSlot handler_;

  // I/O thread only.
  absl::flat_hash_set<std::string> wanted_;                      // channels with local interest
  absl::flat_hash_map<std::string, std::vector<Done>> waiting_;  // subscribe() calls not yet confirmed
  bool ping_outstanding_ = false;
  bool pub_verified_ = false;
  Clock::time_point ping_sent_;
  bool reconnect_pending_ = false;
  int attempt_ = 0;
  bool closing_ = false;
  bool was_connected_ = false;
  std::string last_error_;

  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  RedisHealth health_ = RedisHealth::kDegraded;
  bool reported_ = false;
  std::function<void(RedisHealth)> health_hook_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> reconnects_{0};
};

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
void RedisAdapter::subscribe(const std::string& channel, Done done) { impl_->subscribe(channel, std::move(done)); }
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
