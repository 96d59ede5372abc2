// What an operator sees of a running chat_server: the admin listener's /metrics (checked by
// Prometheus's own tools, and scraped by a real Prometheus server), /health and /ready through
// a Redis outage and a graceful drain, and the log's formats.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "../support/eventually.h"
#include "../support/redis_process.h"
#include "shapes.superline.h"
#include "superline/websocket.h"
#include "../support/shapes_app.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

namespace fs = std::filesystem;
using testing_support::eventually;

// A scrape, as "name{labels}" -> value, exactly as the exposition spells each sample.
std::map<std::string, double> parse_exposition(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::map<std::string, double> scrape(uint16_t admin_port) {
  const HttpResponse r = http_request(admin_port, "/metrics");
  EXPECT_EQ(r.status, "HTTP/1.1 200 OK");
  EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.head;
  return parse_exposition(r.body);
}

double delta(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
             const std::string& series) {
  auto get = [&](const std::map<std::string, double>& m) {
    auto it = m.find(series);
    return it == m.end() ? 0.0 : it->second;
  };
  EXPECT_TRUE(after.count(series)) << "no series " << series;
  return get(after) - get(before);
}

// Runs a command with `input` on stdin; its exit status and everything it printed.
std::pair<int, std::string> run_with_input(const std::string& command, const std::string& input) {
  const fs::path in = fs::temp_directory_path() / ("superline-in-" + std::to_string(getpid()));
  std::ofstream(in) << input;
  std::string output;
  FILE* pipe = popen((command + " < " + in.string() + " 2>&1").c_str(), "r");
  char buffer[512];
  while (pipe && fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pipe ? pclose(pipe) : -1;
  fs::remove(in);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A free loopback port, for a process that cannot be told to pick one.
uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

bool on_path(const std::string& tool) { return std::system(("command -v " + tool + " > /dev/null").c_str()) == 0; }

TEST(AdminListener, MetricsCountKnownTrafficAndPassPromtool) {
  ChatServerProcess server({"--admin-port", "0"});
  ASSERT_NE(server.admin_port(), 0);
  const auto before = scrape(server.admin_port());

  auto ann = WsTestClient::open(server.port(), "/?role=user&name=ann");
  auto bo = WsTestClient::open(server.port(), "/?role=user&name=bo");
  RawWsClient agent(server.port(), "/?role=agent&name=bot");
  EXPECT_TRUE(has(ann->request("join", R"({"room":"lobby"})"), R"("t":"res")"));
  EXPECT_TRUE(has(bo->request("join", R"({"room":"lobby"})"), R"("t":"res")"));
  EXPECT_TRUE(has(ann->request("send", R"({"room":"lobby","text":"hi"})"), R"("t":"res")"));
  EXPECT_TRUE(has(bo->read_until(R"("e":"message")"), "hi"));
  EXPECT_TRUE(has(ann->request("nope", "{}"), "NOT_FOUND"));                 // not in the contract
  agent.send(RawWsClient::frame(RawWsClient::kText, R"({"t":"req","i":1,"m":"send","d":{}})"));
  EXPECT_TRUE(agent.answered("NOT_FOUND"));  // not in its surface
  ann->send(R"({"t":"cev","m":"typing","d":{"room":"lobby"}})");
  EXPECT_TRUE(has(bo->read_until(R"("e":"userTyping")"), "ann"));
  agent.send(RawWsClient::frame(RawWsClient::kClose, std::string("\x03\xe8", 2)));  // 1000
  EXPECT_EQ(agent.close_code(), 1000);
  ASSERT_TRUE(eventually([&] { return scrape(server.admin_port())["superline_connections{role=\"agent\"}"] == 0; }));
  const auto after = scrape(server.admin_port());

  EXPECT_EQ(after.at("superline_connections{role=\"user\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_connections_opened_total{role=\"user\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_connections_opened_total{role=\"agent\"}"), 1);
  EXPECT_EQ(delta(before, after, "superline_connections_closed_total{code=\"1000\"}"), 1);
  EXPECT_EQ(delta(before, after, "superline_requests_total{method=\"join\",code=\"OK\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_requests_total{method=\"send\",code=\"OK\"}"), 1);
  EXPECT_EQ(delta(before, after, "superline_requests_total{method=\"(unknown)\",code=\"NOT_FOUND\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_request_duration_seconds_count{method=\"join\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_request_duration_seconds_bucket{method=\"join\",le=\"+Inf\"}"), 2);
  EXPECT_EQ(delta(before, after, "superline_client_events_total{method=\"typing\"}"), 1);
  // The message to the room (both members) and the typing signal (bo only), plus join's presence.
  EXPECT_GE(delta(before, after, "superline_deliveries_total"), 3);
  EXPECT_GE(delta(before, after, "superline_fanouts_total"), 2);
  // 5 requests, a client event, and the agent's close frame is a control frame: not counted.
  EXPECT_EQ(delta(before, after, "superline_frames_received_total{wire=\"json\"}"), 6);
  EXPECT_EQ(delta(before, after, "superline_frames_received_total{wire=\"protobuf\"}"), 0);
  EXPECT_GT(delta(before, after, "superline_sent_bytes_total{wire=\"json\"}"), 0);
  EXPECT_EQ(after.at("superline_rooms"), 1);
  EXPECT_EQ(after.at("superline_adapter_up"), 1);
  EXPECT_EQ(after.at("superline_ready"), 1);
  EXPECT_GT(after.at("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(after.at("process_open_fds"), 3);

  // Prometheus's own checker: the exposition parses, and no lint rule is broken.
  ASSERT_TRUE(on_path("promtool")) << "promtool is missing: scripts/setup.sh installs Debian's prometheus package";
  const auto [status, output] = run_with_input("promtool check metrics", http_request(server.admin_port(), "/metrics").body);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << output;
}

TEST(AdminListener, HealthAndReadyAnswerJson) {
  ChatServerProcess server({"--admin-port", "0", "--node", "n1"});
  const HttpResponse health = http_request(server.admin_port(), "/health");
  EXPECT_EQ(health.status, "HTTP/1.1 200 OK");
  EXPECT_NE(health.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(health.body.find(R"({"status":"ok","state":"serving","node":"n1","uptime_seconds":)"), std::string::npos)
      << health.body;
  const HttpResponse ready = http_request(server.admin_port(), "/ready");
  EXPECT_EQ(ready.status, "HTTP/1.1 200 OK");
  EXPECT_NE(ready.body.find(R"({"ready":true,"state":"serving")"), std::string::npos) << ready.body;
  EXPECT_EQ(http_request(server.admin_port(), "/").status, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(http_request(server.admin_port(), "/metrics", "POST").status, "HTTP/1.1 405 Method Not Allowed");
  const HttpResponse head = http_request(server.admin_port(), "/ready", "HEAD");
  EXPECT_EQ(head.status, "HTTP/1.1 200 OK");
  EXPECT_EQ(head.body, "");
}

TEST(AdminListener, IsNeverOnThePublicPortUnlessAsked) {
  ChatServerProcess plain;
  EXPECT_EQ(http_request(plain.port(), "/metrics").status, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(http_request(plain.port(), "/ready").status, "HTTP/1.1 400 Bad Request");

  testing_support::ShapesApp app;
  superline::ServerOptions options;
  options.admin.on_public_port = true;
  shapes::v1::ShapesServer server(app, options);
  superline::WebSocketServer transport(server, {});
  ASSERT_TRUE(transport.start().ok());
  EXPECT_EQ(transport.admin_port(), 0);  // asked for the public port only
  EXPECT_EQ(http_request(transport.port(), "/ready").status, "HTTP/1.1 200 OK");
  EXPECT_NE(http_request(transport.port(), "/metrics").body.find("superline_connections{role=\"member\"} 0"),
            std::string::npos);
  EXPECT_EQ(http_request(transport.port(), "/other").status, "HTTP/1.1 400 Bad Request");  // still no files
  EXPECT_TRUE(server.core().stats().ready);
}

TEST(AdminListener, ReadyFollowsTheAdapterThroughARedisOutage) {
  testing_support::RedisProcess redis;
  ChatServerProcess server({"--redis", redis.url(), "--admin-port", "0"});
  EXPECT_EQ(http_request(server.admin_port(), "/ready").status, "HTTP/1.1 200 OK");
  redis.kill();
  ASSERT_TRUE(eventually([&] { return http_request(server.admin_port(), "/ready").status == "HTTP/1.1 503 Service Unavailable"; },
                         10s));
  const HttpResponse down = http_request(server.admin_port(), "/ready");
  EXPECT_NE(down.body.find(R"("reason":"adapter degraded")"), std::string::npos) << down.body;
  EXPECT_NE(down.body.find(R"("adapter":"degraded")"), std::string::npos) << down.body;
  EXPECT_EQ(http_request(server.admin_port(), "/health").status, "HTTP/1.1 200 OK");  // alive all the same
  EXPECT_EQ(scrape(server.admin_port()).at("superline_adapter_up"), 0);

  redis.restart();
  ASSERT_TRUE(eventually([&] { return http_request(server.admin_port(), "/ready").status == "HTTP/1.1 200 OK"; }, 10s));
  const auto after = scrape(server.admin_port());
  EXPECT_EQ(after.at("superline_adapter_up"), 1);
  EXPECT_EQ(after.at("superline_adapter_reconnects_total"), 1);
}

TEST(AdminListener, ReadyIsNotReadyWhileDraining) {
  ChatServerProcess server({"--admin-port", "0", "--drain-ms", "4000"});
  // A client that never answers the close frame keeps the drain going until its deadline.
  RawWsClient stubborn(server.port());
  ASSERT_TRUE(stubborn.upgraded());
  EXPECT_EQ(http_request(server.admin_port(), "/ready").status, "HTTP/1.1 200 OK");
  ::kill(server.pid(), SIGTERM);
  ASSERT_TRUE(eventually([&] { return http_request(server.admin_port(), "/ready").status == "HTTP/1.1 503 Service Unavailable"; },
                         3s));
  const HttpResponse ready = http_request(server.admin_port(), "/ready");
  EXPECT_NE(ready.body.find(R"("state":"draining")"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find(R"("reason":"draining")"), std::string::npos) << ready.body;
  const HttpResponse health = http_request(server.admin_port(), "/health");
  EXPECT_EQ(health.status, "HTTP/1.1 200 OK");
  EXPECT_EQ(scrape(server.admin_port()).at("superline_ready"), 0);
  EXPECT_EQ(server.stop(8s), 0);
}

TEST(AdminListener, ARealPrometheusScrapesTheConnectionGauge) {
  ASSERT_TRUE(on_path("prometheus")) << "prometheus is missing: scripts/setup.sh installs Debian's prometheus package";
  ChatServerProcess server({"--admin-port", "0"});
  auto ann = WsTestClient::open(server.port(), "/?role=user&name=ann");
  auto bo = WsTestClient::open(server.port(), "/?role=user&name=bo");

  const fs::path dir = fs::temp_directory_path() / ("superline-prometheus-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                        << "scrape_configs:\n  - job_name: chat\n    static_configs:\n"
                                        << "      - targets: ['127.0.0.1:" << server.admin_port() << "']\n";
  const uint16_t web = free_port();
  const pid_t prometheus = fork();
  if (prometheus == 0) {
    const std::string config = "--config.file=" + (dir / "prometheus.yml").string();
    const std::string storage = "--storage.tsdb.path=" + (dir / "data").string();
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(web);
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), nullptr);
    _exit(127);
  }
  // superline_connections{role="user"}, URL-encoded.
  const std::string query = "/api/v1/query?query=superline_connections%7Brole%3D%22user%22%7D";
  std::string answer;
  const bool scraped = eventually(
      [&] {
        answer = http_request(web, query).body;
        return answer.find(R"("status":"success")") != std::string::npos &&
               answer.find(R"("role":"user")") != std::string::npos && answer.find(R"(,"2"])") != std::string::npos;
      },
      45s);
  ::kill(prometheus, SIGTERM);
  int status = 0;
  waitpid(prometheus, &status, 0);
  fs::remove_all(dir);
  EXPECT_TRUE(scraped) << answer;
}

TEST(Logging, JsonFormatWritesOneObjectPerLine) {
  ChatServerProcess server({"--log-format", "json"}, 0, {.capture_stderr = true});
  ASSERT_TRUE(eventually([&] { return server.stderr_text().find(R"("msg":"listening")") != std::string::npos; }));
  server.stop();
  std::istringstream lines(server.stderr_text());
  std::string line;
  int records = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("==", 0) == 0) continue;  // a sanitizer's own report is not ours
    EXPECT_EQ(line.rfind(R"({"time":")", 0), 0u) << line;
    EXPECT_NE(line.find(R"(","level":")"), std::string::npos) << line;
    EXPECT_EQ(line.back(), '}') << line;
    ++records;
  }
  EXPECT_GE(records, 3);  // listening, draining, stopped
  EXPECT_NE(server.stderr_text().find(R"("level":"info","msg":"draining")"), std::string::npos);
}

}  // namespace
}  // namespace e2e
