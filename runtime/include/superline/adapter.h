// The Adapter seam: channel pub/sub between nodes. Rooms, topics and node events all become channels;
// an adapter moves opaque envelopes (serialized ChannelMessages) on named channels, at most once, and loops a node's own publish
// back to it when that node is subscribed. MemoryAdapter/MemoryBus do this in one process.
// Thread-safety: every Adapter method may be called from any thread; the message handler is called
// from the adapter's own context and must not block.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "superline/presence.h"

namespace superline {

using Envelope = std::shared_ptr<const std::string>;

class Adapter {
 public:
  using MessageHandler = std::function<void(std::string_view channel, const Envelope& envelope)>;
  using Done = std::function<void(absl::Status)>;

  virtual ~Adapter() = default;

  // Where inbound messages go. Set once, before the first subscribe; cleared with nullptr, which
  // returns only when no call to the old handler is still running (so its owner may go away).
  virtual void set_handler(MessageHandler handler) = 0;
  // Starts receiving `channel`; `done` runs once publishes on it reach this node, or once with an
  // error: UNAVAILABLE at once while the broker cannot be reached (the channel stays wanted and
  // goes live when the adapter reconnects; nobody waits for that).
  virtual void subscribe(const std::string& channel, Done done) = 0;
  virtual void unsubscribe(const std::string& channel) = 0;
  // Delivers `envelope` to every node subscribed to `channel`, this one included. Errors are
  // swallowed: delivery is at most once.
  virtual void publish(const std::string& channel, Envelope envelope) = 0;
  // The cluster's presence directory, or null if this adapter keeps none.
  virtual Presence* presence() { return nullptr; }

  // What readiness and /metrics say of the adapter. An in-process adapter is always connected.
  struct Stats {
    bool connected = true;             // false while its broker cannot be reached (publishes are lost)
    uint64_t dropped_publishes = 0;    // lost while not connected
    uint64_t reconnects = 0;           // times it came back after losing its broker
    uint64_t presence_sweeps = 0;      // presence queries that swept what dead nodes left
  };
  virtual Stats stats() const { return {}; }
};

// The handler slot of an Adapter implementation: calls run without holding a lock, and clearing
// the slot waits for the calls in flight. Thread-safety: all methods, from any thread (but clearing
// from inside a call would wait forever).
class HandlerSlot {
 public:
  void set(Adapter::MessageHandler handler);
  void call(std::string_view channel, const Envelope& envelope);

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  Adapter::MessageHandler handler_;
  int in_flight_ = 0;
};

// Connects the MemoryAdapters of one process as if they were nodes on one broker.
class MemoryBus {
 public:
  MemoryBus();
  MemoryBus(const MemoryBus&) = delete;
  MemoryBus& operator=(const MemoryBus&) = delete;

 private:
  friend class MemoryAdapter;
  struct Endpoint;

  void attach(const std::shared_ptr<Endpoint>& endpoint);
  void detach(const Endpoint* endpoint);
  void publish(const std::string& channel, const Envelope& envelope);

  std::unique_ptr<Presence> presence_;
  std::mutex mu_;
  // Channel -> endpoints subscribed to it. A vector: a channel has a few endpoints (nodes), and a
  // hash set per channel cost ~1 KB for every connection's personal channel.
  absl::flat_hash_map<std::string, std::vector<Endpoint*>> routes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const Endpoint*, std::weak_ptr<Endpoint>> endpoints_ ABSL_GUARDED_BY(mu_);
};

class MemoryAdapter final : public Adapter {
 public:
  // Adapters sharing a bus see each other's publishes; a fresh bus makes a single node.
  explicit MemoryAdapter(std::shared_ptr<MemoryBus> bus = std::make_shared<MemoryBus>());
  ~MemoryAdapter() override;

  void set_handler(MessageHandler handler) override;
  void subscribe(const std::string& channel, Done done) override;
  void unsubscribe(const std::string& channel) override;
  void publish(const std::string& channel, Envelope envelope) override;
  Presence* presence() override;

 private:
  std::shared_ptr<MemoryBus> bus_;
  std::shared_ptr<MemoryBus::Endpoint> endpoint_;
};

}  // namespace superline
