// loadgen: a superline.v1 load generator for the chat contract. Opens N WebSocket connections to a
// chat_server, makes them all join one room, then drives one workload and prints one JSON object.
//
//   broadcast  one connection sends M messages of B bytes to the room (window W in flight); every
//              connection must receive every message; latency = receive time - send time embedded
//              in the text (same host, same clock)
//   echo       every connection does M request/reply round trips (peers), closed loop
//
// loadgen --port P [--conns N] [--messages M] [--size B] [--window W] [--workload broadcast|echo]
//         [--server-pid PID] [--threads T]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

struct Options {
  uint16_t port = 0;
  int conns = 100;
  int messages = 100;
  int size = 1024;
  int window = 16;
  int threads = 1;
  std::string workload = "broadcast";
  int server_pid = 0;
};

struct Stats {
  std::mutex mu;
  std::vector<int64_t> latencies_ns;
  std::atomic<int64_t> deliveries{0};
  std::atomic<int64_t> errors{0};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const Options& options, Stats& stats, int index)
      : ws_(net::make_strand(ioc)), options_(options), stats_(stats), index_(index) {}

  // Connects, upgrades, joins room "bench"; `ready` runs once joined (or failed).
  void start(std::function<void(bool)> ready) {
    ready_ = std::move(ready);
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), options_.port),
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->fail();
                           beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true));
                           self->ws_.async_handshake("127.0.0.1", "/?role=user&name=b" + std::to_string(self->index_),
                                                    [self](beast::error_code ec) {
                                                      if (ec) return self->fail();
                                                      self->read();
                                                      self->write(R"({"t":"req","i":1,"m":"join","d":{"room":"bench"}})");
                                                    });
                         });
  }

  // Broadcast sender: M sends, at most `window` unanswered.
  void start_sending(std::function<void()> done) {
    done_ = std::move(done);
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->pump_sends(); });
  }
  // Echo: M closed-loop round trips.
  void start_echo(std::function<void()> done) {
    done_ = std::move(done);
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->send_echo(); });
  }

 private:
  void fail() {
    stats_.errors.fetch_add(1);
    if (ready_) std::exchange(ready_, nullptr)(false);
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->on_frame(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void on_frame(const std::string& frame) {
    if (frame.find(R"("t":"ping")") != std::string::npos) return write(R"({"t":"pong"})");
    if (frame.find(R"("e":"message")") != std::string::npos) {
      const auto at = frame.find(R"("text":")");
      if (at != std::string::npos) {
        const int64_t sent = std::atoll(frame.c_str() + at + 8);
        const int64_t latency = now_ns() - sent;
        stats_.deliveries.fetch_add(1);
        std::lock_guard<std::mutex> lock(stats_.mu);
        stats_.latencies_ns.push_back(latency);
      }
      return;
    }
    if (frame.find(R"("t":"res","i":1,)") != std::string::npos && ready_) return std::exchange(ready_, nullptr)(true);
    if (frame.find(R"("t":"err")") != std::string::npos) stats_.errors.fetch_add(1);
    if (frame.find(R"("t":"res")") != std::string::npos && done_) {
      if (options_.workload == "echo") {
        const int64_t latency = now_ns() - echo_sent_;
        stats_.deliveries.fetch_add(1);
        {
          std::lock_guard<std::mutex> lock(stats_.mu);
          stats_.latencies_ns.push_back(latency);
        }
        return send_echo();
      }
      --in_flight_;
      pump_sends();
    }
  }

  void pump_sends() {
    while (sent_ < options_.messages && in_flight_ < options_.window) {
      std::string text = std::to_string(now_ns()) + ":";
      text.resize(std::max<size_t>(text.size(), static_cast<size_t>(options_.size)), 'x');
      write(R"({"t":"req","i":)" + std::to_string(100 + sent_) + R"(,"m":"send","d":{"room":"bench","text":")" +
            text + R"("}})");
      ++sent_;
      ++in_flight_;
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
    write(R"({"t":"req","i":)" + std::to_string(100 + sent_) + R"(,"m":"peers","d":{}})");
  }

  void write(std::string frame) {
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write_next();
  }
  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->queue_.erase(self->queue_.begin());
      if (!self->queue_.empty()) self->write_next();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  const Options& options_;
  Stats& stats_;
  int index_;
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

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--port") o.port = static_cast<uint16_t>(std::stoi(value));
    else if (flag == "--conns") o.conns = std::stoi(value);
    else if (flag == "--messages") o.messages = std::stoi(value);
    else if (flag == "--size") o.size = std::stoi(value);
    else if (flag == "--window") o.window = std::stoi(value);
    else if (flag == "--threads") o.threads = std::stoi(value);
    else if (flag == "--workload") o.workload = value;
    else if (flag == "--server-pid") o.server_pid = std::stoi(value);
    else {
      std::cerr << "loadgen: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (o.port == 0 || (o.workload != "broadcast" && o.workload != "echo")) {
    std::cerr << "usage: loadgen --port P [--conns N] [--messages M] [--size B] [--window W] "
                 "[--workload broadcast|echo] [--server-pid PID] [--threads T]\n";
    return 2;
  }

  net::io_context ioc;
  auto work = net::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back([&] { ioc.run(); });
  Stats stats;
  std::vector<std::shared_ptr<Connection>> conns;
  std::atomic<int> joined{0}, failed{0};
  const auto connect_start = Clock::now();
  for (int i = 0; i < o.conns; ++i) {
    conns.push_back(std::make_shared<Connection>(ioc, o, stats, i));
    conns.back()->start([&](bool ok) { (ok ? joined : failed).fetch_add(1); });
    if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a paced connect storm
  }
  while (joined + failed < o.conns && Clock::now() - connect_start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
  const long rss_loaded = o.server_pid ? rss_kb(o.server_pid) : -1;

  std::atomic<int> finished{0};
  const int senders = o.workload == "broadcast" ? 1 : o.conns;
  const int64_t expected = o.workload == "broadcast" ? int64_t(o.messages) * joined : int64_t(o.messages) * joined;
  const auto start = Clock::now();
  if (o.workload == "broadcast") {
    conns[0]->start_sending([&] { finished.fetch_add(1); });
  } else {
    for (auto& c : conns) c->start_echo([&] { finished.fetch_add(1); });
  }
  const auto deadline = start + std::chrono::seconds(120);
  while (stats.deliveries < expected && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  (void)senders;

  std::vector<int64_t> lat;
  {
    std::lock_guard<std::mutex> lock(stats.mu);
    lat = stats.latencies_ns;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(p * lat.size()))] / 1000.0; };
  std::printf(
      "{\"workload\":\"%s\",\"conns\":%d,\"joined\":%d,\"messages\":%d,\"size\":%d,\"deliveries\":%lld,"
      "\"expected\":%lld,\"seconds\":%.3f,\"deliveries_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"max_us\":%.1f,\"errors\":%lld,\"connect_s\":%.3f,\"server_rss_kb\":%ld}\n",
      o.workload.c_str(), o.conns, joined.load(), o.messages, o.size, (long long)stats.deliveries.load(),
      (long long)expected, seconds, stats.deliveries / seconds, pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back() / 1000.0,
      (long long)(stats.errors.load() + failed.load()), connect_s, rss_loaded);
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  return stats.deliveries == expected ? 0 : 1;
}
