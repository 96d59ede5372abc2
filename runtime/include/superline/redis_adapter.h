// The Redis adapter: channel pub/sub between nodes through one Redis, on hiredis with our own Asio
// event hooks. Two connections (publish, subscribe), every hiredis call on one I/O thread. When Redis
// goes away or freezes (no PING reply within the deadline), both connections are rebuilt with
// backoff and every channel still wanted is subscribed again; what is published meanwhile is lost
// (at most once) and publishes never wait for Redis.
// Thread-safety: every method may be called from any thread; the message handler and health hooks
// run on the adapter's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "superline/adapter.h"
#include "superline/backoff.h"
#include "superline/log.h"

namespace superline {

// redis://[:password@]host[:port][/db]
struct RedisUrl {
  std::string host;
  uint16_t port = 6379;
  std::string password;
  int db = 0;

  static absl::StatusOr<RedisUrl> parse(std::string_view url);
};

struct RedisOptions {
  RedisUrl url;
  // How long start-up waits for both connections; failing that, connect() fails.
  std::chrono::milliseconds connect_timeout{3'000};
  // A PING on each connection this often; no reply within ping_timeout means Redis is frozen.
  std::chrono::milliseconds ping_interval{500};
  std::chrono::milliseconds ping_timeout{1'500};
  // Reconnect delays: 50 ms doubling to 800 ms, each drawn from its upper half; the cap keeps a
  // reconnect within 1 s of Redis coming back.
  Backoff backoff{std::chrono::milliseconds(50), std::chrono::milliseconds(800)};
  // Where the adapter's log records go (health changes, Redis's refusals). Empty: text on stderr.
  LogSink log;
};

enum class RedisHealth {
  kConnected,  // both connections up
  kDegraded,   // at least one is down or unresponsive; publishes are being dropped
};

class RedisAdapter final : public Adapter {
 public:
  // Connects both connections; a Redis that cannot be reached within connect_timeout is an error.
  static absl::StatusOr<std::shared_ptr<RedisAdapter>> connect(RedisOptions options);
  ~RedisAdapter() override;

  void set_handler(MessageHandler handler) override;
  void subscribe(const std::string& channel, Done done) override;
  void unsubscribe(const std::string& channel) override;
  void publish(const std::string& channel, Envelope envelope) override;
  Presence* presence() override;

  RedisHealth health() const;
  Stats stats() const override;
  // Called on every change of health (also logged, once per change, to RedisOptions::log).
  void on_health(std::function<void(RedisHealth)> hook);
  // Publishes dropped because the publish connection was down.
  uint64_t dropped_publishes() const;

  class Impl;

 private:
  explicit RedisAdapter(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace superline
