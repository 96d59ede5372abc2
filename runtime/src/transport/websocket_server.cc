// The WebSocket transport. A Session owns itself (shared_from_this) and runs on its own strand: it
// reads the HTTP upgrade (Beast's parser) under the handshake timeout, asks the core to authenticate
// it, then reads frames into Server::receive and writes frames queued by any thread.
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "admin_listener.h"
#include "handshake.h"
#include "superline/internal/log.h"
#include "superline/internal/transport_port.h"
#include "static_files.h"
#include "superline/websocket.h"
#include "superline/internal/text.h"
#include "write_queue.h"
#include "ws_codec.h"

namespace superline {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr size_t kReadChunk = 64 * 1024;

// Open connections in total and per client address, for ServerOptions' caps. Shared by the listener
// and every session, since a session may outlive the listener.
class ConnectionCounts {
 public:
  explicit ConnectionCounts(const ServerOptions& options)
      : max_total_(options.max_connections), max_per_ip_(options.max_connections_per_ip) {}

  bool per_ip() const { return max_per_ip_ > 0; }

  // Counts one more connection from `ip`; false, counting nothing, if a cap is reached.
  bool try_add(const std::string& ip) {
    std::lock_guard<std::mutex> lock(mu_);
    if (max_total_ > 0 && total_ >= max_total_) return false;
    if (max_per_ip_ > 0) {
      size_t& n = per_ip_[ip];
      if (n >= max_per_ip_) return false;
      ++n;
    }
    ++total_;
    return true;
  }

  void remove(const std::string& ip) {
    std::lock_guard<std::mutex> lock(mu_);
    --total_;
    if (max_per_ip_ > 0) {
      auto it = per_ip_.find(ip);
      if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
    }
  }

