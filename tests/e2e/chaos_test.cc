// Faults under steady load. A publisher sends 5,000 messages a second (2,000 in sanitizer builds)
// into a room through node B while a member on node A records what arrives; then Redis is killed
// and restarted, or frozen with SIGSTOP for 10 s. Neither node may crash, nothing sent before the
// fault may be lost, and everything sent from 1 s after Redis returns must arrive: loss stays
// inside the outage.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "../support/eventually.h"
#include "../support/redis_process.h"
#include "ws_test_client.h"

namespace e2e {
namespace {

using Clock = std::chrono::steady_clock;
using testing_support::eventually;
using testing_support::RedisProcess;

// Messages per second: a steady load, well below what the nodes can carry, so what is in flight
// when the fault strikes is a few milliseconds' worth. Sanitizer builds run several times slower;
// at 5,000 a second they fall behind and loss "before the fault" would measure the backlog.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kRate = 2000;
#else
constexpr int kRate = 5000;
#endif

std::string send_request(int64_t id, const std::string& text) {
  return RawWsClient::frame(RawWsClient::kText, R"({"t":"req","i":)" + std::to_string(id) +
                                                    R"(,"m":"send","d":{"room":"lobby","text":")" + text +
                                                    R"("}})");
}

class SteadyTraffic {
 public:
  SteadyTraffic(uint16_t port_a, uint16_t port_b)
      : receiver_(port_a, "/?role=user&name=rx"), sender_(port_b, "/?role=user&name=tx") {
    for (RawWsClient* c : {&receiver_, &sender_}) {
      c->send(RawWsClient::frame(RawWsClient::kText, R"({"t":"req","i":1,"m":"join","d":{"room":"lobby"}})"));
      EXPECT_TRUE(c->answered(R"("i":1,)"));
    }
    // The cross-node path is live once a probe from B reaches A.
    EXPECT_TRUE(eventually([&] {
      sender_.send(send_request(2, "probe"));
      return receiver_.answered(R"("text":"probe")");
    }));
    threads_.emplace_back([this] { receive(); });
    threads_.emplace_back([this] { drain_sender(); });
    threads_.emplace_back([this] { send(); });
  }
  ~SteadyTraffic() { stop(); }

  void stop() {
    stopping_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // Messages sent in [from, to) that never arrived, and how many were sent in that span.
  std::pair<int, int> lost_between(Clock::time_point from, Clock::time_point to) {
    std::lock_guard<std::mutex> lock(mu_);
    int lost = 0, sent = 0;
    for (size_t seq = 0; seq < sent_at_.size(); ++seq) {
      if (sent_at_[seq] < from || sent_at_[seq] >= to) continue;
      ++sent;
      if (seq >= arrived_.size() || !arrived_[seq]) ++lost;
    }
    return {lost, sent};
  }

 private:
  void send() {
    const auto start = Clock::now();
    for (int64_t seq = 0; !stopping_; ++seq) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(seq * 1'000'000 / kRate));
      {
        std::lock_guard<std::mutex> lock(mu_);
        sent_at_.push_back(Clock::now());
      }
      sender_.send(send_request(100 + seq, "m" + std::to_string(seq) + "."));
    }
  }
  // The sender's replies and its own copies of the broadcast: read and dropped, so its queue on
  // node B never fills.
  void drain_sender() {
    while (!stopping_) sender_.read(std::chrono::milliseconds(50));
  }
  void receive() {
    while (!stopping_) {
      auto frame = receiver_.read(std::chrono::milliseconds(50));
      if (!frame) continue;
      const size_t at = frame->payload.find(R"("text":"m)");
      if (at == std::string::npos) continue;
      const size_t seq = std::stoul(frame->payload.substr(at + 9));
      std::lock_guard<std::mutex> lock(mu_);
      if (arrived_.size() <= seq) arrived_.resize(seq + 1);
      arrived_[seq] = true;
    }
  }

  RawWsClient receiver_;
  RawWsClient sender_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<Clock::time_point> sent_at_;  // by sequence number
  std::vector<bool> arrived_;
  std::vector<std::thread> threads_;
};

bool alive(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == 0 && kill(pid, 0) == 0; }

class Chaos : public ::testing::Test {
 protected:
  // Runs steady traffic, applies `fault` 1.5 s in, `repair` `outage` later, keeps going 3 s more,
  // then checks the three promises.
  void run(const std::function<void()>& fault, const std::function<void()>& repair,
           std::chrono::milliseconds outage) {
    SteadyTraffic traffic(a.port(), b.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const auto faulted = Clock::now();
    fault();
    std::this_thread::sleep_for(outage);
    repair();
    const auto back = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const auto end = Clock::now() - std::chrono::milliseconds(300);  // the last messages in flight
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    traffic.stop();

    EXPECT_TRUE(alive(a.pid()));
    EXPECT_TRUE(alive(b.pid()));
    // Nothing sent before the fault (less what was in flight when it struck) is lost.
    auto [lost_before, sent_before] =
        traffic.lost_between(Clock::time_point(), faulted - std::chrono::milliseconds(100));
    EXPECT_GT(sent_before, kRate);
    EXPECT_EQ(lost_before, 0) << "of " << sent_before;
    // Everything sent from 1 s after Redis returned arrives.
    auto [lost_after, sent_after] = traffic.lost_between(back + std::chrono::seconds(1), end);
    EXPECT_GT(sent_after, kRate);
    EXPECT_EQ(lost_after, 0) << "of " << sent_after;
  }

  RedisProcess redis;
  ChatServerProcess a{{"--redis", redis.url(), "--node", "a"}};
  ChatServerProcess b{{"--redis", redis.url(), "--node", "b"}};
};

TEST_F(Chaos, RedisKilledAndRestartedUnderSteadyLoad) {
  run([&] { redis.kill(); }, [&] { redis.restart(); }, std::chrono::seconds(2));
}

TEST_F(Chaos, RedisFrozenForTenSecondsUnderSteadyLoad) {
  run([&] { redis.freeze(); }, [&] { redis.thaw(); }, std::chrono::seconds(10));
}

}  // namespace
}  // namespace e2e
