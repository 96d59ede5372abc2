#include "ws_test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ws_codec.h"

namespace e2e {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct WsTestClient::State {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  // A read that outlived its caller's deadline stays in flight (cancelling one breaks a Beast
  // stream); the next read() waits on it.
  bool read_pending = false;
  bool read_done = false;
  beast::error_code read_ec;
  std::deque<std::pair<std::string, bool>> writes;  // text, binary; front is in flight
  bool write_failed = false;
};

namespace {

// Runs the io_context until `done` or the deadline; false on timeout. Operations stay in flight.
// Polls at least once, so a zero timeout still picks up what has already arrived.
bool run_until(net::io_context& ioc, const bool& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(1));
  } while (!done && std::chrono::steady_clock::now() < deadline);
  return done;
}

}  // namespace

WsTestClient::WsTestClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

WsTestClient::~WsTestClient() {
  beast::error_code ec;
  beast::get_lowest_layer(state_->ws).socket().close(ec);
}

WsTestClient::Dial WsTestClient::dial(uint16_t port, const std::string& target,
                                      const std::string& subprotocol) {
  auto state = std::make_unique<State>();
  Dial result;
  beast::error_code ec;
  beast::get_lowest_layer(state->ws).socket().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                                      ec);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  beast::get_lowest_layer(state->ws).socket().set_option(tcp::no_delay(true), ec);
  if (!subprotocol.empty()) {
    state->ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
      req.set(http::field::sec_websocket_protocol, subprotocol);
    }));
  }
  websocket::response_type response;
  bool done = false;
  state->ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!run_until(state->ioc, done, 5s)) throw std::runtime_error("handshake timed out");
  result.http_status = response.result_int();
  result.subprotocol = std::string(response[http::field::sec_websocket_protocol]);
  result.contract = std::string(response["Superline-Contract"]);
  result.upgraded = !ec;
  if (result.upgraded) result.client.reset(new WsTestClient(std::move(state)));
  return result;
}

std::unique_ptr<WsTestClient> WsTestClient::open(uint16_t port, const std::string& target) {
  Dial d = dial(port, target);
  if (!d.upgraded) throw std::runtime_error("upgrade refused with HTTP " + std::to_string(d.http_status));
  auto env = d.client->read();
  if (!env || *env != R"({"t":"env","d":null})") throw std::runtime_error("expected the env frame first");
  return std::move(d.client);
}

void WsTestClient::send(const std::string& text, bool binary) {
  const bool idle = state_->writes.empty();
  state_->writes.emplace_back(text, binary);
  if (idle) start_write();
  // Behave like a blocking write, but give up waiting (not writing) when the peer stops reading.
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (!state_->writes.empty() && !state_->write_failed && std::chrono::steady_clock::now() < deadline) {
    state_->ioc.restart();
    state_->ioc.run_for(std::chrono::milliseconds(2));
  }
}

void WsTestClient::start_write() {
  auto& [text, binary] = state_->writes.front();
  state_->ws.binary(binary);
  state_->ws.async_write(net::buffer(text), [this](beast::error_code ec, size_t) {
    if (ec) {
      state_->write_failed = true;
      state_->writes.clear();
      return;
    }
    state_->writes.pop_front();
    if (!state_->writes.empty()) start_write();
  });
}

std::optional<std::string> WsTestClient::read(std::chrono::milliseconds timeout) {
  if (!backlog_.empty()) {
    std::string frame = std::move(backlog_.front());
    backlog_.pop_front();
    return frame;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    const auto left = std::max(
        std::chrono::milliseconds(0),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!state_->read_pending) {
      state_->read_pending = true;
      state_->read_done = false;
      State* state = state_.get();
      state_->ws.async_read(state_->buffer, [state](beast::error_code e, size_t) {
        state->read_ec = e;
        state->read_done = true;
      });
    }
    if (!run_until(state_->ioc, state_->read_done, left)) return std::nullopt;  // polled once at least
    state_->read_pending = false;
    const beast::error_code ec = state_->read_ec;
    if (ec) {
      closed_ = true;
      // A close frame received counts even if replying to it failed (a server failing the
      // connection, as on 1009, need not wait for the reply).
      close_code_ = state_->ws.reason().code != 0 ? state_->ws.reason().code : 1006;
      return std::nullopt;
    }
    std::string frame = beast::buffers_to_string(state_->buffer.data());
    state_->buffer.consume(state_->buffer.size());
    if (frame == R"({"t":"ping"})") {
      if (answer_pings_) send(R"({"t":"pong"})");
      continue;
    }
    return frame;
  }
  return std::nullopt;
}

