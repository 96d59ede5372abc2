#include "server_requests.h"

#include <optional>
#include <vector>

#include "absl/strings/numbers.h"

#include "channels.h"
#include "envelope.h"
#include "server_frames.h"
#include "superline/channel.pb.h"
#include "superline/internal/text.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline {
namespace {

// What a client may put in an serr's code and message: short, printable text.
constexpr std::size_t kMaxCodeBytes = 64;

absl::Status client_error(const WireFrame& frame, Wire wire) {
  std::string code = repair_utf8(frame.code.substr(0, kMaxCodeBytes));
  if (code.empty()) code = std::string(kInternal);
  if (code == kValidation && frame.has_d) {
    if (std::vector<ValidationIssue> issues = decode_issues(wire, frame.d); !issues.empty())
      return validation_error(std::move(issues));
  }
  return error(code, clip(repair_utf8(frame.m)));
}

}  // namespace

void PendingRequest::abort() const {
  if (auto requests = owner_.lock()) requests->abort(id_);
}

PendingRequest Conn::request(std::string_view name, const google::protobuf::Message& payload,
                             std::function<void(absl::StatusOr<std::string>)> done, RequestOptions options) {
  auto requests = requests_.lock();
  if (!requests) {
    done(error(kDisconnected, "the connection is not served"));
    return {};
  }
  return requests->request(id_, name, payload, std::move(done), options);
}

ServerRequests::ServerRequests(const ContractInfo& contract, const ServerOptions& options, std::string node_id,
                               Adapter& adapter, ConnectionRegistry& conns, boost::asio::any_io_executor timers)
    : contract_(contract),
      options_(options),
      node_id_(std::move(node_id)),
      adapter_(adapter),
      conns_(conns),
      timers_(std::move(timers)) {}

void ServerRequests::shutdown() {
  absl::flat_hash_map<uint64_t, Waiter> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    waiters.swap(waiters_);
  }
  for (auto& [id, waiter] : waiters) {
    waiter.timer->cancel();
    waiter.done(error(kDisconnected, "server shutting down"));
  }
}

const MethodInfo* ServerRequests::resolve(int role, std::string_view name) const {
  for (const MethodInfo& m : contract_.methods) {
    if (m.kind == MethodKind::kServerRequest && m.name == name && (m.role == kSharedRole || m.role == role)) return &m;
  }
  return nullptr;
}

PendingRequest ServerRequests::request(std::string_view conn_id, std::string_view name,
                                       const google::protobuf::Message& payload, Done done, RequestOptions options) {
  std::shared_ptr<Conn> local = conns_.find(conn_id);
  if (local) {
    const MethodInfo* method = resolve(local->role(), name);
    if (method == nullptr || method->payload->GetDescriptor() != payload.GetDescriptor()) {
      done(absl::FailedPreconditionError(cat("server request '", clip(name), "' is not in role '", local->role_name(),
                                             "''s surface, or takes another message")));
      return {};
    }
  }
  const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  uint64_t id = 0;
  absl::Status refused;  // told after the lock is released: `done` may ask again
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) {
      refused = error(kDisconnected, "server shutting down");
    } else if (waiters_.size() >= options_.max_pending_server_requests) {
      refused = error(kBusy, cat(options_.max_pending_server_requests, " server requests already pending on this node"));
    }
    if (refused.ok()) id = add_waiter(name, std::move(done), timeout);
  }
  if (!refused.ok()) {
    done(std::move(refused));
    return {};
  }
  const auto timeout_ms = static_cast<uint32_t>(std::min<int64_t>(timeout.count(), UINT32_MAX));
  if (local) {
    deliver(local, node_id_, id, name, payload.SerializeAsString(), timeout);
  } else {
    adapter_.publish(channels::conn(conn_id),
                     envelope::server_request(node_id_, name, id, timeout_ms, payload.SerializeAsString()));
  }
  return PendingRequest(weak_from_this(), id);
}

uint64_t ServerRequests::add_waiter(std::string_view name, Done done, std::chrono::milliseconds timeout) {
  const uint64_t id = ++next_waiter_id_;
  Waiter& waiter = waiters_[id];
  waiter.done = std::move(done);
  waiter.timer = std::make_unique<boost::asio::steady_timer>(timers_, timeout);
  waiter.timer->async_wait([weak = weak_from_this(), id, name = std::string(name), timeout](boost::system::error_code ec) {
    if (ec) return;  // settled first
    if (auto self = weak.lock())
      self->settle(id, error(kTimeout, cat(clip(name), " timed out after ", timeout.count(), " ms")));
  });
  return id;
}

void ServerRequests::abort(uint64_t id) { settle(id, error(kBadRequest, "Aborted")); }

void ServerRequests::settle(uint64_t id, absl::StatusOr<std::string> outcome) {
  Waiter waiter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;  // settled already: a late answer, a timeout after an abort
    waiter = std::move(it->second);
    waiters_.erase(it);
  }
  waiter.timer->cancel();
  waiter.done(std::move(outcome));
}

