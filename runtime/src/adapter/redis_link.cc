#include "redis_link.h"

#include <hiredis/hiredis.h>

#include <boost/system/error_code.hpp>
#include <memory>

namespace superline {

namespace net = boost::asio;

bool RedisLink::open(const std::string& host, uint16_t port, std::function<void(bool)> connected,
                     std::function<void()> gone, std::string* error) {
  if (ctx_ != nullptr) return true;
  redisAsyncContext* ctx = redisAsyncConnect(host.c_str(), port);
  if (ctx == nullptr || ctx->err) {
    *error = ctx ? ctx->errstr : "out of memory";
    if (ctx) redisAsyncFree(ctx);
    return false;
  }
  ctx_ = ctx;
  connected_ = std::move(connected);
  gone_ = std::move(gone);
  ctx->data = this;
  boost::system::error_code ec;
  fd_.assign(ctx->c.fd, ec);
  ctx->ev.data = this;
  ctx->ev.addRead = [](void* p) {
    auto* link = static_cast<RedisLink*>(p);
    link->want_read_ = true;
    link->arm();
  };
  ctx->ev.delRead = [](void* p) { static_cast<RedisLink*>(p)->want_read_ = false; };
  ctx->ev.addWrite = [](void* p) {
    auto* link = static_cast<RedisLink*>(p);
    link->want_write_ = true;
    link->arm();
  };
  ctx->ev.delWrite = [](void* p) { static_cast<RedisLink*>(p)->want_write_ = false; };
  ctx->ev.cleanup = [](void* p) { static_cast<RedisLink*>(p)->context_gone(); };
  redisAsyncSetConnectCallback(ctx, [](const redisAsyncContext* c, int status) {
    auto* link = static_cast<RedisLink*>(c->data);
    // On failure hiredis frees the context next; its cleanup hook reports it gone.
    link->ready_ = status == REDIS_OK;
    if (link->connected_) link->connected_(status == REDIS_OK);
  });
  return true;
}

void RedisLink::drop() {
  if (ctx_ != nullptr) redisAsyncFree(ctx_);  // runs the cleanup hook
}

std::string RedisLink::error() const {
  return ctx_ != nullptr && ctx_->errstr[0] != '\0' ? std::string(ctx_->errstr) : std::string();
}

void RedisLink::context_gone() {
  ctx_ = nullptr;
  ready_ = false;
  ++generation_;
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  (void)fd_.release();  // hiredis closes its own socket
  reading_ = writing_ = want_read_ = want_write_ = false;
  if (gone_) gone_();
}

void RedisLink::command(std::initializer_list<std::string_view> args, Reply done) {
  const char* argv[8];
  size_t lens[8];
  int argc = 0;
  for (std::string_view a : args) {
    if (argc == 8) break;  // no fixed-arity command of ours has more
    argv[argc] = a.data();
    lens[argc++] = a.size();
  }
  send(argc, argv, lens, std::move(done));
}

namespace {

// hiredis's argv form of a command of any length.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& a : args) {
      pointers.push_back(a.data());
      lengths.push_back(a.size());
    }
  }
  int count() const { return static_cast<int>(pointers.size()); }
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
};

}  // namespace

void RedisLink::command(const std::vector<std::string>& args, Reply done) {
  Argv argv(args);
  send(argv.count(), argv.pointers.data(), argv.lengths.data(), std::move(done));
}

void RedisLink::send(int argc, const char** argv, const size_t* lens, Reply done) {
  if (ctx_ == nullptr) {
    if (done) done(nullptr);
    return;
  }
  // hiredis calls the callback once (with null on teardown); the heap copy dies with that call.
  auto* callback = done ? new Reply(std::move(done)) : nullptr;
  const int rc = redisAsyncCommandArgv(
      ctx_,
      callback == nullptr ? nullptr
                          : +[](redisAsyncContext*, void* reply, void* privdata) {
                              std::unique_ptr<Reply> cb(static_cast<Reply*>(privdata));
                              (*cb)(static_cast<redisReply*>(reply));
                            },
      callback, argc, argv, lens);
  if (rc != REDIS_OK && callback != nullptr) {
    std::unique_ptr<Reply> cb(callback);
    (*cb)(nullptr);
  }
}

void RedisLink::push_command(const std::vector<std::string>& args) {
  if (ctx_ == nullptr) return;
  Argv argv(args);
  redisAsyncCommandArgv(
      ctx_,
      +[](redisAsyncContext*, void* reply, void* privdata) {
        auto* link = static_cast<RedisLink*>(privdata);
        if (link->push_) link->push_(static_cast<redisReply*>(reply));
      },
      this, argv.count(), argv.pointers.data(), argv.lengths.data());
}

void RedisLink::arm() {
  if (want_read_ && !reading_) wait(net::posix::stream_descriptor::wait_read, reading_, &redisAsyncHandleRead);
  if (want_write_ && !writing_) wait(net::posix::stream_descriptor::wait_write, writing_, &redisAsyncHandleWrite);
}

void RedisLink::wait(net::posix::stream_descriptor::wait_type type, bool& waiting, void (*handle)(redisAsyncContext*)) {
  if (ctx_ == nullptr) return;
  const uint64_t gen = generation_;
  waiting = true;
  fd_.async_wait(type, [this, gen, &waiting, handle](boost::system::error_code ec) {
    if (gen != generation_) return;  // the context this wait was for is gone
    waiting = false;
    if (ec || ctx_ == nullptr) return;
    handle(ctx_);
    if (gen == generation_) arm();
  });
}

}  // namespace superline