std::optional<std::string> WsTestClient::read_until(std::string_view needle,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::deque<std::string> passed;
  std::optional<std::string> found;
  while (!found) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto frame = read(left);
    if (!frame) break;
    if (frame->find(needle) != std::string::npos) {
      found = std::move(frame);
    } else {
      passed.push_back(std::move(*frame));
    }
  }
  backlog_.insert(backlog_.begin(), passed.begin(), passed.end());
  return found;
}

bool WsTestClient::quiet_for(std::chrono::milliseconds window) { return !read(window).has_value(); }

std::optional<std::string> WsTestClient::request(const std::string& method, const std::string& data_json,
                                                 std::chrono::milliseconds timeout) {
  const std::string id = std::to_string(++next_id_ + 1000);
  send(R"({"t":"req","i":)" + id + R"(,"m":")" + method + R"(","d":)" + data_json + "}");
  return read_until(R"("i":)" + id + ",", timeout);
}

bool WsTestClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_ && std::chrono::steady_clock::now() < deadline) {
    read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  }
  return closed_;
}

std::string raw_exchange(uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.socket().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(stream.socket(), net::buffer(bytes));
  std::string out;
  char buf[4096];
  bool done = false;
  std::function<void()> read_more = [&] {
    stream.async_read_some(net::buffer(buf), [&](beast::error_code ec, size_t n) {
      out.append(buf, n);
      if (ec) {
        done = true;
      } else {
        read_more();
      }
    });
  };
  read_more();
  run_until(ioc, done, timeout);
  return out;
}

ChatServerProcess::ChatServerProcess(std::vector<std::string> extra_args, uint16_t port, ProcessLaunch launch) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  // SUPERLINE_CHAT_SERVER runs the tests against another build (an older one, to see a fix's
  // test fail without it).
  const char* binary = std::getenv("SUPERLINE_CHAT_SERVER");
  std::vector<std::string> args = {!launch.binary.empty() ? launch.binary.c_str() : binary != nullptr ? binary : CHAT_SERVER_PATH,
                                   "--port", std::to_string(port)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int err_fd = -1;
  if (launch.capture_stderr) {
    std::string path = (std::filesystem::temp_directory_path() / "chat_server_stderr_XXXXXX").string();
    err_fd = mkstemp(path.data());
    if (err_fd < 0) throw std::runtime_error("mkstemp");
    stderr_path_ = path;
  }
  pid_ = fork();
  if (pid_ == 0) {
    if (launch.measure_memory) {
      const char* before = std::getenv("ASAN_OPTIONS");
      std::string options = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
      if (before != nullptr && *before != 0) options = std::string(before) + ":" + options;
      setenv("ASAN_OPTIONS", options.c_str(), 1);
    }
    if (launch.max_fds > 0) {
      const rlimit limit{static_cast<rlim_t>(launch.max_fds), static_cast<rlim_t>(launch.max_fds)};
      setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (err_fd >= 0) {
      dup2(err_fd, STDERR_FILENO);
      close(err_fd);
    }
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  if (err_fd >= 0) close(err_fd);
  // Read "listening on 127.0.0.1:<port> ..." (and "admin on 127.0.0.1:<port>") within 10 s.
  const bool admin = std::find(extra_args.begin(), extra_args.end(), "--admin-port") != extra_args.end();
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto complete = [&] {
    return line.find('\n') != std::string::npos && (!admin || line.find("\n", line.find("admin on ")) != std::string::npos);
  };
  while (!complete() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  stdout_fd_ = out[0];
  const auto colon = line.find("127.0.0.1:");
  if (colon == std::string::npos) {
    stop(0s);
    throw std::runtime_error("chat_server did not start: '" + line + "'");
  }
  port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 10)));
  if (admin) {
    const auto at = line.find("admin on 127.0.0.1:");
    if (at == std::string::npos) {
      stop(0s);
      throw std::runtime_error("chat_server did not open its admin port: '" + line + "'");
    }
    admin_port_ = static_cast<uint16_t>(std::stoi(line.substr(at + 19)));
  }
}

