#include "superline/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace superline {

std::chrono::milliseconds Backoff::delay(int attempt, double unit) const {
  const double ceiling = static_cast<double>(max.count());
  // pow overflows to inf for a huge attempt; min() then yields the maximum, as it should.
  const double raw = std::min(ceiling, static_cast<double>(base.count()) * std::pow(factor, attempt));
  return std::chrono::milliseconds(static_cast<int64_t>(raw / 2 + unit * raw / 2));
}

}  // namespace superline
