// A one-shot hand-off of a value from one thread to a waiting one. It is built on a mutex and a
// condition variable rather than std::promise/future, whose waits happen inside libstdc++ where
// ThreadSanitizer cannot see them.
// Thread-safety: set() from any thread, once; wait()/wait_for() from one other thread, once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace superline {

template <class T>
class Rendezvous {
 public:
  void set(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (value_) return;  // the first value wins
    value_ = std::move(value);
    ready_.notify_all();
  }
  // The value, or nullopt if none arrived within `timeout`. The value is moved out, not copied
  // (one waiter): nothing stays shared with the setting thread.
  std::optional<T> wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!ready_.wait_for(lock, timeout, [this] { return value_.has_value(); })) return std::nullopt;
    return std::move(value_);
  }
  T wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [this] { return value_.has_value(); });
    return std::move(*value_);
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::optional<T> value_;
};

}  // namespace superline
