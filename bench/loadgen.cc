// loadgen: one load generator for every server in the side-by-side benchmarks (bench/run.sh). It
// opens N WebSocket connections with at most C upgrades in flight, makes them all join room "bench"
// of the chat workload, drives one workload, verifies every delivery, and prints one JSON object.
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
// --port2 P2 puts every odd connection on a second node (the sender, connection 0, stays on P).
// --server-pid PID adds the server's RSS (before and after connecting) and CPU time.
#include <google/protobuf/message.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chat.pb.h"
#include "superline/wire.pb.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
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
  int concurrency = 200;  // upgrades in flight
  int hold_ms = 0;
  int threads = 1;
  int server_pid = 0;
};

struct Stats {
  std::mutex mu;
  std::vector<int64_t> latencies_ns;
  std::atomic<int64_t> deliveries{0};
  std::atomic<int64_t> errors{0};
  void record(int64_t latency) {
    deliveries.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
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

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const Options& options, Stats& stats, int index)
      : ws_(net::make_strand(ioc)), options_(options), stats_(stats), index_(index) {}

  // Connects, upgrades, joins room "bench"; `ready` runs once joined (or failed).
  void start(std::function<void(bool)> ready) {
    ready_ = std::move(ready);
    const uint16_t port = options_.port2 != 0 && index_ % 2 == 1 ? options_.port2 : options_.port;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->fail();
                           self->upgrade();
                         });
  }

  void start_sending(std::function<void()> done) {
    done_ = std::move(done);
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->pump_sends(); });
  }
  void start_echo(std::function<void()> done) {
    done_ = std::move(done);
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->send_echo(); });
  }

 private:
  void upgrade() {
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    const std::string name = "b" + std::to_string(index_);
    std::string target = "/?role=user&name=" + name;
    if (options_.protocol == Protocol::kSocketIo)
      target = "/socket.io/?EIO=4&transport=websocket&name=" + name;
    const Protocol protocol = options_.protocol;
    ws_.set_option(websocket::stream_base::decorator([protocol](websocket::request_type& req) {
      if (protocol == Protocol::kJson) req.set(http::field::sec_websocket_protocol, "superline.v1");
      if (protocol == Protocol::kPb) req.set(http::field::sec_websocket_protocol, "superline.pb.v1");
    }));
    ws_.binary(protocol == Protocol::kPb);
    ws_.async_handshake("127.0.0.1", target, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail();
      self->read();
      if (self->options_.protocol != Protocol::kSocketIo) self->request(1, "join", join_payload());
      // Socket.IO: the server speaks first (Engine.IO open), then the namespace connect.
    });
  }

  static std::string join_payload() { return R"({"room":"bench"})"; }

  void fail() {
    stats_.errors.fetch_add(1);
    if (ready_) std::exchange(ready_, nullptr)(false);
  }

  // ---- Outbound, per protocol ----
  // A request named `method` with id `id`; `json` is its payload in JSON (converted for pb).
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

  void pump_sends() {
    while (sent_ < options_.messages && in_flight_ < options_.window) {
      ++sent_;
      ++in_flight_;
      const std::string json = options_.protocol == Protocol::kPb
                                   ? ""
                                   : R"({"room":"bench","text":")" + stamped_text(options_.size) + "\"}";
      request(100 + sent_, "send", json);
    }
    if (sent_ == options_.messages && in_flight_ == 0 && done_) std::exchange(done_, nullptr)();
  }

  void send_echo() {
    if (sent_ == options_.messages) {
      if (done_) std::exchange(done_, nullptr)();
      return;
    }
    ++sent_;
    echo_sent_ = now_ns();
    request(100 + sent_, "peers", "{}");
  }

  // ---- Inbound ----
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      auto data = self->buffer_.cdata();
      self->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void on_message(std::string_view m) {
    switch (options_.protocol) {
      case Protocol::kJson:
        if (m.find(R"("t":"ping")") != std::string_view::npos) return write(R"({"t":"pong"})");
        if (m.find(R"("e":"message")") != std::string_view::npos)
          return delivered(number_after(m, R"("text":")"));
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
        if (m == "2") return write("3");
        if (m.substr(0, 1) == "0") return write("40");
        if (m.substr(0, 2) == "40") return request(1, "join", join_payload());
        if (m.substr(0, 2) == "44") return errored();
        if (m.substr(0, 2) == "42" && m.find(R"(["message")") != std::string_view::npos) {
          return delivered(number_after(m, R"("text":")"));
        }
        if (m.substr(0, 2) == "43") return answered(std::atoll(std::string(m.substr(2, 20)).c_str()));
        return;
    }
  }

  void delivered(int64_t sent_ns) {
    if (sent_ns > 0) stats_.record(now_ns() - sent_ns);
  }
  void errored() { stats_.errors.fetch_add(1); }
  void answered(int64_t id) {
    if (id == 1) {
      if (ready_) std::exchange(ready_, nullptr)(true);
      return;
    }
    if (!done_) return;
    if (options_.workload == "echo") {
      stats_.record(now_ns() - echo_sent_);
      return send_echo();
    }
    --in_flight_;
    pump_sends();
  }

  void write(std::string frame) {
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write_next();
  }
  void write_next() {
    ws_.async_write(net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->queue_.erase(self->queue_.begin());
      if (!self->queue_.empty()) self->write_next();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  const Options& options_;
  Stats& stats_;
  const int index_;
  beast::flat_buffer buffer_;
  std::vector<std::string> queue_;
  std::function<void(bool)> ready_;
  std::function<void()> done_;
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
    else if (flag == "--concurrency")
      o.concurrency = std::stoi(value);
    else if (flag == "--hold-ms")
      o.hold_ms = std::stoi(value);
    else if (flag == "--threads")
      o.threads = std::stoi(value);
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
    std::cerr << "usage: loadgen --port P [--port2 P2] [--protocol json|pb|socketio]\n"
                 "               [--workload broadcast|echo|connect] [--conns N] [--senders S]\n"
                 "               [--messages M] [--size B] [--window W] [--concurrency C]\n"
                 "               [--hold-ms MS] [--server-pid PID] [--threads T]\n";
    return 2;
  }

  net::io_context ioc;
  auto work = net::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back([&] { ioc.run(); });
  Stats stats;
  const long rss_before = o.server_pid ? rss_kb(o.server_pid) : -1;

  // Connect phase: at most `concurrency` upgrades in flight.
  std::vector<std::shared_ptr<Connection>> conns;
  std::atomic<int> joined{0}, failed{0};
  const auto connect_start = Clock::now();
  const auto connect_deadline = connect_start + std::chrono::seconds(60);
  for (int i = 0; i < o.conns && Clock::now() < connect_deadline; ++i) {
    while (i - joined - failed >= o.concurrency && Clock::now() < connect_deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    conns.push_back(std::make_shared<Connection>(ioc, o, stats, i));
    conns.back()->start([&](bool ok) { (ok ? joined : failed).fetch_add(1); });
  }
  while (joined + failed < o.conns && Clock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
  if (o.hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.hold_ms));
  const long rss_loaded = o.server_pid ? rss_kb(o.server_pid) : -1;

  // Workload phase.
  int64_t expected = 0;
  const double cpu_start = o.server_pid ? cpu_seconds(o.server_pid) : 0;
  const auto start = Clock::now();
  if (o.workload == "broadcast") {
    expected = int64_t{o.messages} * o.senders * joined;
    for (int s = 0; s < o.senders; ++s) conns[s]->start_sending([] {});
  } else if (o.workload == "echo") {
    expected = int64_t{o.messages} * joined;
    for (auto& c : conns) c->start_echo([] {});
  }
  const auto deadline = start + std::chrono::seconds(120);
  while (stats.deliveries < expected && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = o.server_pid ? cpu_seconds(o.server_pid) - cpu_start : 0;

  std::vector<int64_t> lat;
  {
    std::lock_guard<std::mutex> lock(stats.mu);
    lat = stats.latencies_ns;
  }
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
      "{\"workload\":\"%s\",\"protocol\":\"%s\",\"conns\":%d,\"joined\":%d,\"senders\":%d,\"messages\":%d,"
      "\"size\":%d,\"deliveries\":%lld,\"expected\":%lld,\"seconds\":%.3f,\"per_s\":%.0f,\"p50_us\":%.1f,"
      "\"p99_us\":%.1f,\"max_us\":%.1f,\"errors\":%lld,\"connect_s\":%.3f,\"server_rss_before_kb\":%ld,"
      "\"server_rss_kb\":%ld,\"rss_per_conn_bytes\":%ld,\"server_cpu_s\":%.3f}\n",
      o.workload.c_str(), protocol, o.conns, joined.load(), o.senders, o.messages, o.size,
      static_cast<long long>(stats.deliveries.load()), static_cast<long long>(expected), seconds, per_s,
      pct(0.5), pct(0.99), lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1000.0,
      static_cast<long long>(stats.errors.load() + failed.load()), connect_s, rss_before, rss_loaded,
      per_conn_bytes, server_cpu);
  std::fflush(stdout);
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  return stats.deliveries == expected && joined == o.conns ? 0 : 1;
}
