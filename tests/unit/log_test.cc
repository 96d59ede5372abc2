// The log's throttle: a burst per period from one source, then a count of what was held back.
#include "superline/internal/log.h"

#include <gtest/gtest.h>

namespace superline {
namespace {

TEST(LogThrottle, AdmitsABurstThenCountsWhatItHoldsBack) {
  LogThrottle throttle;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < LogThrottle::kBurst; ++i) EXPECT_EQ(throttle.admit(start), 0u) << i;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.admit(start + std::chrono::seconds(1)).has_value());
  // The next period's first line says how many were held back, then the count starts over.
  EXPECT_EQ(throttle.admit(start + LogThrottle::kPeriod), 1000u);
  EXPECT_EQ(throttle.admit(start + LogThrottle::kPeriod), 0u);
}

}  // namespace
}  // namespace superline