 private:
  const size_t max_total_;
  const size_t max_per_ip_;
  std::mutex mu_;
  size_t total_ = 0;
  absl::flat_hash_map<std::string, size_t> per_ip_;
};

// One read buffer per I/O thread, shared by all of its connections: a read is parsed before the
// thread reads for anyone else, and only an incomplete frame is copied into its connection.
char* read_scratch() {
  thread_local std::unique_ptr<char[]> scratch(new char[kReadChunk]);
  return scratch.get();
}

// A connection after accept: the HTTP upgrade under a deadline, then RFC 6455 frames through our own
// codec (ws_codec.h) on the raw socket.
//
// Writes. Every outbound byte -- the 101 response, data frames, pongs and the close frame -- goes
// through one WriteQueue, so nothing can interleave (the reason not to let Beast's websocket::stream
// write its own pong/close frames beside ours), and everything queued counts against the queue cap,
// pongs included. Other threads hand frames over through a small locked inbox and post one drain
// per batch; the drain moves the whole batch into the queue and writes it with one sendmsg: each
// frame is a header of 2-10 bytes built here plus the payload shared by every recipient, so a
// broadcast is never copied per connection. Only when the kernel's send buffer is full does the
// session wait for writability.
//
// Reads. The session waits for readability holding no buffer, reads into the thread's scratch
// buffer and parses in place; an idle connection keeps nothing but its socket and this object. What
// it must keep of an incomplete message is charged to the transport's shared BufferBudget.
class Session final : public Outbox, public ws::FrameSink, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, internal::TransportPort port, std::shared_ptr<ConnectionCounts> counts,
          std::shared_ptr<ws::BufferBudget> budget, std::shared_ptr<const StaticFiles> files)
      : socket_(std::move(socket)),
        port_(port),
        counts_(std::move(counts)),
        budget_(std::move(budget)),
        files_(std::move(files)),
        reader_(port.options().max_message_bytes, budget_.get()) {}
  ~Session() override {
    if (counted_) counts_->remove(counted_ip_);
  }

  void run() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_upgrade(); });
  }

  // ---- Outbox: any thread ----
  void send(SharedFrame frame) override {
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      if (inbox_closed_) return;
      inbox_.push_back(std::move(frame));
      if (drain_posted_) return;
      drain_posted_ = true;
    }
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      self->drain_inbox();
      self->flush();
    });
  }
  void close(uint16_t code, std::string_view reason) override {
    net::post(socket_.get_executor(), [self = shared_from_this(), code, reason = std::string(reason)] {
      self->begin_close(code, reason);
    });
  }
  void terminate() override {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->cut(); });
  }
  std::size_t queued_bytes() const override { return queued_bytes_.load(std::memory_order_relaxed); }

 private:
  struct Upgrade {
    explicit Upgrade(const net::any_io_executor& executor) : deadline(executor) {}
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    net::steady_timer deadline;
  };

  // ---- The upgrade ----
  void read_upgrade() {
    upgrade_ = std::make_unique<Upgrade>(socket_.get_executor());
    upgrade_->parser.header_limit(static_cast<uint32_t>(port_.options().max_header_bytes));
    upgrade_->deadline.expires_after(port_.options().handshake_timeout);
    upgrade_->deadline.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->cut();
    });
    http::async_read(socket_, upgrade_->buffer, upgrade_->parser,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_upgrade(ec); });
  }

  void on_upgrade(beast::error_code ec) {
    if (ec == http::error::header_limit) return reject(http::status::request_header_fields_too_large, "");
    if (ec) return cut();  // timeout, garbage or early close: nothing was upgraded, nothing to report
    const auto& request = upgrade_->parser.get();
    if (!websocket::is_upgrade(request) && port_.options().admin.on_public_port &&
        internal::TransportPort::is_admin_path(std::string_view(request.target().data(), request.target().size()))) {
      return serve_admin(request);
    }
    if (files_ && !websocket::is_upgrade(request)) return serve_file(request);
    if (auto refusal = check_upgrade(request)) return reject(refusal->status, std::string(refusal->body));
    const beast::string_view origin = request[http::field::origin];
    if (!origin_allowed(std::string_view(origin.data(), origin.size()), port_.options().allowed_origins))
      return reject(http::status::forbidden, "origin not allowed\n");
    const std::string ip = remote_ip();
    if (!counts_->try_add(ip)) return reject(http::status::service_unavailable, "too many connections\n");
    counted_ = true;
    if (counts_->per_ip()) counted_ip_ = ip;
    absl::StatusOr<Admission> admission = port_.authenticate(read_handshake(request, ip));
    if (!admission.ok()) {
      const std::string_view why = std_view(admission.status().message());
      return reject(refusal_status(admission.status()), why.empty() ? "" : cat(clip(repair_utf8(why)), "\n"));
    }

    const std::string_view subprotocol = choose_subprotocol(request[http::field::sec_websocket_protocol]);
    wire_ = subprotocol == kBinarySubprotocol ? Wire::kProtobuf : Wire::kJson;
    std::string response = switching_protocols(request, subprotocol, port_.contract().id);
    // Frames a client sent right behind its upgrade request are already in the buffer.
    auto early = upgrade_->buffer.cdata();
    std::string leftover(static_cast<const char*>(early.data()), early.size());
    upgrade_.reset();  // cancels the deadline; an open connection holds no HTTP state

    beast::error_code ignored;
    socket_.native_non_blocking(true, ignored);
    enqueue_raw(std::move(response));
    conn_ = port_.open(std::move(*admission), shared_from_this(), wire_);
    if (!conn_) {
      begin_close(kClosePolicy, "duplicate connection id");
    } else {
      drain_inbox();  // the env frame leaves with the 101
      flush();
    }
    if (!leftover.empty()) consume(leftover.data(), leftover.size());
    wait_readable();
  }

  // A GET or HEAD that is not an upgrade, with --static: one file, then the connection is closed.
  // The handshake deadline still runs, so a client that reads slowly is cut as one that writes slowly.
  void serve_file(const UpgradeRequest& request) {
    if (request.method() != http::verb::get && request.method() != http::verb::head)
      return reject(http::status::method_not_allowed, "only GET and HEAD are served\n");
    StaticFiles::File file;
    StaticFiles::Miss miss;
    if (!files_->resolve(request.target(), &file, &miss))
      return reject(miss.status, miss.status == http::status::bad_request ? "bad path\n" : "not found\n");
    beast::error_code ec;
    http::file_body::value_type body;
    body.open(file.path.c_str(), beast::file_mode::scan, ec);
    if (ec) return reject(http::status::not_found, "not found\n");
    auto res = std::make_shared<http::response<http::file_body>>(http::status::ok, 11);
    res->set(http::field::server, "superline");
    res->set(http::field::connection, "close");
    res->set(http::field::content_type, file.content_type);
    res->set(http::field::cache_control, "no-cache");
    res->set("X-Content-Type-Options", "nosniff");
    res->content_length(body.size());
    res->body() = std::move(body);  // a HEAD writes the header only
    auto serializer = std::make_shared<http::response_serializer<http::file_body>>(*res);
    if (request.method() == http::verb::head) serializer->split(true);
    auto done = [self = shared_from_this(), res, serializer](beast::error_code, size_t) {
      beast::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->upgrade_.reset();
      self->cut();
    };
    if (request.method() == http::verb::head) {
      http::async_write_header(socket_, *serializer, std::move(done));
    } else {
      http::async_write(socket_, *serializer, std::move(done));
    }
  }

  // /metrics, /health or /ready on the public port, when AdminOptions::on_public_port asks for it.
  void serve_admin(const UpgradeRequest& request) {
    const bool head = request.method() == http::verb::head;
    auto bytes = std::make_shared<std::string>(admin_response(port_, head || request.method() == http::verb::get, head,
                                                              std::string_view(request.target().data(), request.target().size())));
    upgrade_.reset();
    net::async_write(socket_, net::buffer(*bytes), [self = shared_from_this(), bytes](beast::error_code, size_t) {
      beast::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->cut();
    });
  }

  std::string remote_ip() const {
    beast::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    return ec ? std::string() : endpoint.address().to_string();
  }

  void reject(http::status status, std::string body) {
    http::response<http::string_body> res(status, 11);
    res.set(http::field::server, "superline");
    res.set(http::field::connection, "close");
    if (!body.empty()) res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::upgrade_required) res.set(http::field::sec_websocket_version, "13");
    if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET, HEAD");
    res.body() = std::move(body);
    res.prepare_payload();
    std::ostringstream out;
    out << res;
    auto bytes = std::make_shared<std::string>(out.str());
    upgrade_.reset();
    net::async_write(socket_, net::buffer(*bytes),
                     [self = shared_from_this(), bytes](beast::error_code, size_t) {
                       beast::error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                       self->cut();
                     });
  }

  // ---- Reading ----
  void wait_readable() {
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(beast::error_code ec) {
    if (ec) return finish();
    char* buffer = read_scratch();
    for (int round = 0; round < 4; ++round) {  // then let other connections have the thread
      const ssize_t n = ::recv(socket_.native_handle(), buffer, kReadChunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return finish();  // end of stream or a socket error
      consume(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < kReadChunk) break;
    }
    wait_readable();
  }

  void consume(char* data, size_t size) {
    const uint16_t failure = reader_.consume(data, size, *this);
    if (failure == 0) return;
    begin_close(failure, failure == ws::kCloseMessageTooBig   ? "message too big"
                         : failure == ws::kCloseTryAgainLater ? "server busy: inbound buffers are full"
                                                              : "protocol error");
  }

  // ---- FrameSink ----
  void on_message(std::string_view data, bool) override {
    if (!conn_ || closing_) return;
    port_.metrics().received(wire_, data.size());
    const LogScope scope(port_.options().log, log_throttle_, conn_->id());  // what protobuf says of these bytes is throttled
    port_.receive(conn_, data);
  }
  void on_ping(std::string_view payload) override {
    if (closing_) return;
    // A pong counts against the cap like any frame: a peer that pings without reading is closed.
    if (over_cap()) return close_slow_consumer();
    enqueue_control(ws::kPong, std::string(payload));
    flush();
  }
  void on_close(uint16_t code, std::string_view) override {
    peer_close_code_ = code;
    if (closing_) return;  // the answer to our own close: the handshake is complete
    closing_ = true;
    enqueue_control(ws::kClose, code == ws::kCloseNoStatus ? std::string() : ws::close_payload(code, {}));
    start_close_deadline();
    flush();
  }

  // ---- Writing ----
  void drain_inbox() {
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      std::swap(inbox_, draining_);
      drain_posted_ = false;
    }
    uint64_t taken = 0;
    for (SharedFrame& frame : draining_) taken += enqueue(std::move(frame));
    if (taken > 0) port_.metrics().frames_sent(wire_, taken);
    draining_.clear();
    if (draining_.capacity() > 8) draining_.shrink_to_fit();
  }

  // Whether the queue holds the cap or more: the slow-consumer policy applies to the next frame.
  // Under the cap a frame is always taken, so a large one never closes a reader that keeps up.
  bool over_cap() const { return queue_.charged_bytes() >= port_.options().max_queued_bytes; }

  // Whether the frame was queued.
  bool enqueue(SharedFrame frame) {
    if (!conn_ || closing_) return false;
    if (over_cap()) {
      if (port_.options().slow_consumer == SlowConsumerPolicy::kDrop) {
        port_.count_dropped_frame();
        return false;
      }
      close_slow_consumer();
      return false;
    }
    const std::string& bytes = frame->in(wire_);
    queue_.push(std::move(frame), bytes, wire_ == Wire::kJson ? ws::kText : ws::kBinary, /*owned=*/false);
    return true;
  }

  // A slow consumer must not hold memory or delay anyone else: drop what is queued and leave.
  void close_slow_consumer() {
    port_.metrics().slow_consumer_closed();
    static KindThrottle throttle;
    log_throttled(throttle, port_.options().log, LogLevel::kWarning, "closed a slow consumer (1013)",
                  {{"conn", conn_ ? clip(conn_->id()) : std::string()}, {"queued_bytes", cat(queue_.charged_bytes())}});
    queue_.drop_unstarted();
    begin_close(kCloseTryAgainLater, "slow consumer");
  }

  void enqueue_control(ws::Opcode opcode, std::string payload) {
    SharedFrame frame = owned(std::move(payload));
    queue_.push(frame, frame->json, opcode, /*owned=*/true);
  }

  void enqueue_raw(std::string bytes) {
    SharedFrame frame = owned(std::move(bytes));
    queue_.push(frame, frame->json, std::nullopt, /*owned=*/true);
  }

  static SharedFrame owned(std::string bytes) {
    auto frame = std::make_shared<EncodedFrame>();
    frame->json = std::move(bytes);
    return frame;
  }

  // Writes as much of the queue as the socket takes, many frames per sendmsg.
  void flush() {
    queued_bytes_.store(queue_.charged_bytes(), std::memory_order_relaxed);
    if (waiting_writable_ || !socket_.is_open()) return;
    constexpr int kMaxIov = 64;
    while (!queue_.empty()) {
      iovec iov[kMaxIov];
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = static_cast<size_t>(queue_.gather(iov, kMaxIov));
      const ssize_t written = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        waiting_writable_ = true;
        socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
          self->waiting_writable_ = false;
          if (!ec) self->flush();
        });
        return;
      }
      if (written < 0) return cut();  // the read side reports the end
      queue_.advance(static_cast<size_t>(written));
      port_.metrics().bytes_sent(wire_, static_cast<size_t>(written));
    }
    queued_bytes_.store(queue_.charged_bytes(), std::memory_order_relaxed);
    if (closing_ && !shut_down_) {
      // Our close frame is out: half-close, and read until the peer closes too (or the deadline).
      shut_down_ = true;
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  // ---- Closing ----
  // Flushes what is queued, then sends the close frame and half-closes.
  void begin_close(uint16_t code, std::string_view reason) {
    if (closing_ || !socket_.is_open()) return;
    drain_inbox();  // frames sent before the close still go first
    closing_ = true;
    close_code_ = code;
    enqueue_control(ws::kClose, ws::close_payload(code, reason));
    start_close_deadline();
    flush();
  }

  void start_close_deadline() {
    close_deadline_ =
        std::make_unique<net::steady_timer>(socket_.get_executor(), port_.options().close_timeout);
    close_deadline_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->cut();
    });
  }

  // Closes the socket; the pending read reports the end.
  void cut() {
    beast::error_code ignored;
    socket_.close(ignored);
  }

  // The read side is over: the connection is gone for the core.
  void finish() {
    cut();
    if (close_deadline_) close_deadline_->cancel();
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_closed_ = true;
      inbox_.clear();
    }
    queue_.clear();
    queued_bytes_.store(0, std::memory_order_relaxed);
    if (!conn_) return;
    uint16_t code = 1006;
    if (peer_close_code_ != 0) code = peer_close_code_;
    if (close_code_ != 0) code = close_code_;  // this side decided
    port_.closed(std::exchange(conn_, nullptr), code);
  }

  tcp::socket socket_;
  internal::TransportPort port_;
  const std::shared_ptr<ConnectionCounts> counts_;
  const std::shared_ptr<ws::BufferBudget> budget_;  // before reader_, which charges it
  const std::shared_ptr<const StaticFiles> files_;  // null: no --static, a plain GET is a 400
  bool counted_ = false;
  std::string counted_ip_;            // when counted per address
  std::unique_ptr<Upgrade> upgrade_;  // only until the 101
  std::shared_ptr<Conn> conn_;
  Wire wire_ = Wire::kJson;
  ws::FrameReader reader_;
  LogThrottle log_throttle_;  // for protobuf's lines about this connection's bytes

  std::mutex inbox_mu_;
  std::vector<SharedFrame> inbox_;   // guarded by inbox_mu_
  bool drain_posted_ = false;  // guarded by inbox_mu_
  bool inbox_closed_ = false;  // guarded by inbox_mu_
  std::vector<SharedFrame> draining_;

  WriteQueue queue_;
  std::atomic<size_t> queued_bytes_{0};  // queue_.charged_bytes() after the last flush, for stats
  bool waiting_writable_ = false;

  bool closing_ = false;          // a close frame is queued; nothing else will be
  bool shut_down_ = false;        // ... and written, followed by our FIN
  uint16_t close_code_ = 0;       // the code this side closed with, when it decided
  uint16_t peer_close_code_ = 0;  // the code the peer's close frame carried
  std::unique_ptr<net::steady_timer> close_deadline_;
};

}  // namespace

