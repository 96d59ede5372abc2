#include <gtest/gtest.h>

#include "superline/client.h"

namespace {

using std::chrono::milliseconds;

TEST(ReconnectDelay, StaysInTheUpperHalfOfTheRawDelay) {
  superline::ClientOptions options;  // base 500 ms, factor 2, max 30 s
  for (int attempt = 0; attempt < 12; ++attempt) {
    const double raw = std::min(30000.0, 500.0 * (1 << attempt));
    for (double unit : {0.0, 0.3, 0.999, 1.0}) {
      const milliseconds d = superline::reconnect_delay(options, attempt, unit);
      EXPECT_GE(d.count(), static_cast<int64_t>(raw / 2)) << attempt;
      EXPECT_LE(d.count(), static_cast<int64_t>(raw)) << attempt;
    }
  }
  EXPECT_EQ(superline::reconnect_delay(options, 0, 0.0), milliseconds(250));
  EXPECT_EQ(superline::reconnect_delay(options, 0, 1.0), milliseconds(500));
}

TEST(ReconnectDelay, NeverExceedsTheMaximumEvenForHugeAttempts) {
  superline::ClientOptions options;
  for (int attempt : {60, 1000, 100000}) {
    const milliseconds d = superline::reconnect_delay(options, attempt, 0.5);
    EXPECT_GE(d, milliseconds(15000));
    EXPECT_LE(d, milliseconds(30000));
  }
}

}  // namespace
