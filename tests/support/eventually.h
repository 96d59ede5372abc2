// Waiting for a condition another thread makes true, with a deadline (never a bare sleep).
#pragma once

#include <chrono>
#include <thread>

namespace testing_support {

template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace testing_support
