#include "dispatcher.h"

#include <boost/asio/post.hpp>
#include <exception>

#include "channels.h"
#include "server_frames.h"
#include "superline/internal/text.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline {

void send_error(Conn& conn, std::string_view id, const absl::Status& status) {
  conn.send(error_frame(conn.wire(), id, status));
}

Dispatcher::Dispatcher(const ContractInfo& contract, const ServerOptions& options, Server::Dispatch dispatch,
                       const ServerHooks& hooks, ChannelRegistry& channels, Metrics& metrics)
    : contract_(contract),
      options_(options),
      dispatch_(std::move(dispatch)),
      hooks_(hooks),
      channels_(channels),
      metrics_(metrics),
      surfaces_(contract.roles.size()),
      pool_(static_cast<std::size_t>(std::max(1, options.handler_threads))) {
  for (const MethodInfo& m : contract_.methods) {
    if (m.role < 0) continue;
    for (size_t r = 0; r < surfaces_.size(); ++r) {
      if (m.role == kSharedRole || m.role == static_cast<int>(r)) surfaces_[r][absl_view(m.name)] = &m;
    }
  }
}

Dispatcher::~Dispatcher() { pool_.join(); }  // handlers and coroutines finish before what they use goes

const MethodInfo* Dispatcher::resolve(int role, std::string_view name) const {
  const auto& surface = surfaces_[static_cast<size_t>(role)];
  auto it = surface.find(absl_view(name));
  return it == surface.end() ? nullptr : it->second;
}

absl::StatusOr<internal::Inbound> Dispatcher::decode(const std::shared_ptr<Conn>& conn, MethodKind kind,
                                                     std::string_view name, std::string_view data,
                                                     const MethodInfo*& method) const {
  method = resolve(conn->role(), name);
  if (method != nullptr && method->kind != kind) method = nullptr;
  if (method == nullptr) return error(kNotFound, cat("Unknown message: ", clip(name)));
  internal::Inbound inbound;
  inbound.dispatch = method->dispatch;
  inbound.conn = conn;
  inbound.input.reset(method->payload->New());
  if (absl::Status s = decode_payload(conn->wire(), data, *inbound.input, options_.strict_json); !s.ok()) {
    return s;  // VALIDATION, its issue naming the field
  }
  // The contract's constraints, before any handler sees the payload.
  if (std::vector<ValidationIssue> issues = check_constraints(*inbound.input); !issues.empty()) {
    return validation_error(std::move(issues));
  }
  return inbound;
}

void Dispatcher::request(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view name,
                         std::string_view data) {
  const MethodInfo* method = nullptr;
  absl::StatusOr<internal::Inbound> inbound = decode(conn, MethodKind::kRequest, name, data, method);
  if (!inbound.ok()) {
    metrics_.request_answered(method, error_code(inbound.status()), -1);
    return send_error(*conn, id, inbound.status());
  }
  inbound->pending = std::make_shared<internal::PendingReply>(&hooks_, conn, std::string(id), name);
  inbound->pending->measure(&metrics_, method);
  run(*std::move(inbound), name);
}

void Dispatcher::client_event(const std::shared_ptr<Conn>& conn, std::string_view name, std::string_view data) {
  const MethodInfo* method = nullptr;
  absl::StatusOr<internal::Inbound> inbound = decode(conn, MethodKind::kClientEvent, name, data, method);
  metrics_.client_event(method);
  if (!inbound.ok()) return send_error(*conn, {}, inbound.status());  // no id: a client event has no reply
  run(*std::move(inbound), name);
}

void Dispatcher::run(internal::Inbound inbound, std::string_view name) {
  if (options_.handler_threads <= 0) return invoke(inbound, name);
  if (queued_.fetch_add(1) >= options_.max_queued_handlers) {
    queued_.fetch_sub(1);
    return failed(inbound, name, error(kBusy, "server busy: too many handlers waiting"));
  }
  boost::asio::post(pool_, [this, inbound = std::make_shared<internal::Inbound>(std::move(inbound)),
                            name = std::string(name)] {
    queued_.fetch_sub(1);
    invoke(*inbound, name);
  });
}

