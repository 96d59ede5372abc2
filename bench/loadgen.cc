// loadgen: one load generator for every server in the side-by-side benchmarks (bench/run.sh). It
// opens N WebSocket connections (at R per second if given, with at most C upgrades in flight), makes them all
// join room "bench" of the chat workload, drives one workload, verifies every delivery, and prints one JSON
// object.
//
// Protocols (--protocol):
//   json       superline.v1 JSON frames: chat_server, and the plain `ws` peer (bench/peers)
//   pb         superline.pb.v1 binary frames: chat_server
//   socketio   Socket.IO v4 over a plain WebSocket (Engine.IO 4): the Socket.IO peer
//
// Workloads (--workload):
//   broadcast  the first S connections each send M messages of B bytes to the room, at most W
//              unanswered each; every connection must receive every message. Latency = receive
//              time - the send time embedded in the text (same host, same clock).
//   echo       every connection does M closed-loop request/reply round trips (chat `peers`)
//   connect    only the connect + upgrade + join phase (upgrades/s); with --hold-ms the
//              connections then stay idle and the server's RSS per connection is reported
//
// --slow-pct P makes the last P% of the connections stop reading once joined (slow consumers);
// deliveries are then expected, and latencies measured, on the others only.
//
// --port2 P2 puts every odd connection on a second node (the sender, connection 0, stays on P).
// --server-pid PID adds the server's RSS (before and after connecting) and CPU time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chat.pb.h"
#include "superline/wire.pb.h"
#include "ws_codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using superline::wire::Frame;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

enum class Protocol { kJson, kPb, kSocketIo };

struct Options {
  uint16_t port = 0;
  uint16_t port2 = 0;
  Protocol protocol = Protocol::kJson;
  std::string workload = "broadcast";
  int conns = 100;
  int senders = 1;
  int messages = 100;
  int size = 1024;
  int window = 16;
  int concurrency = 200;    // upgrades in flight
  double connect_rate = 0;  // new connections per second; 0: as fast as `concurrency` allows
  int slow_pct = 0;         // this share of the connections (the last ones) stops reading once joined
  int hold_ms = 0;
  int server_pid = 0;
};

struct Stats {
  std::vector<int64_t> latencies_ns;
  int64_t deliveries = 0;
  int64_t errors = 0;
  void record(int64_t latency) {
    ++deliveries;
    latencies_ns.push_back(latency);
  }
};

// The text of a broadcast message: its send time, then padding to the message size.
std::string stamped_text(int size) {
  std::string text = std::to_string(now_ns()) + ":";
  text.resize(std::max<size_t>(text.size(), static_cast<size_t>(size)), 'x');
  return text;
}

// The number right after `key` in `s`, or -1.
int64_t number_after(std::string_view s, std::string_view key) {
  const size_t at = s.find(key);
  if (at == std::string_view::npos) return -1;
  return std::atoll(std::string(s.substr(at + key.size(), 20)).c_str());
}

