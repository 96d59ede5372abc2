// This node's interest in adapter channels: the local members of each channel, the server-side
// listeners that hear it (the cluster bus), and whether the adapter's subscription is live. The
// adapter is asked to subscribe when a channel gains its first interest and to unsubscribe when it
// loses its last, in the order this registry decided them.
// Thread-safety: every method from any thread. Callbacks (`live`) run without a lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "superline/adapter.h"
#include "superline/conn.h"
#include "superline/listener.h"

namespace superline {

class ChannelRegistry {
 public:
  // Runs once the adapter confirms the subscription (OK, or its error; at once if already live).
  using Live = std::function<void(absl::Status)>;

  explicit ChannelRegistry(Adapter& adapter) : adapter_(adapter) {}
  ChannelRegistry(const ChannelRegistry&) = delete;
  ChannelRegistry& operator=(const ChannelRegistry&) = delete;

  // A connection joins or leaves a channel (a room, a topic, its personal channels): its own list
  // and this registry change together. Joining twice, or after the connection closed, changes
  // nothing (`live` still runs).
  void join(const std::shared_ptr<Conn>& conn, const std::string& channel, Live live);
  void leave(Conn& conn, const std::string& channel);
  // The connection is gone: it leaves every channel, and joins none from now on.
  void leave_all(Conn& conn);


  void add_listener(const std::string& channel, uint64_t id, Listener listener, Live live);
  // Removes the listener with this id from whichever channel has it.
  void remove_listener(uint64_t id);

  std::size_t member_count(std::string_view channel) const;
  std::vector<std::string> member_ids(std::string_view channel) const;
  std::vector<Listener> listeners(std::string_view channel) const;

  // Who a message on `channel` reaches on this node: its members but `except_conn`, and its
  // listeners when `with_listeners`. False when the node has no interest in the channel.
  struct Recipients {
    std::vector<std::shared_ptr<Conn>> members;
    std::vector<Listener> listeners;
  };
  bool recipients(std::string_view channel, std::string_view except_conn, bool with_listeners,
                  Recipients& out) const;

  // Channels this node has interest in, by kind.
  struct Counts {
    std::size_t rooms = 0, topics = 0, personal = 0, total = 0;
  };
  Counts counts() const;

 private:
  struct Channel {
    absl::flat_hash_map<std::string, std::shared_ptr<Conn>> members;  // by connection id
    absl::flat_hash_map<uint64_t, Listener> listeners;
    bool live = false;         // the adapter confirmed the subscription
    bool subscribing = false;  // an adapter subscribe is waiting for its answer
    std::vector<Live> waiting;  // callers waiting for `live`
  };

  void remove_member(const std::string& channel, std::string_view conn_id);
  // `add` puts the interest in the channel; then subscribes if nobody has asked yet.
  void add_interest(const std::string& channel, const std::function<void(Channel&)>& add, Live live);
  void subscribed(const std::string& channel, const absl::Status& status);
  // Erases the channel and unsubscribes if nothing is left in it. Needs order_mu_.
  void drop_if_unused(const std::string& channel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(order_mu_);
  void count(std::string_view channel, int delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Adapter& adapter_;
  // Held across a decision and the adapter call it leads to, so the adapter sees one channel's
  // subscribes and unsubscribes in the order they were decided. Taken before mu_, never inside it;
  // the adapter's answer (`subscribed`) takes mu_ only, so an adapter may answer inline.
  std::mutex order_mu_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  Counts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace superline