void Dispatcher::invoke(internal::Inbound& inbound, std::string_view name) {
  try {
    dispatch_(inbound);
  } catch (const std::exception& e) {
    failed(inbound, name, absl::InternalError(e.what()));  // reported, never shown to the client
  } catch (...) {
    failed(inbound, name, absl::InternalError("handler threw a non-exception"));
  }
}

void Dispatcher::failed(internal::Inbound& inbound, std::string_view name, const absl::Status& status) {
  if (inbound.pending) return inbound.pending->fail(status);
  hooks_.report(status, {"event", name, inbound.conn->id()});
}

std::string Dispatcher::topic_channel(int role, std::string_view topic) const {
  const MethodInfo* method = resolve(role, topic);
  if (method == nullptr || method->kind != MethodKind::kTopic) return {};
  return channels::topic(contract_.roles[static_cast<size_t>(method->role)], topic);
}

void Dispatcher::subscribe(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view topic) {
  const std::string channel = topic_channel(conn->role(), topic);
  if (channel.empty()) return send_error(*conn, id, error(kNotFound, cat("Unknown topic: ", clip(topic))));
  if (hooks_.authorize_subscribe) {
    bool allowed = false;
    try {
      allowed = hooks_.authorize_subscribe(*conn, topic);
    } catch (const std::exception& e) {
      hooks_.report(absl::InternalError(e.what()), {"subscribe", topic, conn->id()});
      return send_error(*conn, id, absl::InternalError("authorizer threw"));
    }
    if (!allowed) return send_error(*conn, id, error(kForbidden, cat("Subscribe denied: ", topic)));
  }
  channels_.join(conn, channel, [conn, id = std::string(id)](absl::Status live) {
    // UNAVAILABLE: the adapter cannot reach its broker now. The subscription stands and goes live
    // when it is back (at most once: what is published meanwhile is lost), as a room joined now does.
    if (live.ok() || absl::IsUnavailable(live)) {
      conn->send(reply_frame(conn->wire(), id, nullptr));
    } else {
      conn->send(error_frame(conn->wire(), id, error(kInternal, "subscription failed")));
    }
  });
}

void Dispatcher::unsubscribe(const std::shared_ptr<Conn>& conn, std::string_view topic) {
  const std::string channel = topic_channel(conn->role(), topic);
  if (!channel.empty()) channels_.leave(*conn, channel);
}

// ---- Replies ----

namespace internal {

PendingReply::PendingReply(const ServerHooks* hooks, std::weak_ptr<Conn> conn, std::string request_id,
                           std::string_view method)
    : hooks_(hooks), conn_(std::move(conn)), request_id_(std::move(request_id)), method_(method) {}

PendingReply::~PendingReply() {
  if (!done_.load()) fail(error(kInternal, "the handler dropped the request without answering"));
}

void PendingReply::measure(Metrics* metrics, const MethodInfo* method) {
  metrics_ = metrics;
  method_info_ = method;
  started_ = std::chrono::steady_clock::now();
}

void PendingReply::answered(std::string_view code) const {
  if (metrics_ == nullptr) return;
  metrics_->request_answered(method_info_, code,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
}

void PendingReply::reply(const google::protobuf::Message& value) {
  if (!claim()) return;
  auto conn = conn_.lock();
  if (!conn) return answered(kDisconnected);
  SharedFrame frame = reply_frame(conn->wire(), request_id_, &value);
  if (absl::Status fits = check_size(*frame, conn->max_outbound_bytes()); !fits.ok()) {
    frame = error_frame(conn->wire(), request_id_,
                        error(kPayloadTooLarge,
                              cat("the reply to '", clip(method_), "' is too large to send: ", std_view(fits.message()))));
    answered(kPayloadTooLarge);
  } else {
    answered("OK");
  }
  conn->send(std::move(frame));
}

void PendingReply::fail(const absl::Status& status) {
  if (!claim()) return;
  auto conn = conn_.lock();
  if (is_unexpected(status)) {
    hooks_->report(status, {"request", method_, conn ? std::string_view(conn->id()) : std::string_view()});
  }
  answered(error_code(status));
  if (conn) conn->send(error_frame(conn->wire(), request_id_, status));
}

}  // namespace internal
}  // namespace superline
