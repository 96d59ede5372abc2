// The reconnect delay the client and the Redis adapter share (super-line's).
#include "superline/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using std::chrono::milliseconds;

TEST(Backoff, StaysInTheUpperHalfOfTheRawDelay) {
  const superline::Backoff backoff;  // base 500 ms, factor 2, max 30 s: super-line's client
  for (int attempt = 0; attempt < 12; ++attempt) {
    const double raw = std::min(30000.0, 500.0 * (1 << attempt));
    for (double unit : {0.0, 0.3, 0.999, 1.0}) {
      const milliseconds d = backoff.delay(attempt, unit);
      EXPECT_GE(d.count(), static_cast<int64_t>(raw / 2)) << attempt;
      EXPECT_LE(d.count(), static_cast<int64_t>(raw)) << attempt;
    }
  }
  EXPECT_EQ(backoff.delay(0, 0.0), milliseconds(250));
  EXPECT_EQ(backoff.delay(0, 1.0), milliseconds(500));
}

TEST(Backoff, NeverExceedsTheMaximumEvenForHugeAttempts) {
  const superline::Backoff backoff;
  for (int attempt : {60, 1000, 100000}) {
    const milliseconds d = backoff.delay(attempt, 0.5);
    EXPECT_GE(d, milliseconds(15000));
    EXPECT_LE(d, milliseconds(30000));
  }
}

TEST(Backoff, TheRedisAdaptersIsBackWithinASecond) {
  const superline::Backoff backoff{milliseconds(50), milliseconds(800)};
  for (int attempt = 0; attempt < 50; ++attempt) EXPECT_LE(backoff.delay(attempt, 1.0), milliseconds(800));
  EXPECT_EQ(backoff.delay(0, 0.0), milliseconds(25));
}

}  // namespace
