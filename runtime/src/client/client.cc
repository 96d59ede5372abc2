// ClientCore: a superline.v1 client on Boost.Beast. All state lives on one I/O thread; public methods
// post onto it. Reconnects with super-line's backoff, re-sends queued requests and re-subscribes every
// topic on each open, and fails in-flight requests with DISCONNECTED when the connection drops.
#include "superline/client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "superline/internal/log.h"
#include "superline/internal/text.h"
#include "superline/internal/wire.h"
#include "superline/validation.h"

namespace superline {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string url_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace

class ClientCore::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)), resolver_(ioc_), retry_(ioc_) {}

  void start_thread() {
    thread_ = std::thread([self = shared_from_this()] { self->ioc_.run(); });
  }

  absl::Status connect(std::chrono::milliseconds timeout) {
    auto ready = std::make_shared<Rendezvous<absl::Status>>();
    net::post(ioc_, [this, ready] {
      if (closed_) return ready->set(error(kDisconnected, "Client closed"));
      if (ended_) return ready->set(ended_status());
      if (open_ && got_env_) return ready->set(absl::OkStatus());
      connect_waiters_.push_back(ready);
      if (!dialing_ && !open_) dial();
    });
    std::optional<absl::Status> result = ready->wait_for(timeout);
    if (!result) {
      return error(kTimeout, absl::StrCat("no connection to ", options_.host, ":", options_.port, " within ",
                                          timeout.count(), " ms"));
    }
    return *result;
  }

  void close() {
    auto done = std::make_shared<Rendezvous<bool>>();
    net::post(ioc_, [this, done] {
      if (closed_) return done->set(true);
      closed_ = true;
      connected_.store(false);  // from the moment close() returns
      retry_.cancel();
      fail_all(kDisconnected, "Client closed");
      resolve_waiters(kDisconnected, "Client closed");
      if (open_ && ws_) {
        ws_->async_close(websocket::close_code::normal, [done](beast::error_code) { done->set(true); });
      } else {
        done->set(true);
      }
    });
    done->wait_for(std::chrono::seconds(1));
  }

  void shutdown() {
    if (!thread_.joinable()) return;
    close();
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  bool connected() const { return connected_.load(); }
  int opens() const { return opens_.load(); }
  std::string server_contract() const {
    std::lock_guard lock(contract_mu_);
    return server_contract_;
  }

  void request(std::string name, std::string payload, std::function<void(Result)> done,
               std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) timeout = options_.request_timeout;
    net::post(ioc_, [this, name = std::move(name), payload = std::move(payload), done = std::move(done),
                     timeout]() mutable {
      if (closed_) return done(error(kDisconnected, "Client closed"));
      if (ended_) return done(ended_status());
      const int64_t id = ++next_id_;
      Pending& p = pending_[id];
      p.frame = encode(make_frame("req", std::to_string(id), name, {}, std::move(payload)));
      p.done = std::move(done);
      p.timer = std::make_unique<net::steady_timer>(ioc_, timeout);
      p.timer->async_wait([this, id, name](beast::error_code ec) {
        if (ec) return;
        auto it = pending_.find(id);
        if (it == pending_.end()) return;
        auto done = std::move(it->second.done);
        pending_.erase(it);
        done(error(kTimeout, absl::StrCat("Request '", name, "' timed out")));
      });
      if (open_) {
        p.sent = true;
        write(p.frame);
      }
    });
  }

  absl::Status send_event(std::string name, std::string payload) {
    if (!connected_.load()) return error(kDisconnected, "not connected");
    std::string frame = encode(make_frame("cev", {}, std::move(name), {}, std::move(payload)));
    net::post(ioc_, [this, frame = std::move(frame)] {
      if (open_) write(frame);
    });
    return absl::OkStatus();
  }

  void on_event(std::string name, std::function<void(std::string_view)> handler) {
    net::post(ioc_, [this, name = std::move(name), handler = std::move(handler)]() mutable {
      events_[name].push_back(std::move(handler));
    });
  }

  void subscribe(std::string topic, std::function<void(std::string_view)> handler,
                 std::function<void(absl::Status)> ready) {
    net::post(ioc_, [this, topic = std::move(topic), handler = std::move(handler),
                     ready = std::move(ready)]() mutable {
      if (closed_ || ended_) {
        if (ready) ready(closed_ ? error(kDisconnected, "Client closed") : ended_status());
        return;
      }
      Subscription& sub = subs_[topic];
      sub.handlers.push_back(std::move(handler));
      if (sub.acked) {
        if (ready) ready(absl::OkStatus());
        return;
      }
      if (ready) sub.waiting.push_back(std::move(ready));
      if (open_ && sub.ack_id == 0) send_sub(topic, sub);
    });
  }

  void unsubscribe(std::string topic) {
    net::post(ioc_, [this, topic = std::move(topic)] {
      if (subs_.erase(topic) == 0 || !open_) return;
      write(encode(make_frame("unsub", {}, {}, topic, std::nullopt)));
    });
  }

  void on_request(std::string name, Answer answer) {
    net::post(ioc_, [this, name = std::move(name), answer = std::move(answer)]() mutable {
      answers_[name] = std::move(answer);
    });
  }
  std::optional<std::string> env() const {
    std::lock_guard lock(env_mu_);
    return env_;
  }
  void on_env(std::function<void(std::optional<std::string_view>)> hook) {
    net::post(ioc_, [this, hook = std::move(hook)]() mutable { env_hooks_.push_back(std::move(hook)); });
  }

  void on_state(std::function<void(bool)> hook) {
    net::post(ioc_, [this, hook = std::move(hook)]() mutable { state_hooks_.push_back(std::move(hook)); });
  }
  void on_close(std::function<void(uint16_t, std::string_view)> hook) {
    net::post(ioc_, [this, hook = std::move(hook)]() mutable { close_hooks_.push_back(std::move(hook)); });
  }
  void on_error(std::function<void(const absl::Status&)> hook) {
    net::post(ioc_, [this, hook = std::move(hook)]() mutable { error_hooks_.push_back(std::move(hook)); });
  }
  // On the client's thread (or posted to it).
  void report(absl::Status status) {
    if (ioc_.get_executor().running_in_this_thread()) return notify_error(status);
    net::post(ioc_, [this, status = std::move(status)] { notify_error(status); });
  }

 private:
  struct Pending {
    std::string frame;
    std::function<void(Result)> done;
    std::unique_ptr<net::steady_timer> timer;
    bool sent = false;
  };
  struct Subscription {
    std::vector<std::function<void(std::string_view)>> handlers;
    std::vector<std::function<void(absl::Status)>> waiting;
    int64_t ack_id = 0;  // the "i" of the sub frame awaiting its answer on this connection
    bool acked = false;
  };

  void dial() {
    dialing_ = true;
    ws_.emplace(net::make_strand(ioc_));
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [this, self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return dial_failed(ec);
          beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(10));
          beast::get_lowest_layer(*ws_).async_connect(
              results, [this, self](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return dial_failed(ec);
                beast::error_code ignored;
                beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), ignored);
                handshake();
              });
        });
  }

  void handshake() {
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    std::string target = options_.path.empty() ? "/" : options_.path;
    char sep = target.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [key, value] : options_.params) {
      absl::StrAppend(&target, std::string(1, sep), url_encode(key), "=", url_encode(value));
      sep = '&';
    }
    const std::string_view subprotocol = options_.wire == Wire::kJson ? kJsonSubprotocol : kBinarySubprotocol;
    ws_->set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
      req.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    const std::string host = absl::StrCat(options_.host, ":", options_.port);
    ws_->async_handshake(handshake_response_, host, target,
                         [this, self = shared_from_this(), subprotocol](beast::error_code ec) {
                           if (ec) return dial_failed(ec);
                           // A server that ignored the binary subprotocol would answer in JSON: refuse to
                           // talk past it.
                           if (options_.wire == Wire::kProtobuf &&
                               handshake_response_[http::field::sec_websocket_protocol] != subprotocol) {
                             return dial_failed(beast::error_code(websocket::error::upgrade_declined));
                           }
                           note_server_contract();
                           on_open();
                         });
  }

  // Keeps the contract the server named, and says once when it is not ours.
  void note_server_contract() {
    const auto named = handshake_response_[kContractHeader];
    std::string contract(named.data(), named.size());
    if (!contract.empty() && !options_.contract_id.empty() && contract != options_.contract_id && !contract_warned_) {
      contract_warned_ = true;
      log(options_.log, LogLevel::kWarning, "the server speaks another version of the contract",
          {{"server_contract", contract}, {"client_contract", options_.contract_id}});
    }
    std::lock_guard lock(contract_mu_);
    server_contract_ = std::move(contract);
  }

  void dial_failed(beast::error_code ec) {
    dialing_ = false;
    // Refused with 401/403: the same credentials will be refused again.
    const unsigned status = handshake_response_.result_int();
    if (status == 401 || status == 403) {
      std::string why = handshake_response_.body();
      while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
      handshake_response_ = {};
      return end(status == 401 ? kUnauthorized : kForbidden,
                 why.empty() ? absl::StrCat("the server refused the upgrade with HTTP ", status) : why);
    }
    if (!options_.reconnect || closed_) return end(kDisconnected, "connect failed: " + ec.message());
    schedule_retry();
  }

  // The client will not connect again: whoever waits, and whoever asks from now on, hears why.
  void end(std::string_view code, std::string message) {
    ended_ = true;
    ended_code_ = std::string(code);
    ended_message_ = std::move(message);
    retry_.cancel();
    resolve_waiters(ended_code_, ended_message_);
    fail_all(ended_code_, ended_message_);
  }
  absl::Status ended_status() const { return error(ended_code_, ended_message_); }

  void notify_error(const absl::Status& status) {
    for (auto& hook : error_hooks_) hook(status);
  }

  void on_open() {
    dialing_ = false;
    open_ = true;
    got_env_ = false;
    attempt_ = 0;
    connected_.store(true);
    opens_.fetch_add(1);
    // Queued requests first, in id order, then every topic.
    for (auto& [id, p] : pending_) {
      if (!p.sent) {
        p.sent = true;
        write(p.frame);
      }
    }
    for (auto& [topic, sub] : subs_) {
      sub.acked = false;
      send_sub(topic, sub);
    }
    for (auto& hook : state_hooks_) hook(true);
    read();
  }

  void send_sub(const std::string& topic, Subscription& sub) {
    sub.ack_id = ++next_id_;
    sub_acks_[sub.ack_id] = topic;
    write(encode(make_frame("sub", std::to_string(sub.ack_id), {}, topic, std::nullopt)));
  }

  void read() {
    ws_->async_read(buffer_, [this, self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        const websocket::close_reason& reason = ws_->reason();
        return on_closed(reason.code != 0 ? static_cast<uint16_t>(reason.code) : 1006,
                         std::string(reason.reason.data(), reason.reason.size()));
      }
      auto data = buffer_.cdata();
      on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
      buffer_.consume(buffer_.size());
      read();
    });
  }

  static WireFrame make_frame(std::string_view t, std::string i, std::string m, std::string c,
                              std::optional<std::string> d) {
    WireFrame frame;
    frame.t = t;
    frame.i = std::move(i);
    frame.m = std::move(m);
    frame.c = std::move(c);
    frame.has_d = d.has_value();
    if (d) frame.d = std::move(*d);
    return frame;
  }
  std::string encode(const WireFrame& frame) const { return encode_frame(options_.wire, frame); }

  void on_frame(std::string_view data) {
    absl::StatusOr<WireFrame> frame = parse_frame(options_.wire, data);
    if (!frame.ok()) {  // not ours to answer (super-line clients drop undecodable frames), but said
      return notify_error(
          error(kBadRequest, cat("a frame from the server does not parse: ", std_view(frame.status().message()))));
    }
    const std::string& t = frame->t;
    if (t == "env") {
      got_env_ = true;
      // null: "d":null on the JSON wire, no env_set on the binary one (parse_frame: no d).
      const bool null = !frame->has_d || (options_.wire == Wire::kJson && frame->d == "null");
      {
        std::lock_guard lock(env_mu_);
        env_ = null ? std::nullopt : std::optional<std::string>(frame->d);
      }
      for (auto& hook : env_hooks_) hook(null ? std::nullopt : std::optional<std::string_view>(frame->d));
      return resolve_waiters({}, {});
    }
    if (t == "sreq") return answer_request(*frame);
    if (t == "ping") return write(encode(make_frame("pong", {}, {}, {}, std::nullopt)));
    if (t == "evt") {
      if (auto it = events_.find(frame->e); it != events_.end()) {
        for (auto& handler : it->second) handler(frame->d);
      }
      return;
    }
    if (t == "pub") {
      if (auto it = subs_.find(frame->c); it != subs_.end()) {
        for (auto& handler : it->second.handlers) handler(frame->d);
      }
      return;
    }
    if (t != "res" && t != "err") return;
    int64_t id = 0;
    if (frame->i.empty() || !absl::SimpleAtoi(frame->i, &id)) {  // connection-level err
      if (t == "err") notify_error(error(frame->code.empty() ? kBadRequest : frame->code, frame->m));
      return;
    }
    // Each callback gets a status of its own (see outcome()).
    const bool failed = t == "err";
    auto outcome = [&] {
      if (!failed) return absl::OkStatus();
      // VALIDATION names what failed in "d": the same issues, read back into the status.
      if (frame->code == kValidation && frame->has_d) {
        if (std::vector<ValidationIssue> issues = decode_issues(options_.wire, frame->d); !issues.empty()) {
          return validation_error(std::move(issues));
        }
      }
      return error(frame->code, frame->m);
    };
    if (auto ack = sub_acks_.find(id); ack != sub_acks_.end()) {
      const std::string topic = ack->second;
      sub_acks_.erase(ack);
      auto it = subs_.find(topic);
      if (it == subs_.end() || it->second.ack_id != id) return;
      auto waiting = std::move(it->second.waiting);
      it->second.waiting.clear();
      it->second.acked = !failed;
      if (failed) subs_.erase(it);  // a refused topic is not re-subscribed
      for (auto& ready : waiting) ready(outcome());
      return;
    }
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // late answer after a timeout
    auto done = std::move(it->second.done);
    pending_.erase(it);
    if (!failed) {
      done(frame->has_d ? frame->d : std::string(options_.wire == Wire::kJson ? "null" : ""));
    } else {
      done(outcome());
    }
  }

  // An sreq, answered at once with sres or serr carrying its id.
  void answer_request(const WireFrame& request) {
    absl::StatusOr<std::string> reply;
    auto it = answers_.find(request.m);
    if (it == answers_.end()) {
      reply = error(kNotFound, "No handler for " + request.m);
    } else {
      try {
        reply = it->second(request.has_d ? std::string_view(request.d) : std::string_view());
      } catch (...) {
        reply = error(kInternal, "Internal client error");
      }
    }
    WireFrame answer;
    answer.i = request.i;
    if (reply.ok()) {
      answer.t = "sres";
      answer.has_d = true;
      answer.d = *std::move(reply);
    } else {
      answer.t = "serr";
      answer.code = error_code(reply.status());
      answer.m = std::string(reply.status().message());
      if (std::vector<ValidationIssue> issues = validation_issues(reply.status()); !issues.empty()) {
        answer.has_d = true;
        answer.d = encode_issues(options_.wire, issues);
      }
    }
    write(encode(answer));
  }

  void on_closed(uint16_t code, const std::string& reason) {
    open_ = false;
    connected_.store(false);
    write_queue_.clear();
    writing_ = false;
    sub_acks_.clear();
    for (auto& [topic, sub] : subs_) {
      sub.ack_id = 0;
      sub.acked = false;
    }
    for (auto& hook : state_hooks_) hook(false);
    for (auto& hook : close_hooks_) hook(code, reason);
    // In-flight requests may or may not have run: the caller must decide, so they fail now.
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.sent) {
        auto done = std::move(it->second.done);
        it = pending_.erase(it);
        done(error(kDisconnected, "Connection closed"));
      } else {
        ++it;
      }
    }
    if (closed_) return fail_all(kDisconnected, "Connection closed");
    if (!options_.reconnect) return end(kDisconnected, "Connection closed");
    if (means_do_not_reconnect(code)) {
      return end(kDisconnected, reason.empty() ? absl::StrCat("the server closed with ", code, " (do not reconnect)")
                                               : absl::StrCat("the server closed with ", code, ": ", reason));
    }
    schedule_retry();
  }

  void schedule_retry() {
    retry_.expires_after(
        options_.backoff.delay(attempt_++, std::uniform_real_distribution<double>(0, 1)(rng_)));
    retry_.async_wait([this, self = shared_from_this()](beast::error_code ec) {
      if (!ec && !closed_) dial();
    });
  }

  void write(std::string frame) {
    write_queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    if (write_queue_.empty() || !open_) return;
    writing_ = true;
    ws_->text(options_.wire == Wire::kJson);
    ws_->async_write(net::buffer(write_queue_.front()),
                     [this, self = shared_from_this()](beast::error_code ec, size_t) {
                       writing_ = false;
                       if (ec) return;
                       if (!write_queue_.empty()) write_queue_.pop_front();
                       write_next();
                     });
  }

  // Callbacks run on this thread but their statuses are read on others. A non-OK absl::Status
  // shares a ref-counted representation between copies, counted inside Debian's uninstrumented
  // libabsl where ThreadSanitizer cannot see it, so every callback gets a status of its own rather
  // than a copy of a shared one.
  void fail_all(std::string_view code, const std::string& message) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) p.done(error(code, message));
    for (auto& [topic, sub] : subs_) {
      for (auto& ready : sub.waiting) ready(error(code, message));
      sub.waiting.clear();
    }
  }

  // An empty code resolves the waiters with OK.
  void resolve_waiters(std::string_view code, const std::string& message) {
    auto waiters = std::move(connect_waiters_);
    connect_waiters_.clear();
    for (auto& w : waiters) w->set(code.empty() ? absl::OkStatus() : error(code, message));
  }

  ClientOptions options_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  tcp::resolver resolver_;
  net::steady_timer retry_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  websocket::response_type handshake_response_;
  beast::flat_buffer buffer_;
  std::thread thread_;
  std::mt19937 rng_{std::random_device{}()};

  std::atomic<bool> connected_{false};
  std::atomic<int> opens_{0};
  mutable std::mutex contract_mu_;
  std::string server_contract_;  // guarded by contract_mu_
  bool contract_warned_ = false;  // the I/O thread's
  bool open_ = false;
  bool dialing_ = false;
  bool got_env_ = false;
  bool closed_ = false;
  bool ended_ = false;  // will not connect again (see end())
  std::string ended_code_, ended_message_;
  int attempt_ = 0;
  int64_t next_id_ = 0;
  std::map<int64_t, Pending> pending_;  // ordered: queued requests leave in id order
  std::map<std::string, Subscription> subs_;
  std::map<int64_t, std::string> sub_acks_;
  std::map<std::string, std::vector<std::function<void(std::string_view)>>> events_;
  std::map<std::string, Answer, std::less<>> answers_;
  std::vector<std::function<void(std::optional<std::string_view>)>> env_hooks_;
  mutable std::mutex env_mu_;
  std::optional<std::string> env_;  // guarded by env_mu_
  std::vector<std::function<void(bool)>> state_hooks_;
  std::vector<std::function<void(uint16_t, std::string_view)>> close_hooks_;
  std::vector<std::function<void(const absl::Status&)>> error_hooks_;
  std::vector<std::shared_ptr<Rendezvous<absl::Status>>> connect_waiters_;
  std::deque<std::string> write_queue_;
  bool writing_ = false;
};