class WebSocketServer::Impl {
 public:
  Impl(Server& server, ListenOptions options)
      : port_(server), options_(std::move(options)), acceptor_(net::make_strand(ioc_)), heartbeat_(ioc_) {}

  absl::Status start() {
    if (!options_.static_dir.empty()) {
      absl::StatusOr<StaticFiles> files = StaticFiles::open(options_.static_dir);
      if (!files.ok()) return files.status();
      files_ = std::make_shared<const StaticFiles>(*std::move(files));
    }
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
    bound_port_ = acceptor_.local_endpoint().port();
    const ServerOptions& server_options = port_.options();
    if (server_options.admin.enabled) {
      admin_.emplace(ioc_, port_, server_options.admin);
      if (absl::Status listening = admin_->start(); !listening.ok()) return listening;
    }
    accept();
    schedule_heartbeat();
    for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    started_ = true;
    port_.set_state(ServingState::kServing);
    log(server_options.log, LogLevel::kInfo, "listening",
        {{"address", options_.address},
         {"port", cat(bound_port_)},
         {"admin_port", admin_ ? cat(admin_->port()) : std::string()},
         {"node", server_options.node_name}});
    return absl::OkStatus();
  }

  uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }

  void stop(std::chrono::milliseconds drain) {
    if (stopped_.exchange(true)) return;
    wake();
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
    });
    net::post(ioc_, [this] { heartbeat_.cancel(); });
    // Not ready from now on, while /ready and /metrics still answer: the admin listener stays
    // open through the drain.
    port_.set_state(ServingState::kDraining);
    const LogSink& sink = port_.options().log;
    if (started_) {
      log(sink, LogLevel::kInfo, "draining",
          {{"connections", cat(port_.connection_count())}, {"drain_ms", cat(drain.count())}});
    }
    port_.shutdown();
    auto wait_for_no_connections = [this](std::chrono::milliseconds budget) {
      const auto deadline = std::chrono::steady_clock::now() + budget;
      while (port_.connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    };
    wait_for_no_connections(drain);
    // Whoever did not finish the close handshake in time is cut off, so no socket outlives stop().
    if (const size_t left = port_.connection_count(); left > 0) {
      log(sink, LogLevel::kInfo, "cutting connections that did not finish the close handshake",
          {{"connections", cat(left)}});
    }
    port_.terminate_all();
    wait_for_no_connections(std::chrono::milliseconds(500));
    if (admin_) admin_->stop();
    port_.set_state(ServingState::kStopped);
    if (started_) log(sink, LogLevel::kInfo, "stopped");
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

  void wait(std::chrono::milliseconds drain) {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      woken_cv_.wait(lock, [this] { return woken_; });
    }
    stop(drain);
  }

  uint16_t port() const { return bound_port_; }

 private:
  void wake() {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_ = true;
    woken_cv_.notify_all();
  }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (out_of_resources(ec)) return pause_accepting(ec);
      if (!ec) {
        if (accept_delay_ != kAcceptDelayMin) {
          accept_delay_ = kAcceptDelayMin;
          log(port_.options().log, LogLevel::kInfo, "accepting connections again");
        }
        socket.set_option(tcp::no_delay(true), ec);
        if (const size_t bytes = port_.options().socket_send_buffer_bytes; bytes > 0) {
          socket.set_option(net::socket_base::send_buffer_size(static_cast<int>(bytes)), ec);
        }
        std::make_shared<Session>(std::move(socket), port_, counts_, budget_, files_)->run();
      }
      accept();
    });
  }

  static bool out_of_resources(const beast::error_code& ec) {
    return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
           ec == net::error::no_buffer_space || ec == net::error::no_memory;
  }

  // At the descriptor limit the connection stays in the kernel's queue, so accepting again at once
  // fails again at once: a core spinning. Wait instead, from 10 ms doubling to 1 s, while open
  // connections are served; the first success resets the wait.
  void pause_accepting(const beast::error_code& ec) {
    if (accept_delay_ == kAcceptDelayMin) {  // once per episode, and episodes are throttled too
      log_throttled(accept_log_, port_.options().log, LogLevel::kWarning,
                    "not accepting connections (out of file descriptors or memory); open connections are still served",
                    {{"error", ec.message()}});
    }
    accept_retry_.expires_after(accept_delay_);
    accept_delay_ = std::min(accept_delay_ * 2, kAcceptDelayMax);
    accept_retry_.async_wait([this](beast::error_code e) {
      if (!e && acceptor_.is_open()) accept();
    });
  }

  void schedule_heartbeat() {
    const auto interval = port_.options().heartbeat_interval;
    if (interval.count() <= 0) return;
    heartbeat_.expires_after(interval);
    heartbeat_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      port_.heartbeat();
      schedule_heartbeat();
    });
  }

  internal::TransportPort port_;
  ListenOptions options_;
  const std::shared_ptr<ConnectionCounts> counts_ = std::make_shared<ConnectionCounts>(port_.options());
  const std::shared_ptr<ws::BufferBudget> budget_ =
      std::make_shared<ws::BufferBudget>(port_.options().max_inbound_buffered_bytes);
  std::shared_ptr<const StaticFiles> files_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  tcp::acceptor acceptor_;
  static constexpr std::chrono::milliseconds kAcceptDelayMin{10}, kAcceptDelayMax{1000};
  net::steady_timer accept_retry_{acceptor_.get_executor()};
  std::chrono::milliseconds accept_delay_ = kAcceptDelayMin;
  KindThrottle accept_log_;
  net::steady_timer heartbeat_;
  std::vector<std::thread> threads_;
  std::optional<net::signal_set> signals_;
  std::mutex wake_mu_;
  std::condition_variable woken_cv_;
  bool woken_ = false;  // a handled signal arrived, or stop() began
  std::atomic<bool> stopped_{false};
  bool started_ = false;
  std::optional<AdminListener> admin_;  // ServerOptions::admin.enabled
  uint16_t bound_port_ = 0;
};

WebSocketServer::WebSocketServer(Server& server, ListenOptions options)
    : impl_(std::make_unique<Impl>(server, std::move(options))) {}
WebSocketServer::~WebSocketServer() { stop(std::chrono::milliseconds(0)); }
absl::Status WebSocketServer::start() { return impl_->start(); }
uint16_t WebSocketServer::port() const { return impl_->port(); }
void WebSocketServer::stop(std::chrono::milliseconds drain) { impl_->stop(drain); }
void WebSocketServer::handle_signals() { impl_->handle_signals(); }
void WebSocketServer::wait(std::chrono::milliseconds drain) { impl_->wait(drain); }
uint16_t WebSocketServer::admin_port() const { return impl_->admin_port(); }

}  // namespace superline