// One client connection on the load generator's epoll loop: non-blocking socket, HTTP upgrade, then
// WebSocket frames parsed straight from its read buffer. Client frames are masked with the all-zero
// key (valid, and free to apply), so the generator spends its core on receiving, not on framing.
class Connection {
 public:
  Connection(int epoll, const Options& options, Stats& stats, int index)
      : epoll_(epoll), options_(options), stats_(stats), index_(index) {}
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }

  // Connects, upgrades, joins room "bench"; `ready` runs once joined (or failed).
  void start(std::function<void(bool)> ready) {
    ready_ = std::move(ready);
    const uint16_t port = options_.port2 != 0 && index_ % 2 == 1 ? options_.port2 : options_.port;
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)
      return fail();
    epoll_event ev{EPOLLIN | EPOLLOUT, {.ptr = this}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd_, &ev);
  }

  void start_sending() { pump_sends(); }
  void start_echo() { send_echo(); }
  // The last slow_pct% of the connections are the slow ones (senders are the first).
  bool slow() const { return index_ >= options_.conns - options_.conns * options_.slow_pct / 100; }

  void on_event(uint32_t events) {
    if (state_ == State::kConnecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0) return fail();
      state_ = State::kUpgrading;
      upgrade();
    }
    if (events & EPOLLOUT) flush();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable();
  }

 private:
  enum class State { kConnecting, kUpgrading, kOpen, kClosed };

  void upgrade() {
    const std::string name = "b" + std::to_string(index_);
    std::string target = "/?role=user&name=" + name;
    if (options_.protocol == Protocol::kSocketIo)
      target = "/socket.io/?EIO=4&transport=websocket&name=" + name;
    std::string request = "GET " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (options_.protocol == Protocol::kJson) request += "Sec-WebSocket-Protocol: superline.v1\r\n";
    if (options_.protocol == Protocol::kPb) request += "Sec-WebSocket-Protocol: superline.pb.v1\r\n";
    out_ += request + "\r\n";
    flush();
  }

  void fail() {
    ++stats_.errors;
    state_ = State::kClosed;
    if (fd_ >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, fd_, nullptr);
      close(fd_);
      fd_ = -1;
    }
    if (ready_) std::exchange(ready_, nullptr)(false);
  }

  // ---- Outbound ----
  void write(const std::string& payload) {
    out_ += superline::ws::client_frame(
        options_.protocol == Protocol::kPb ? superline::ws::kBinary : superline::ws::kText, payload,
        /*key=*/0);
    flush();
  }

  void flush() {
    while (!out_.empty() && fd_ >= 0) {
      const ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return fail();
      out_.erase(0, static_cast<size_t>(n));
    }
    const bool want_out = !out_.empty() || state_ == State::kConnecting;
    if (fd_ >= 0 && want_out != watching_out_) {
      watching_out_ = want_out;
      watch();
    }
  }

  // A request named `method` with id `id`; `json` is its payload in JSON (rebuilt in protobuf for pb).
  void request(int64_t id, std::string_view method, const std::string& json) {
    switch (options_.protocol) {
      case Protocol::kJson:
        return write("{\"t\":\"req\",\"i\":" + std::to_string(id) + ",\"m\":\"" + std::string(method) +
                     "\",\"d\":" + json + "}");
      case Protocol::kSocketIo:
        return write("42" + std::to_string(id) + "[\"" + std::string(method) + "\"," + json + "]");
      case Protocol::kPb: {
        Frame frame;
        frame.set_t(Frame::REQ);
        frame.set_i(static_cast<uint64_t>(id));
        frame.set_m(std::string(method));
        frame.set_d(pb_payload(method));
        return write(frame.SerializeAsString());
      }
    }
  }

  std::string pb_payload(std::string_view method) {
    if (method == "join") {
      chat::JoinRequest join;
      join.set_room("bench");
      return join.SerializeAsString();
    }
    if (method == "send") {
      chat::SendRequest send;
      send.set_room("bench");
      send.set_text(stamped_text(options_.size));
      return send.SerializeAsString();
    }
    return chat::PeersRequest().SerializeAsString();
  }

  void join() { request(1, "join", R"({"room":"bench"})"); }

  void watch() {
    epoll_event ev{(reading_ ? EPOLLIN : 0u) | (watching_out_ ? EPOLLOUT : 0u), {.ptr = this}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, fd_, &ev);
  }

  void pump_sends() {
    while (sent_ < options_.messages && in_flight_ < options_.window) {
      ++sent_;
      ++in_flight_;
      const std::string json = options_.protocol == Protocol::kPb
                                   ? ""
                                   : R"({"room":"bench","text":")" + stamped_text(options_.size) + "\"}";
      request(100 + sent_, "send", json);
    }
  }

  void send_echo() {
    if (sent_ == options_.messages) return;
    ++sent_;
    echo_sent_ = now_ns();
    request(100 + sent_, "peers", "{}");
  }

  // ---- Inbound ----
  void on_readable() {
    static char buffer[256 * 1024];
    while (fd_ >= 0) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return fail();
      in_.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buffer) break;
    }
    if (state_ == State::kUpgrading) {
      const size_t end = in_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (in_.compare(0, 12, "HTTP/1.1 101") != 0) return fail();
      in_.erase(0, end + 4);
      state_ = State::kOpen;
      if (options_.protocol != Protocol::kSocketIo) join();  // Socket.IO: the server speaks first
    }
    size_t pos = 0;
    while (state_ == State::kOpen && in_.size() - pos >= 2) {
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos);
      const uint8_t opcode = p[0] & 0x0F;
      uint64_t length = p[1] & 0x7F;
      size_t header = 2;
      if (length == 126) {
        if (in_.size() - pos < 4) break;
        length = (uint64_t{p[2]} << 8) | p[3];
        header = 4;
      } else if (length == 127) {
        if (in_.size() - pos < 10) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
        header = 10;
      }
      if (in_.size() - pos - header < length) break;
      const std::string_view payload(in_.data() + pos + header, length);
      pos += header + length;
      if (opcode == 0x8) return fail();  // the server closed
      if (opcode == 0x9) {
        out_ += static_cast<char>(0x8A);
        out_ += static_cast<char>(0x80 | payload.size());
        out_.append(4, '\0');
        out_ += payload;
        flush();
      } else if (opcode == 0x1 || opcode == 0x2) {
        on_message(payload);
      }
    }
    in_.erase(0, pos);
  }

  void on_message(std::string_view m) {
    switch (options_.protocol) {
      case Protocol::kJson:
        if (m.find(R"("e":"message")") != std::string_view::npos)
          return delivered(number_after(m, R"("text":")"));
        if (m.find(R"("t":"ping")") != std::string_view::npos) return write(R"({"t":"pong"})");
        if (m.find(R"("t":"err")") != std::string_view::npos) return errored();
        if (m.find(R"("t":"res")") != std::string_view::npos) return answered(number_after(m, R"("i":)"));
        return;
      case Protocol::kPb: {
        Frame frame;
        if (!frame.ParseFromArray(m.data(), static_cast<int>(m.size()))) return errored();
        if (frame.t() == Frame::PING) {
          Frame pong;
          pong.set_t(Frame::PONG);
          return write(pong.SerializeAsString());
        }
        if (frame.t() == Frame::EVT && frame.e() == "message") {
          chat::ChatMessage message;
          message.ParseFromString(frame.d());
          return delivered(std::atoll(message.text().c_str()));
        }
        if (frame.t() == Frame::ERR) return errored();
        if (frame.t() == Frame::RES) return answered(static_cast<int64_t>(frame.i()));
        return;
      }
      case Protocol::kSocketIo:
        // Engine.IO: 0 open, 2 ping (answer 3), 4 message; Socket.IO inside: 0 connect,
        // 2 event, 3 ack, 4 connect error.
        if (m.substr(0, 2) == "42" && m.find(R"(["message")") != std::string_view::npos) {
          return delivered(number_after(m, R"("text":")"));
        }
        if (m == "2") return write("3");
        if (m.substr(0, 1) == "0") return write("40");
        if (m.substr(0, 2) == "40") return join();
        if (m.substr(0, 2) == "44") return errored();
        if (m.substr(0, 2) == "43") return answered(std::atoll(std::string(m.substr(2, 20)).c_str()));
        return;
    }
  }

  void delivered(int64_t sent_ns) {
    if (sent_ns > 0) stats_.record(now_ns() - sent_ns);
  }
  void errored() { ++stats_.errors; }
  void answered(int64_t id) {
    if (id == 1) {
      if (ready_) std::exchange(ready_, nullptr)(true);
      if (slow()) {  // a slow consumer: from now on it reads nothing
        reading_ = false;
        watch();
      }
      return;
    }
    if (options_.workload == "echo") {
      stats_.record(now_ns() - echo_sent_);
      return send_echo();
    }
    --in_flight_;
    pump_sends();
  }

  const int epoll_;
  const Options& options_;
  Stats& stats_;
  const int index_;
  int fd_ = -1;
  State state_ = State::kConnecting;
  bool watching_out_ = true;
  bool reading_ = true;
  std::string in_, out_;
  std::function<void(bool)> ready_;
  int sent_ = 0;
  int in_flight_ = 0;
  int64_t echo_sent_ = 0;
};

long rss_kb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// User + system CPU seconds of a process so far.
double cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(all.substr(paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt: fields 3-13
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--port")
      o.port = static_cast<uint16_t>(std::stoi(value));
    else if (flag == "--port2")
      o.port2 = static_cast<uint16_t>(std::stoi(value));
    else if (flag == "--protocol") {
      if (value == "json")
        o.protocol = Protocol::kJson;
      else if (value == "pb")
        o.protocol = Protocol::kPb;
      else if (value == "socketio")
        o.protocol = Protocol::kSocketIo;
      else
        return false;
    } else if (flag == "--workload")
      o.workload = value;
    else if (flag == "--conns")
      o.conns = std::stoi(value);
    else if (flag == "--senders")
      o.senders = std::stoi(value);
    else if (flag == "--messages")
      o.messages = std::stoi(value);
    else if (flag == "--size")
      o.size = std::stoi(value);
    else if (flag == "--window")
      o.window = std::stoi(value);
    else if (flag == "--slow-pct")
      o.slow_pct = std::stoi(value);
    else if (flag == "--connect-rate")
      o.connect_rate = std::stod(value);
    else if (flag == "--concurrency")
      o.concurrency = std::stoi(value);
    else if (flag == "--hold-ms")
      o.hold_ms = std::stoi(value);
    else if (flag == "--server-pid")
      o.server_pid = std::stoi(value);
    else
      return false;
  }
  return o.port != 0 && (o.workload == "broadcast" || o.workload == "echo" || o.workload == "connect") &&
         o.senders >= 1 && o.senders <= o.conns;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) {
    std::cerr
        << "usage: loadgen --port P [--port2 P2] [--protocol json|pb|socketio]\n"
           "               [--workload broadcast|echo|connect] [--conns N] [--senders S]\n"
           "               [--messages M] [--size B] [--window W] [--concurrency C] [--connect-rate R]\n"
           "               [--hold-ms MS] [--slow-pct P] [--server-pid PID]\n";
    return 2;
  }

  const int epoll = epoll_create1(0);
  Stats stats;
  // Runs the event loop until `done` or the deadline.
  auto loop_until = [&](const std::function<bool()>& done, Clock::time_point deadline) {
    epoll_event events[512];
    while (!done() && Clock::now() < deadline) {
      const int n = epoll_wait(epoll, events, 512, 1);
      for (int i = 0; i < n; ++i) static_cast<Connection*>(events[i].data.ptr)->on_event(events[i].events);
    }
  };
  const long rss_before = o.server_pid ? rss_kb(o.server_pid) : -1;

  // Connect phase: at most `concurrency` upgrades in flight.
  std::vector<std::unique_ptr<Connection>> conns;
  int joined = 0, failed = 0;
  const auto connect_start = Clock::now();
  const auto connect_deadline = connect_start + std::chrono::seconds(60);
  for (int i = 0; i < o.conns && Clock::now() < connect_deadline; ++i) {
    loop_until([&] { return i - joined - failed < o.concurrency; }, connect_deadline);
    if (o.connect_rate > 0) {  // the schedule: connection i opens at i / rate
      const auto due =
          connect_start + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / o.connect_rate));
      loop_until([&] { return Clock::now() >= due; }, connect_deadline);
    }
    conns.push_back(std::make_unique<Connection>(epoll, o, stats, i));
    conns.back()->start([&](bool ok) { ++(ok ? joined : failed); });
  }
  loop_until([&] { return joined + failed >= o.conns; }, connect_deadline);
  const double connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
  int slow = 0;
  for (const auto& c : conns) slow += c->slow() ? 1 : 0;
  if (o.hold_ms > 0) loop_until([] { return false; }, Clock::now() + std::chrono::milliseconds(o.hold_ms));
  const long rss_loaded = o.server_pid ? rss_kb(o.server_pid) : -1;

  // Workload phase.
  int64_t expected = 0;
  const double cpu_start = o.server_pid ? cpu_seconds(o.server_pid) : 0;
  const auto start = Clock::now();
  if (o.workload == "broadcast") {
    expected = int64_t{o.messages} * o.senders * (joined - slow);
    for (int s = 0; s < o.senders; ++s) conns[s]->start_sending();
  } else if (o.workload == "echo") {
    expected = int64_t{o.messages} * joined;
    for (auto& c : conns) c->start_echo();
  }
  loop_until([&] { return stats.deliveries >= expected; }, start + std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = o.server_pid ? cpu_seconds(o.server_pid) - cpu_start : 0;

  std::vector<int64_t> lat = std::move(stats.latencies_ns);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0
                       : static_cast<double>(lat[std::min(lat.size() - 1, size_t(p * lat.size()))]) / 1000.0;
  };
  const char* protocol = o.protocol == Protocol::kJson ? "json"
                         : o.protocol == Protocol::kPb ? "pb"
                                                       : "socketio";
  const double per_s = o.workload == "connect" ? joined / connect_s : stats.deliveries / seconds;
  const long per_conn_bytes =
      rss_before > 0 && rss_loaded > 0 && joined > 0 ? (rss_loaded - rss_before) * 1024 / joined : -1;
  std::printf(
      "{\"workload\":\"%s\",\"protocol\":\"%s\",\"conns\":%d,\"joined\":%d,\"slow\":%d,\"senders\":%d,"
      "\"messages\":%d,"
      "\"size\":%d,\"deliveries\":%lld,\"expected\":%lld,\"seconds\":%.3f,\"per_s\":%.0f,\"p50_us\":%.1f,"
      "\"p99_us\":%.1f,\"max_us\":%.1f,\"errors\":%lld,\"connect_s\":%.3f,\"server_rss_before_kb\":%ld,"
      "\"server_rss_kb\":%ld,\"rss_per_conn_bytes\":%ld,\"server_cpu_s\":%.3f}\n",
      o.workload.c_str(), protocol, o.conns, joined, slow, o.senders, o.messages, o.size,
      static_cast<long long>(stats.deliveries), static_cast<long long>(expected), seconds, per_s, pct(0.5),
      pct(0.99), lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1000.0,
      static_cast<long long>(stats.errors + failed), connect_s, rss_before, rss_loaded, per_conn_bytes,
      server_cpu);
  std::fflush(stdout);
  return stats.deliveries == expected && joined == o.conns ? 0 : 1;
}