ClientCore::ClientCore(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
  impl_->start_thread();
}
ClientCore::~ClientCore() { impl_->shutdown(); }
absl::Status ClientCore::connect(std::chrono::milliseconds timeout) { return impl_->connect(timeout); }
void ClientCore::close() { impl_->close(); }
bool ClientCore::connected() const { return impl_->connected(); }
int ClientCore::opens() const { return impl_->opens(); }
std::string ClientCore::server_contract() const { return impl_->server_contract(); }
void ClientCore::request(std::string name, std::string payload_json, std::function<void(Result)> done,
                         std::chrono::milliseconds timeout) {
  impl_->request(std::move(name), std::move(payload_json), std::move(done), timeout);
}
absl::Status ClientCore::send_event(std::string name, std::string payload_json) {
  return impl_->send_event(std::move(name), std::move(payload_json));
}
void ClientCore::on_event(std::string name, std::function<void(std::string_view)> handler) {
  impl_->on_event(std::move(name), std::move(handler));
}
void ClientCore::subscribe(std::string topic, std::function<void(std::string_view)> handler,
                           std::function<void(absl::Status)> ready) {
  impl_->subscribe(std::move(topic), std::move(handler), std::move(ready));
}
void ClientCore::unsubscribe(std::string topic) { impl_->unsubscribe(std::move(topic)); }
void ClientCore::on_request(std::string name, Answer answer) { impl_->on_request(std::move(name), std::move(answer)); }
std::optional<std::string> ClientCore::env() const { return impl_->env(); }
void ClientCore::on_env(std::function<void(std::optional<std::string_view>)> hook) { impl_->on_env(std::move(hook)); }
void ClientCore::on_state(std::function<void(bool)> hook) { impl_->on_state(std::move(hook)); }
void ClientCore::on_close(std::function<void(uint16_t, std::string_view)> hook) {
  impl_->on_close(std::move(hook));
}
void ClientCore::on_error(std::function<void(const absl::Status&)> hook) { impl_->on_error(std::move(hook)); }
void ClientCore::report(absl::Status status) { impl_->report(std::move(status)); }

}  // namespace superline