HttpResponse http_request(uint16_t port, const std::string& target, const std::string& method) {
  HttpResponse r;
  std::string raw;
  try {
    raw = raw_exchange(port, method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  } catch (const std::exception&) {
    return r;  // nobody listening (yet): an empty status
  }
  const size_t eol = raw.find("\r\n"), end = raw.find("\r\n\r\n");
  if (eol == std::string::npos || end == std::string::npos) return r;
  r.status = raw.substr(0, eol);
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

ChatServerProcess::~ChatServerProcess() {
  stop();
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (!stderr_path_.empty()) std::filesystem::remove(stderr_path_);
}

std::string ChatServerProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

long rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

long cpu_ms(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text(std::istreambuf_iterator<char>(stat), std::istreambuf_iterator<char>{});
  const size_t end = text.rfind(')');  // the command name may hold spaces
  if (end == std::string::npos) return -1;
  std::istringstream fields(text.substr(end + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // fields 14 and 15 of proc(5), counted from 1
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) {
      stime = std::atol(field.c_str());
      return (utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
    }
  }
  return -1;
}

int open_fds(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

int ChatServerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(5ms);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

// ---- RawWsClient ----

std::string RawWsClient::frame(uint8_t opcode, const std::string& payload, bool fin, uint8_t rsv) {
  return superline::ws::client_frame(opcode, payload, /*key=*/0x371a5c08, fin, rsv);
}

RawWsClient::RawWsClient(uint16_t port, const std::string& target, int receive_buffer) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
  send("GET " + target +
       " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (in_.find("\r\n\r\n") == std::string::npos && fill(deadline)) {
  }
  const size_t end = in_.find("\r\n\r\n");
  upgraded_ = end != std::string::npos && in_.rfind("HTTP/1.1 101", 0) == 0;
  if (!upgraded_) return;
  in_.erase(0, end + 4);
  read();  // the env frame
}

RawWsClient::~RawWsClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawWsClient::send(const std::string& bytes) {
  for (size_t at = 0; at < bytes.size();) {
    const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return;
    at += static_cast<size_t>(n);
  }
}

void RawWsClient::send_split(const std::string& bytes, size_t chunk) {
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    send(bytes.substr(at, chunk));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::optional<RawWsClient::Frame> RawWsClient::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (in_.size() >= 2) {
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
      uint64_t length = p[1] & 0x7F;
      size_t header = 2;
      if (length == 126) {
        header = 4;
        if (in_.size() >= header) length = (uint64_t{p[2]} << 8) | p[3];
      } else if (length == 127) {
        header = 10;
        if (in_.size() >= header) {
          length = 0;
          for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
        }
      }
      if (in_.size() >= header && in_.size() - header >= length) {
        Frame out{static_cast<uint8_t>(p[0] & 0x0F), in_.substr(header, length)};
        in_.erase(0, header + length);
        return out;
      }
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

uint16_t RawWsClient::close_code(std::chrono::milliseconds timeout) {
  while (auto f = read(timeout)) {
    if (f->opcode != kClose) continue;
    if (f->payload.size() < 2) return 1005;
    return static_cast<uint16_t>((static_cast<uint8_t>(f->payload[0]) << 8) |
                                 static_cast<uint8_t>(f->payload[1]));
  }
  return 0;
}

bool RawWsClient::answered(const std::string& needle) {
  while (auto f = read()) {
    if (f->opcode == kClose) return false;
    if (f->opcode == kText && f->payload.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool RawWsClient::fill(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
          .count();
  pollfd p{fd_, POLLIN, 0};
  if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return false;
  char buffer[65536];
  const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) return false;
  in_.append(buffer, static_cast<size_t>(n));
  return true;
}

}  // namespace e2e
