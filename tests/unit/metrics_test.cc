// The metrics registry and the log's two formats, without a server.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "shapes.superline.h"
#include "superline/internal/metrics.h"
#include "superline/log.h"

namespace superline {
namespace {

const ContractInfo& contract() { return shapes::v1::Shapes::info(); }

const MethodInfo* method(std::string_view name) {
  for (const MethodInfo& m : contract().methods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Counter, SumsWhatEveryThreadAdded) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) counter.add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), 40'000u);
}

TEST(Histogram, BucketsAreCumulativeAndBoundsInclusive) {
  Histogram h;
  h.observe(0.0001);  // on a bound: counted in it (le is "less or equal")
  h.observe(0.003);
  h.observe(7);  // above every bound: only +Inf
  const auto counts = h.cumulative();
  EXPECT_EQ(counts[0], 1u);
  EXPECT_EQ(counts[4], 1u);  // le 0.0025
  EXPECT_EQ(counts[5], 2u);  // le 0.005
  EXPECT_EQ(counts[Histogram::kBounds.size() - 1], 2u);
  EXPECT_EQ(counts.back(), 3u);
  EXPECT_NEAR(h.sum(), 7.0031, 1e-6);
}

TEST(Metrics, RendersEveryFamilyWithContractLabels) {
  Metrics metrics(contract());
  metrics.connection_opened(1);
  metrics.connection_closed(1000);
  metrics.connection_closed(3999);  // a code without a series of its own
  metrics.received(Wire::kProtobuf, 10);
  metrics.request_answered(method("echo"), "OK", 0.002);
  metrics.request_answered(method("echo"), "NOT_FOUND", -1);  // refused: no latency
  metrics.request_answered(nullptr, "NOT_FOUND", -1);
  metrics.client_event(method("poke"));
  ServerStats stats;
  stats.connections_by_role = {{"shared", 0}, {"member", 1}, {"admin", 0}};
  stats.cpu_seconds = 1.5;
  const std::string text = "\n" + metrics.render(stats);

  EXPECT_TRUE(has_line(text, "# TYPE superline_connections gauge"));
  EXPECT_TRUE(has_line(text, R"(superline_connections{role="member"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_connections_opened_total{role="member"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_connections_closed_total{code="1000"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_connections_closed_total{code="other"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_frames_received_total{wire="protobuf"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_received_bytes_total{wire="protobuf"} 10)"));
  EXPECT_TRUE(has_line(text, R"(superline_requests_total{method="echo",code="OK"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_requests_total{method="echo",code="NOT_FOUND"} 1)"));
  EXPECT_TRUE(has_line(text, R"x(superline_requests_total{method="(unknown)",code="NOT_FOUND"} 1)x"));
  EXPECT_TRUE(has_line(text, R"(superline_requests_total{method="slow",code="OK"} 0)"));  // present from the start
  EXPECT_TRUE(has_line(text, R"(superline_request_duration_seconds_bucket{method="echo",le="0.001"} 0)"));
  EXPECT_TRUE(has_line(text, R"(superline_request_duration_seconds_bucket{method="echo",le="0.0025"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_request_duration_seconds_bucket{method="echo",le="+Inf"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_request_duration_seconds_count{method="echo"} 1)"));
  EXPECT_TRUE(has_line(text, R"(superline_client_events_total{method="poke"} 1)"));
  EXPECT_TRUE(has_line(text, "process_cpu_seconds_total 1.5"));
  // Client events and topics are not requests; requests are not client events.
  EXPECT_EQ(text.find(R"(superline_requests_total{method="poke")"), std::string::npos);
  EXPECT_EQ(text.find(R"(superline_client_events_total{method="echo"})"), std::string::npos);
}

TEST(Metrics, CustomCodesAreBounded) {
  Metrics metrics(contract());
  for (int i = 0; i < 100; ++i) metrics.request_answered(method("echo"), "CODE_" + std::to_string(i), 0.001);
  const std::string text = metrics.render(ServerStats{});
  size_t series = 0;
  for (size_t at = text.find("superline_requests_total{method=\"echo\",code=\"CODE_"); at != std::string::npos;
       at = text.find("superline_requests_total{method=\"echo\",code=\"CODE_", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, 32u);
  EXPECT_NE(text.find(R"(superline_requests_total{method="echo",code="OTHER"} 68)"), std::string::npos);
  ServerStats stats;
  metrics.fill(stats);
  EXPECT_EQ(stats.requests, 100u);
}

TEST(LogFormat, TextQuotesWhatWouldNotSplitAndSkipsEmptyFields) {
  LogRecord record{LogLevel::kWarning, "closed a slow consumer", {{"conn", "abc"}, {"why", "two words"}, {"user", ""}}};
  EXPECT_EQ(format_log_text(record), R"(superline warning: closed a slow consumer conn=abc why="two words")");
}

TEST(LogFormat, JsonEscapesAndRepairsText) {
  LogRecord record{LogLevel::kError, "bad \"frame\"\n", {{"conn", std::string("a\xff", 2)}}};
  const std::string line = format_log_json(record);
  EXPECT_EQ(line.rfind(R"({"time":")", 0), 0u) << line;
  EXPECT_NE(line.find(R"("level":"error","msg":"bad \"frame\"\n","conn":"a)"), std::string::npos) << line;
  EXPECT_EQ(line.find('\xff'), std::string::npos);  // invalid UTF-8 never reaches the log
  EXPECT_EQ(line.back(), '}');
}

}  // namespace
}  // namespace superline
