// In-process adapter: MemoryAdapters on one MemoryBus behave as nodes on one broker. Delivery is
// synchronous on the publishing thread, to every subscribed endpoint including the publisher's own.
#include <algorithm>
#include <map>
#include <vector>

#include "superline/adapter.h"

namespace superline {

void HandlerSlot::set(Adapter::MessageHandler handler) {
  std::unique_lock<std::mutex> lock(mu_);
  handler_ = std::move(handler);
  if (!handler_) idle_.wait(lock, [this] { return in_flight_ == 0; });
}

void HandlerSlot::call(std::string_view channel, const Envelope& envelope) {
  Adapter::MessageHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!handler_) return;
    handler = handler_;
    ++in_flight_;
  }
  handler(channel, envelope);
  std::lock_guard<std::mutex> lock(mu_);
  if (--in_flight_ == 0) idle_.notify_all();
}

namespace {

// Presence for the nodes of one MemoryBus: they live as long as the process, so no TTL applies.
class MemoryPresence final : public Presence {
 public:
  void add(std::string_view node, std::string_view conn, std::string_view user) override {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_[std::string(node)].conns[std::string(conn)] = std::string(user);
  }
  void remove(std::string_view node, std::string_view conn, std::string_view) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = nodes_.find(std::string(node)); it != nodes_.end())
      it->second.conns.erase(std::string(conn));
  }
  void beat(std::string_view node, std::string_view name, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_[std::string(node)].name = std::string(name);
  }
  void clear_node(std::string_view node) override {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.erase(std::string(node));
  }
  void topology(std::function<void(absl::StatusOr<std::vector<NodePresence>>)> done) override {
    std::vector<NodePresence> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, node] : nodes_) out.push_back({id, node.name, node.conns.size()});
    }
    done(std::move(out));
  }
  void is_online(std::string_view user, std::function<void(absl::StatusOr<bool>)> done) override {
    bool online = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, node] : nodes_) {
        for (const auto& [conn, owner] : node.conns) online = online || owner == user;
      }
    }
    done(online);
  }

 private:
  struct Node {
    std::string name;
    std::map<std::string, std::string> conns;  // connection -> user
  };
  std::mutex mu_;
  std::map<std::string, Node> nodes_;
};

}  // namespace

MemoryBus::MemoryBus() : presence_(std::make_unique<MemoryPresence>()) {}

Presence* MemoryAdapter::presence() { return bus_->presence_.get(); }

struct MemoryBus::Endpoint {
  std::mutex mu;
  absl::flat_hash_set<std::string> channels ABSL_GUARDED_BY(mu);
  HandlerSlot handler;
};

void MemoryBus::attach(const std::shared_ptr<Endpoint>& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_[endpoint.get()] = endpoint;
}

void MemoryBus::detach(const Endpoint* endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_.erase(endpoint);
  for (auto it = routes_.begin(); it != routes_.end();) {
    std::erase(it->second, endpoint);
    if (it->second.empty()) {
      routes_.erase(it++);
    } else {
      ++it;
    }
  }
}

void MemoryBus::publish(const std::string& channel, const Envelope& envelope) {
  std::vector<std::shared_ptr<Endpoint>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto route = routes_.find(channel);
    if (route == routes_.end()) return;
    for (Endpoint* e : route->second) {
      if (auto alive = endpoints_[e].lock()) targets.push_back(std::move(alive));
    }
  }
  // Outside the bus lock: a handler may publish again.
  for (const auto& target : targets) {
    {
      std::lock_guard<std::mutex> lock(target->mu);
      if (!target->channels.contains(channel)) continue;
    }
    target->handler.call(channel, envelope);
  }
}

MemoryAdapter::MemoryAdapter(std::shared_ptr<MemoryBus> bus)
    : bus_(std::move(bus)), endpoint_(std::make_shared<MemoryBus::Endpoint>()) {
  bus_->attach(endpoint_);
}

MemoryAdapter::~MemoryAdapter() { bus_->detach(endpoint_.get()); }

void MemoryAdapter::set_handler(MessageHandler handler) { endpoint_->handler.set(std::move(handler)); }

void MemoryAdapter::subscribe(const std::string& channel, Done done) {
  {
    std::lock_guard<std::mutex> lock(endpoint_->mu);
    endpoint_->channels.insert(channel);
  }
  {
    std::lock_guard<std::mutex> lock(bus_->mu_);
    auto& route = bus_->routes_[channel];
    if (std::find(route.begin(), route.end(), endpoint_.get()) == route.end())
      route.push_back(endpoint_.get());
  }
  if (done) done(absl::OkStatus());
}

void MemoryAdapter::unsubscribe(const std::string& channel) {
  {
    std::lock_guard<std::mutex> lock(endpoint_->mu);
    endpoint_->channels.erase(channel);
  }
  std::lock_guard<std::mutex> lock(bus_->mu_);
  if (auto route = bus_->routes_.find(channel); route != bus_->routes_.end()) {
    std::erase(route->second, endpoint_.get());
    if (route->second.empty()) bus_->routes_.erase(route);
  }
}

void MemoryAdapter::publish(const std::string& channel, Envelope envelope) { bus_->publish(channel, envelope); }

}  // namespace superline
