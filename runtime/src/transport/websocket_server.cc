// Boost.Beast transport. A Session owns itself (shared_from_this) and runs on its own strand: it
// reads the HTTP upgrade under the handshake timeout, asks the core to authenticate it, then reads
// frames into Server::receive and writes frames queued by any thread, one write in flight.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "superline/websocket.h"
#include "text.h"

namespace superline {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr std::string_view kJsonSubprotocol = "superline.v1";
constexpr size_t kReadChunk = 64 * 1024;

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && absl::ascii_isxdigit(in[i + 1]) &&
               absl::ascii_isxdigit(in[i + 2])) {
      auto hex = [](char c) {
        return absl::ascii_isdigit(c) ? c - '0' : (absl::ascii_tolower(c) - 'a' + 10);
      };
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

Handshake read_handshake(const http::request<http::string_body>& req, const tcp::socket& socket) {
  Handshake handshake;
  std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  handshake.path = percent_decode(target.substr(0, q));
  if (q != std::string_view::npos) {
    for (std::string_view pair : split(target.substr(q + 1), '&')) {
      const size_t eq = pair.find('=');
      handshake.query[percent_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
  }
  for (const auto& field : req) {
    handshake.headers[to_lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
        std::string(field.value());
  }
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (!ec) handshake.remote_address = endpoint.address().to_string();
  return handshake;
}

// Picks superline.v1 when the client offers it; a client that offers nothing gets it implicitly.
bool offers_json(std::string_view header) {
  for (std::string_view p : split(header, ',')) {
    if (trim(p) == kJsonSubprotocol) return true;
  }
  return false;
}

class Session final : public Outbox, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server) : ws_(std::move(socket)), server_(server) {}

  void run() {
    net::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->read_upgrade(); });
  }

  // ---- Outbox: any thread ----
  void send(Frame frame) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }
  void close(uint16_t code, std::string_view reason) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::string(reason)] {
      self->begin_close(code, reason);
    });
  }
  void terminate() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

 private:
  void read_upgrade() {
    beast::get_lowest_layer(ws_).expires_after(server_.options().handshake_timeout);
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    http::async_read(ws_.next_layer(), read_buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_upgrade(ec); });
  }

  void on_upgrade(beast::error_code ec) {
    if (ec) return;  // timeout, garbage or early close: nothing was upgraded, nothing to report
    request_ = parser_->release();
    parser_.reset();
    if (!websocket::is_upgrade(request_))
      return reject(http::status::bad_request, "expected a WebSocket upgrade\n");
    absl::StatusOr<Admission> admission =
        server_.authenticate(read_handshake(request_, beast::get_lowest_layer(ws_).socket()));
    if (!admission.ok()) return reject(http::status::unauthorized, "");
    admission_ = std::move(*admission);

    const bool select_json = offers_json(request_[http::field::sec_websocket_protocol]);
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = server_.options().handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // the app-level heartbeat covers idle peers
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([select_json](websocket::response_type& res) {
      res.set(http::field::server, "superline");
      if (select_json) res.set(http::field::sec_websocket_protocol, kJsonSubprotocol);
    }));
    // The message limit is enforced in read_frame(), not by Beast: on an oversize frame Beast's own
    // teardown closes the socket with the rest of the frame unread, and the resulting RST destroys
    // the 1009 close frame before the peer reads it. async_close drains instead.
    ws_.read_message_max(0);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void reject(http::status status, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, request_.version());
    res->set(http::field::server, "superline");
    res->set(http::field::connection, "close");
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(ws_.next_layer(), *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_send, ignored);
      beast::get_lowest_layer(self->ws_).close();
    });
  }

  void on_accept(beast::error_code ec) {
    if (ec) return;
    request_ = {};
    conn_ = server_.open(std::move(admission_), shared_from_this());
    if (!conn_) {
      ws_.async_close(websocket::close_reason(websocket::close_code::policy_error, "duplicate connection id"),
                      [self = shared_from_this()](beast::error_code) {});
      return;
    }
    read_frame();
  }

  void read_frame() {
    reading_ = true;
    ws_.async_read_some(read_buffer_, kReadChunk,
                        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec) return finish(ec);
    if (read_buffer_.size() > server_.options().max_message_bytes) {
      read_buffer_.clear();
      read_buffer_.shrink_to_fit();
      close_code_ = kCloseTooBig;
      return begin_close(kCloseTooBig, "message too big");
    }
    if (!ws_.is_message_done()) return read_frame();
    auto data = read_buffer_.cdata();
    server_.receive(conn_, std::string_view(static_cast<const char*>(data.data()), data.size()));
    read_buffer_.consume(read_buffer_.size());
    // An idle connection holds no read buffer (~1.5 KB each otherwise); the next read allocates.
    read_buffer_.shrink_to_fit();
    read_frame();
  }

  // The read side is over: the connection is gone for the core.
  void finish(beast::error_code ec) {
    if (!conn_) return;
    uint16_t code = 1006;
    if (ec == websocket::error::closed) code = ws_.reason().code;
    if (close_code_ != 0) code = close_code_;
    auto conn = std::move(conn_);
    clear_queue();
    server_.closed(conn, code);
  }

  void enqueue(Frame frame) {
    if (!conn_ || closing_) return;
    if (queued_bytes_ + frame->size() > server_.options().max_queued_bytes) {
      // A slow consumer must not hold memory or delay anyone else: drop what is queued and leave.
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(head_ + (writing_ ? 1 : 0)), queue_.end());
      queued_bytes_ = writing_ ? queue_[head_]->size() : 0;
      return begin_close(kCloseTryAgainLater, "slow consumer");
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    if (head_ == queue_.size()) {
      if (closing_) send_close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_[head_]),
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      clear_queue();
      return;  // the read side reports the close
    }
    queued_bytes_ -= queue_[head_]->size();
    queue_[head_++].reset();
    if (head_ == queue_.size()) clear_queue();
    write_next();
  }

  void clear_queue() {
    queue_.clear();
    if (queue_.capacity() > 4) queue_.shrink_to_fit();  // small enough to keep: no malloc per frame
    head_ = 0;
    queued_bytes_ = 0;
  }

  // Flushes what is queued, then sends the close frame.
  void begin_close(uint16_t code, std::string_view reason) {
    if (closing_ || !conn_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code),
                                            beast::string_view(reason.data(), reason.size()));
    if (!writing_) write_next();
  }

  void send_close() {
    if (close_sent_) return;
    close_sent_ = true;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
      // With a read in flight, that read reports the end; otherwise (oversize) nobody else will.
      if (!self->reading_) self->finish(ec ? ec : beast::error_code(websocket::error::closed));
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  Server& server_;
  beast::flat_buffer read_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  Admission admission_;
  std::shared_ptr<Conn> conn_;
  // Frames waiting to be written, from queue_[head_] on. A vector rather than a deque: a deque
  // allocates ~600 bytes even when empty, for every connection.
  std::vector<Frame> queue_;
  size_t head_ = 0;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool reading_ = false;
  uint16_t close_code_ = 0;  // the code this side closed with, when it decided (1009)
  websocket::close_reason close_reason_;
};

}  // namespace

