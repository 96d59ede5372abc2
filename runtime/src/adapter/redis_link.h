// One hiredis async connection driven by Asio, in the shape of ray's gcs/asio.cc: hiredis asks,
// through its five event hooks, to watch its socket for reading or writing; a stream_descriptor
// waits and hands readiness back to hiredis. hiredis has no Asio adapter, no timeouts and no
// reconnect: the owner decides when to open, drop and reopen a link. Every command the Redis
// adapter sends goes through command() or push_command().
// Thread-safety: none; a link lives on its io_context's one thread, and nothing touches the context
// after its cleanup hook ran.
#pragma once

#include <hiredis/async.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace superline {

class RedisLink {
 public:
  // A command's reply; null when the context went away first.
  using Reply = std::function<void(redisReply*)>;

  RedisLink(boost::asio::io_context& ioc, std::string name) : name_(std::move(name)), fd_(ioc) {}
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Starts connecting to host:port. `connected(ok)` runs when the TCP connect finished (ready()
  // from then on when ok); `gone` once the context is freed for whatever reason (a failed connect,
  // an error, drop()). False, with `error` set, when not even a context could be made.
  bool open(const std::string& host, uint16_t port, std::function<void(bool ok)> connected,
            std::function<void()> gone, std::string* error);
  // Frees the context now (a frozen server, shutdown); `gone` runs. Never from a hiredis callback.
  void drop();

  bool opened() const { return ctx_ != nullptr; }
  bool ready() const { return ready_; }
  const std::string& name() const { return name_; }
  // What hiredis said when the connection failed, if anything.
  std::string error() const;

  // Sends a command (arguments binary-safe); `done` runs once with its reply. Without a context the
  // command is not sent and `done` gets null at once.
  void command(std::initializer_list<std::string_view> args, Reply done = nullptr);
  void command(const std::vector<std::string>& args, Reply done = nullptr);
  // SUBSCRIBE and UNSUBSCRIBE: their confirmations and every message after them go to the push
  // handler, not to a one-shot callback.
  void set_push_handler(std::function<void(redisReply*)> handler) { push_ = std::move(handler); }
  void push_command(const std::vector<std::string>& args);

 private:
  void send(int argc, const char** argv, const size_t* lens, Reply done);
  void arm();
  // Waits for the socket to be readable or writable (`waiting` says a wait is out), then hands it
  // to hiredis with `handle`.
  void wait(boost::asio::posix::stream_descriptor::wait_type type, bool& waiting,
            void (*handle)(redisAsyncContext*));
  void context_gone();

  const std::string name_;  // "publish" or "subscribe", for the log
  redisAsyncContext* ctx_ = nullptr;
  bool ready_ = false;
  boost::asio::posix::stream_descriptor fd_;
  bool want_read_ = false, want_write_ = false, reading_ = false, writing_ = false;
  uint64_t generation_ = 0;  // bumped when the context goes away: stale waits do nothing
  std::function<void(bool)> connected_;
  std::function<void()> gone_;
  std::function<void(redisReply*)> push_;
};

}  // namespace superline
