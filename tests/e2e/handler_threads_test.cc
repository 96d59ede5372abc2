// Where handlers run, over real sockets: a handler that blocks, on the handler pool, or a coroutine
// that waits, on the default single I/O thread, never delays another connection's requests. Proved
// by order, not by time: the other connection is answered while the slow handler is still held.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "../support/eventually.h"
#include "superline/coro.h"
#include "superline/websocket.h"
#include "threads.superline.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

using testing_support::eventually;
using threads::v1::Note;
using threads::v1::Threads;

Note note(const std::string& text) {
  Note n;
  n.set_text(text);
  return n;
}

class ThreadsApp final : public Threads::Handlers {
 public:
  superline::Reply<Note> block(superline::Call<Note, Threads::Shared>&, const Note& in) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++started_;
    released_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
    return note("unblocked:" + in.text());
  }

  superline::Reply<Note> nap(superline::Call<Note, Threads::Shared>& call, const Note& in) override {
    return superline::co_answer(
        call, server().executor(), [this, in]() -> boost::asio::awaitable<superline::Reply<Note>> {
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::seconds(10));
          {
            std::lock_guard<std::mutex> lock(mu_);
            nap_timer_ = &timer;
            ++started_;
          }
          boost::system::error_code cancelled;
          co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, cancelled));
          {
            std::lock_guard<std::mutex> lock(mu_);
            nap_timer_ = nullptr;
          }
          co_return note("awake:" + in.text());
        });
  }

  superline::Reply<Note> echo(superline::Call<Note, Threads::Shared>&, const Note& in) override { return in; }

  superline::Reply<Note> boom(superline::Call<Note, Threads::Shared>& call, const Note&) override {
    return superline::co_answer(call, server().executor(), []() -> boost::asio::awaitable<superline::Reply<Note>> {
      throw std::runtime_error("secret detail");
      co_return note("never");
    });
  }

  int started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  // Lets every blocked handler and the napping coroutine finish.
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    released_cv_.notify_all();
    if (nap_timer_ != nullptr) {
      boost::asio::steady_timer* timer = nap_timer_;
      boost::asio::post(server().executor(), [timer] { timer->cancel(); });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  int started_ = 0;
  boost::asio::steady_timer* nap_timer_ = nullptr;
};

struct Node {
  explicit Node(superline::ServerOptions options) : server(app, std::move(options)), transport(server, {}) {
    EXPECT_TRUE(transport.start().ok());
  }
  ~Node() {
    app.release();
    transport.stop(std::chrono::milliseconds(0));
  }
  uint16_t port() const { return transport.port(); }
  ThreadsApp app;
  threads::v1::ThreadsServer server;
  superline::WebSocketServer transport;
};

// One connection's slow `method` is held; another's echo is answered meanwhile; then the slow one.
void others_are_not_delayed(Node& node, const std::string& method, const std::string& done) {
  auto slow = WsTestClient::open(node.port(), "/");
  auto other = WsTestClient::open(node.port(), "/");
  slow->send(R"({"t":"req","i":1,"m":")" + method + R"(","d":{"text":"a"}})");
  ASSERT_TRUE(eventually([&] { return node.app.started() == 1; }));
  EXPECT_EQ(other->request("echo", R"({"text":"b"})"), R"({"t":"res","i":1001,"d":{"text":"b"}})");
  EXPECT_FALSE(slow->read(std::chrono::milliseconds(0)).has_value());  // still held
  node.app.release();
  EXPECT_EQ(slow->read(), R"({"t":"res","i":1,"d":{"text":")" + done + R"("}})");
}

TEST(HandlerThreads, ABlockingHandlerOnThePoolDelaysNoOne) {
  superline::ServerOptions options;
  options.handler_threads = 2;
  Node node(options);
  others_are_not_delayed(node, "block", "unblocked:a");
}

TEST(HandlerThreads, AWaitingCoroutineOnTheDefaultThreadDelaysNoOne) {
  Node node({});  // one I/O thread, handlers on it
  others_are_not_delayed(node, "nap", "awake:a");
}

TEST(HandlerThreads, ACoroutineThatThrowsIsInternal) {
  Node node({});
  std::vector<std::string> errors;
  std::mutex mu;
  node.server.on_error([&](const absl::Status& s, const superline::ErrorInfo&) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(s.ToString());
  });
  auto c = WsTestClient::open(node.port(), "/");
  EXPECT_EQ(c->request("boom", "{}"), R"({"t":"err","i":1001,"code":"INTERNAL","m":"Internal server error"})");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("secret detail"), std::string::npos);
}

// The pool's queue is bounded: past it a request is answered BUSY, and the connection stays.
TEST(HandlerThreads, AFullPoolQueueAnswersBusy) {
  superline::ServerOptions options;
  options.handler_threads = 1;
  options.max_queued_handlers = 1;
  Node node(options);
  auto c = WsTestClient::open(node.port(), "/");
  c->send(R"({"t":"req","i":1,"m":"block","d":{}})");  // runs, holding the pool's only thread
  ASSERT_TRUE(eventually([&] { return node.app.started() == 1; }));
  c->send(R"({"t":"req","i":2,"m":"block","d":{}})");  // waits in the queue
  EXPECT_EQ(c->request("echo", "{}"),
            R"({"t":"err","i":1001,"code":"BUSY","m":"server busy: too many handlers waiting"})");
  node.app.release();
  EXPECT_TRUE(has(c->read_until(R"("i":2,)"), "unblocked"));
  EXPECT_EQ(c->request("echo", R"({"text":"x"})"), R"({"t":"res","i":1002,"d":{"text":"x"}})");
}

}  // namespace
}  // namespace e2e
