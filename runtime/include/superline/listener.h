// Server-side listeners: a function that hears a contract message published or sent by a node
// (the cluster bus's shared topics, node-to-node events), and the handle that takes one back.
// Thread-safety: a Listener is called from adapter threads; ListenerHandle from any thread.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace superline {

// The payload, parsed against the contract, and the id of the node it came from.
using Listener = std::function<void(const google::protobuf::Message& payload, std::string_view from_node)>;

// One registration. unsubscribe() removes it; the listener is not called once it returns (a call
// already running on another thread may still finish). Idempotent, and harmless after the server
// is gone. Dropping the handle keeps the registration.
class ListenerHandle {
 public:
  ListenerHandle() = default;
  ListenerHandle(std::weak_ptr<void> owner, std::function<void(uint64_t)> remove, uint64_t id)
      : owner_(std::move(owner)), remove_(std::move(remove)), id_(id) {}

  void unsubscribe() {
    if (auto alive = owner_.lock(); alive && remove_) remove_(id_);
    remove_ = nullptr;
  }
  uint64_t id() const { return id_; }

 private:
  std::weak_ptr<void> owner_;
  std::function<void(uint64_t)> remove_;
  uint64_t id_ = 0;
};

}  // namespace superline
