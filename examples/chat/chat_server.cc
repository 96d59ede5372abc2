// chat_server --port P [--redis redis://H:P] [--node NAME] [--heartbeat-ms N] [--presence-ttl-ms N]
//             [--threads N] [--stats-ms N] [--max-inbound-buffered-mb N] [--max-outbound-kb N] [--static DIR]
//             [--admin-port P] [--log-format text|json] [--drain-ms N]
// Serves the chat contract on ws://127.0.0.1:P/?role=user|agent&name=NAME. Without --redis it runs on
// the in-memory adapter; with it, nodes sharing one Redis form a cluster. --admin-port serves
// /metrics, /health and /ready on 127.0.0.1:P (0: a free port). Prints "listening on
// 127.0.0.1:<port>" (and "admin on 127.0.0.1:<port>") once ready; on SIGINT/SIGTERM drains for
// --drain-ms (default 2000) and stops.
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "absl/strings/numbers.h"
#include "chat_app.h"
#include "superline/redis_adapter.h"
#include "superline/websocket.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "chat_server: " << problem << "\n"
            << "usage: chat_server --port P [--redis redis://H:P] [--node NAME] [--heartbeat-ms N] "
               "[--presence-ttl-ms N] [--threads N] [--stats-ms N] [--max-inbound-buffered-mb N] "
               "[--max-outbound-kb N] [--static DIR] [--admin-port P] [--log-format text|json] [--drain-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  superline::ServerOptions options;
  superline::ListenOptions listen;
  bool have_port = false;
  std::string redis_url;
  std::chrono::milliseconds stats_period(2000);
  std::chrono::milliseconds drain(2000);
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return usage("missing value for " + std::string(flag));
    const std::string value = argv[++i];
    int number = 0;
    if (flag == "--port") {
      if (!absl::SimpleAtoi(value, &number) || number < 0 || number > 65535)
        return usage("bad --port " + value);
      listen.port = static_cast<uint16_t>(number);
      have_port = true;
    } else if (flag == "--node") {
      options.node_name = value;
    } else if (flag == "--redis") {
      redis_url = value;
    } else if (flag == "--heartbeat-ms") {
      if (!absl::SimpleAtoi(value, &number) || number < 0) return usage("bad --heartbeat-ms " + value);
      options.heartbeat_interval = std::chrono::milliseconds(number);
    } else if (flag == "--presence-ttl-ms") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) return usage("bad --presence-ttl-ms " + value);
      options.presence_ttl = std::chrono::milliseconds(number);
    } else if (flag == "--threads") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) return usage("bad --threads " + value);
      listen.threads = number;
    } else if (flag == "--stats-ms") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) return usage("bad --stats-ms " + value);
      stats_period = std::chrono::milliseconds(number);
    } else if (flag == "--max-inbound-buffered-mb") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) return usage("bad --max-inbound-buffered-mb " + value);
      options.max_inbound_buffered_bytes = static_cast<size_t>(number) << 20;
    } else if (flag == "--max-outbound-kb") {
      if (!absl::SimpleAtoi(value, &number) || number < 1) return usage("bad --max-outbound-kb " + value);
      options.max_outbound_message_bytes = static_cast<size_t>(number) << 10;
    } else if (flag == "--static") {
      listen.static_dir = value;
    } else if (flag == "--admin-port") {
      if (!absl::SimpleAtoi(value, &number) || number < 0 || number > 65535) return usage("bad --admin-port " + value);
      options.admin.enabled = true;
      options.admin.port = static_cast<uint16_t>(number);
    } else if (flag == "--log-format") {
      if (value == "json") {
        options.log = superline::json_log_sink();
      } else if (value == "text") {
        options.log = superline::text_log_sink();
      } else {
        return usage("bad --log-format " + value + " (text or json)");
      }
    } else if (flag == "--drain-ms") {
      if (!absl::SimpleAtoi(value, &number) || number < 0) return usage("bad --drain-ms " + value);
      drain = std::chrono::milliseconds(number);
    } else {
      return usage("unknown flag " + std::string(flag));
    }
  }
  if (!have_port) return usage("--port is required (0 picks a free port)");

  std::shared_ptr<superline::Adapter> adapter;  // none: a single node on the in-memory adapter
  if (!redis_url.empty()) {
    absl::StatusOr<superline::RedisUrl> url = superline::RedisUrl::parse(redis_url);
    if (!url.ok()) return usage(std::string(url.status().message()));
    superline::RedisOptions redis;
    redis.url = *url;
    redis.log = options.log;  // one log for the whole node
    auto connected = superline::RedisAdapter::connect(redis);
    if (!connected.ok()) {
      std::cerr << "chat_server: " << connected.status().message() << "\n";
      return 1;
    }
    adapter = *std::move(connected);
  }

  chat::ChatApp app(stats_period);
  chat::ChatServer server(app, options, adapter);
  chat::configure(server, app);
  superline::WebSocketServer transport(server, listen);
  if (absl::Status started = transport.start(); !started.ok()) {
    std::cerr << "chat_server: " << started.message() << "\n";
    return 1;
  }
  transport.handle_signals();
  std::cout << "listening on " << listen.address << ":" << transport.port() << " node "
            << server.core().node_name() << std::endl;
  if (transport.admin_port() != 0) {
    std::cout << "admin on " << options.admin.address << ":" << transport.admin_port() << std::endl;
  }
  if (!listen.static_dir.empty()) {
    std::cout << "serving " << listen.static_dir << " at http://" << listen.address << ":" << transport.port()
              << "/" << std::endl;
  }

  // Node stats every period, besides the ones sent on every connection change.
  std::mutex mu;
  std::condition_variable stopping;
  bool stopped = false;
  std::thread stats([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping.wait_for(lock, stats_period, [&] { return stopped; })) app.emit_stats();
  });
  transport.wait(drain);
  {
    std::lock_guard<std::mutex> lock(mu);
    stopped = true;
  }
  stopping.notify_one();
  stats.join();
  std::cout << "stopped" << std::endl;
  return 0;
}
