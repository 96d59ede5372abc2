#include "admin_listener.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>

#include "superline/internal/text.h"

namespace superline {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::chrono::seconds kRequestDeadline{10};
constexpr uint32_t kMaxHeaderBytes = 8 * 1024;

// One scrape or probe: read the request under the deadline, answer, close.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(tcp::socket socket, internal::TransportPort server)
      : socket_(std::move(socket)), server_(server), deadline_(socket_.get_executor()) {}

  void run() {
    parser_.header_limit(kMaxHeaderBytes);
    deadline_.expires_after(kRequestDeadline);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->cut();
    });
    http::async_read(socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->cut();
      const auto& request = self->parser_.get();
      const bool head = request.method() == http::verb::head;
      const bool get_or_head = head || request.method() == http::verb::get;
      self->answer_ = std::make_shared<std::string>(
          admin_response(self->server_, get_or_head, head, std::string_view(request.target().data(), request.target().size())));
      net::async_write(self->socket_, net::buffer(*self->answer_), [self](beast::error_code, size_t) {
        beast::error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        self->cut();
      });
    });
  }

 private:
  void cut() {
    beast::error_code ignored;
    deadline_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  internal::TransportPort server_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  std::shared_ptr<std::string> answer_;
};

}  // namespace

std::string admin_response(const internal::TransportPort& server, bool get_or_head, bool head, std::string_view target) {
  internal::TransportPort::AdminAnswer answer;
  if (!get_or_head) {
    answer.status = 405;
    answer.body = "only GET and HEAD are served\n";
  } else {
    answer = server.admin(target);
  }
  http::response<http::string_body> res(static_cast<http::status>(answer.status), 11);
  res.set(http::field::server, "superline");
  res.set(http::field::connection, "close");
  res.set(http::field::content_type, std::string(answer.content_type));
  res.set(http::field::cache_control, "no-store");
  if (answer.status == 405) res.set(http::field::allow, "GET, HEAD");
  res.body() = std::move(answer.body);
  res.prepare_payload();
  if (head) res.body().clear();  // Content-Length stays the GET's
  std::ostringstream out;
  out << res.base();
  if (!head) out << res.body();
  return out.str();
}

AdminListener::AdminListener(net::io_context& ioc, internal::TransportPort port, AdminOptions options)
    : server_(port), options_(std::move(options)), ioc_(ioc), acceptor_(net::make_strand(ioc)) {}

absl::Status AdminListener::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.address, ec);
  if (ec) return absl::InvalidArgumentError(cat("bad admin address '", options_.address, "': ", ec.message()));
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(cat("cannot listen on ", options_.address, ":", options_.port, " (admin): ", ec.message()));
  port_ = acceptor_.local_endpoint().port();
  accept();
  return absl::OkStatus();
}

void AdminListener::stop() {
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
}

void AdminListener::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<AdminSession>(std::move(socket), server_)->run();
    // On an error (out of descriptors) the next accept waits its turn like any other; scrapes are rare.
    accept();
  });
}

}  // namespace superline