class WebSocketServer::Impl {
 public:
  Impl(Server& server, ListenOptions options)
      : server_(server), options_(std::move(options)), acceptor_(net::make_strand(ioc_)), heartbeat_(ioc_) {}

  absl::Status start() {
    beast::error_code ec;
    auto address = net::ip::make_address(options_.address, ec);
    if (ec)
      return absl::InvalidArgumentError("bad listen address '" + options_.address + "': " + ec.message());
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError("cannot listen on " + options_.address + ":" +
                                    std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    schedule_heartbeat();
    for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  void stop(std::chrono::milliseconds drain) {
    if (stopped_.exchange(true)) return;
    wake();
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    net::post(ioc_, [this] { heartbeat_.cancel(); });
    server_.shutdown();
    auto wait_for_no_connections = [this](std::chrono::milliseconds budget) {
      const auto deadline = std::chrono::steady_clock::now() + budget;
      while (server_.connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    };
    wait_for_no_connections(drain);
    // Whoever did not finish the close handshake in time is cut off, so no socket outlives stop().
    server_.terminate_all();
    wait_for_no_connections(std::chrono::milliseconds(500));
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  void handle_signals() {
    signals_.emplace(ioc_, SIGINT, SIGTERM);
    signals_->async_wait([this](beast::error_code ec, int) {
      if (!ec) wake();
    });
  }

  void wait() {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      woken_cv_.wait(lock, [this] { return woken_; });
    }
    stop(std::chrono::seconds(2));
  }

  uint16_t port() const { return port_; }

 private:
  void wake() {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_ = true;
    woken_cv_.notify_all();
  }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), server_)->run();
      }
      accept();
    });
  }

  void schedule_heartbeat() {
    const auto interval = server_.options().heartbeat_interval;
    if (interval.count() <= 0) return;
    heartbeat_.expires_after(interval);
    heartbeat_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      server_.heartbeat();
      schedule_heartbeat();
    });
  }

  Server& server_;
  ListenOptions options_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  tcp::acceptor acceptor_;
  net::steady_timer heartbeat_;
  std::vector<std::thread> threads_;
  std::optional<net::signal_set> signals_;
  std::mutex wake_mu_;
  std::condition_variable woken_cv_;
  bool woken_ = false;  // a handled signal arrived, or stop() began
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
};

WebSocketServer::WebSocketServer(Server& server, ListenOptions options)
    : impl_(std::make_unique<Impl>(server, std::move(options))) {}
WebSocketServer::~WebSocketServer() { stop(std::chrono::milliseconds(0)); }
absl::Status WebSocketServer::start() { return impl_->start(); }
uint16_t WebSocketServer::port() const { return impl_->port(); }
void WebSocketServer::stop(std::chrono::milliseconds drain) { impl_->stop(drain); }
void WebSocketServer::handle_signals() { impl_->handle_signals(); }
void WebSocketServer::wait() { impl_->wait(); }

}  // namespace superline