void ServerRequests::on_reply(const channel::ChannelMessage& message) {
  if (message.reply()) return settle(message.request_id(), message.payload());
  if (message.error_code() == kValidation) {
    if (std::vector<ValidationIssue> issues = decode_issues(Wire::kProtobuf, message.issues()); !issues.empty())
      return settle(message.request_id(), validation_error(std::move(issues)));
  }
  settle(message.request_id(), error(message.error_code().empty() ? kInternal : std::string_view(message.error_code()),
                                     message.error_message()));
}

void ServerRequests::answer_origin(const std::string& origin, uint64_t origin_id,
                                   absl::StatusOr<std::string> outcome) {
  if (origin == node_id_) return settle(origin_id, std::move(outcome));
  adapter_.publish(channels::reply(origin), envelope::server_reply(node_id_, origin_id, outcome));
}

void ServerRequests::on_request(const std::shared_ptr<Conn>& conn, const channel::ChannelMessage& message) {
  deliver(conn, message.origin(), message.request_id(), message.server_request(), message.payload(),
          std::chrono::milliseconds(message.timeout_ms()));
}

void ServerRequests::deliver(const std::shared_ptr<Conn>& conn, std::string origin, uint64_t origin_id,
                             std::string_view name, std::string_view payload, std::chrono::milliseconds timeout) {
  // A node of another contract version may ask what this one does not have.
  const MethodInfo* method = resolve(conn->role(), name);
  if (method == nullptr) {
    return answer_origin(origin, origin_id,
                         error(kNotFound, cat("server request '", clip(name), "' is not in role '", conn->role_name(),
                                              "''s surface on node ", node_id_)));
  }
  std::unique_ptr<google::protobuf::Message> input(method->payload->New());
  if (!input->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return answer_origin(origin, origin_id, error(kInternal, cat("undecodable '", clip(name), "' payload")));
  }
  const auto now = std::chrono::steady_clock::now();
  uint64_t local_id = 0;
  absl::Status refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Routes* routes = nullptr;
    // Registered still? A connection that closed meanwhile has no routes to hold (closed() ran, or
    // runs after us and fails what we add).
    if (conns_.find(conn->id()) != conn) {
      refused = error(kDisconnected, "Connection closed");
    } else {
      routes = &routes_[conn->id()];
      if (routes->size() >= options_.max_server_requests_per_conn) {
        absl::erase_if(*routes, [now](const auto& entry) { return entry.second.deadline <= now; });
      }
      if (routes->size() >= options_.max_server_requests_per_conn) {
        refused = error(kBusy, cat(options_.max_server_requests_per_conn,
                                   " server requests already unanswered on connection ", clip(conn->id())));
      }
    }
    if (refused.ok()) {
      local_id = ++next_sreq_id_;
      routes->emplace(local_id, Route{origin, origin_id, method, now + timeout});
    }
  }
  if (!refused.ok()) return answer_origin(origin, origin_id, std::move(refused));
  SharedFrame encoded = request_frame(conn->wire(), cat(local_id), name, *input);
  if (absl::Status fits = check_size(*encoded, conn->max_outbound_bytes()); !fits.ok()) {
    if (std::optional<Route> route = take_route(conn->id(), local_id)) answer_origin(route->origin, route->origin_id, fits);
    return;
  }
  conn->send(std::move(encoded));
}

void ServerRequests::on_answer(const std::shared_ptr<Conn>& conn, const WireFrame& frame) {
  uint64_t local_id = 0;
  if (!absl::SimpleAtoi(frame.i, &local_id)) return;  // no id: nothing to route, nothing to say
  std::optional<Route> found = take_route(conn->id(), local_id);
  if (!found) return;  // never sent to this connection, or answered already
  const Route& route = *found;
  if (route.deadline <= std::chrono::steady_clock::now()) return;  // the origin has given up
  if (frame.t == "serr") return answer_origin(route.origin, route.origin_id, client_error(frame, conn->wire()));
  std::unique_ptr<google::protobuf::Message> reply(route.method->reply->New());
  absl::Status decoded = decode_payload(conn->wire(), frame.has_d ? std::string_view(frame.d) : std::string_view(),
                                        *reply, options_.strict_json);
  if (decoded.ok()) {
    if (std::vector<ValidationIssue> issues = check_constraints(*reply); !issues.empty())
      decoded = validation_error(std::move(issues));
  }
  if (!decoded.ok()) return answer_origin(route.origin, route.origin_id, std::move(decoded));
  answer_origin(route.origin, route.origin_id, reply->SerializeAsString());
}

std::optional<ServerRequests::Route> ServerRequests::take_route(const std::string& conn_id, uint64_t local_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto routes = routes_.find(conn_id);
  if (routes == routes_.end()) return std::nullopt;
  auto it = routes->second.find(local_id);
  if (it == routes->second.end()) return std::nullopt;
  Route route = std::move(it->second);
  routes->second.erase(it);
  if (routes->second.empty()) routes_.erase(routes);
  return route;
}

void ServerRequests::closed(const Conn& conn) {
  Routes routes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = routes_.find(conn.id());
    if (it == routes_.end()) return;
    routes = std::move(it->second);
    routes_.erase(it);
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, route] : routes) {
    if (route.deadline > now) answer_origin(route.origin, route.origin_id, error(kDisconnected, "Connection closed"));
  }
}

}  // namespace superline
