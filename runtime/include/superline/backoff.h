// Reconnect delays, as super-line's client computes them: raw = min(max, base * factor^attempt),
// the delay drawn uniformly from [raw/2, raw], so clients (or nodes) that lost the same server do
// not all come back at the same instant. The client and the Redis adapter both use it.
// Thread-safety: a value type.
#pragma once

#include <chrono>

namespace superline {

struct Backoff {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;

  // The delay before attempt `attempt` (from 0); `unit` is a uniform draw in [0, 1].
  std::chrono::milliseconds delay(int attempt, double unit) const;
};

}  // namespace superline
