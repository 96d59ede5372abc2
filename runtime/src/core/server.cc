// The transport-independent server. Every fan-out goes through the adapter (the memory adapter loops
// back), and a node delivers to its local members when a message arrives on a channel: one code
// path for local and remote recipients, no double send.
#include "superline/server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <exception>
#include <random>

#include "log.h"
#include "superline/channel.pb.h"
#include "superline/rendezvous.h"
#include "superline/status.h"
#include "text.h"
#include "wire.h"

namespace superline {
namespace {

std::string random_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    const uint64_t word = i < 16 ? hi : lo;
    out += kHex[(word >> (4 * (15 - (i % 16)))) & 0xf];
  }
  return out;
}

// A frame in one wire's encoding only: a reply goes to one connection.
Frame single(Wire wire, const WireFrame& frame) {
  auto out = std::make_shared<EncodedFrame>();
  (wire == Wire::kJson ? out->json : out->binary) = encode_frame(wire, frame);
  return out;
}

// A frame of type `t` without payload (JSON "d":null if `null_d`), in both wires, once per process.
Frame constant_frame(std::string_view t, bool null_d) {
  WireFrame frame;
  frame.t = t;
  auto out = std::make_shared<EncodedFrame>();
  out->binary = encode_frame(Wire::kProtobuf, frame);
  frame.has_d = null_d;
  frame.d = "null";
  out->json = encode_frame(Wire::kJson, frame);
  return out;
}

const Frame& env_frame() {
  static const Frame frame = constant_frame("env", /*null_d=*/true);
  return frame;
}

constexpr char kServerChannel[] = "s2s";

const Frame& ping_frame() {
  static const Frame frame = constant_frame("ping", /*null_d=*/false);
  return frame;
}

// Statuses whose text is for the server's log only: an unexpected failure must not leak detail.
bool is_unexpected(const absl::Status& status) {
  return error_code(status) == kInternal && !has_wire_code(status);
}

Frame error_frame(Wire wire, std::string_view id, const absl::Status& status) {
  WireFrame frame;
  frame.t = "err";
  frame.i = id;
  frame.code = error_code(status);
  if (frame.code == kValidation) {
    // super-line's shape on JSON: the detail in "d"; the binary wire's ERR has it in the message.
    if (wire == Wire::kJson) {
      frame.m = "Validation failed";
      frame.d = R"([{"message":)";
      append_json_string(frame.d, std_view(status.message()));
      frame.d += "}]";
      frame.has_d = true;
    } else {
      frame.m = cat("Validation failed: ", std_view(status.message()));
    }
  } else {
    frame.m = is_unexpected(status) ? "Internal server error" : std::string(std_view(status.message()));
  }
  return single(wire, frame);
}

// The answer to a request (`value`) or a subscription (null: JSON "d":null, no payload in binary).
Frame reply_frame(Wire wire, std::string_view id, const google::protobuf::Message* value) {
  WireFrame frame;
  frame.t = "res";
  frame.i = id;
  frame.has_d = value != nullptr || wire == Wire::kJson;
  if (value) frame.d = encode_payload(wire, *value);
  return single(wire, frame);
}

}  // namespace

// Local interest in one adapter channel.
struct Server::Channel {
  absl::flat_hash_map<std::string, std::shared_ptr<Conn>> members;  // by connection id
  absl::flat_hash_map<uint64_t, Listener> listeners;                // cluster bus, shared topics only
  bool live = false;         // the adapter confirmed the subscription
  bool subscribing = false;  // an adapter subscribe is waiting for its answer
  std::vector<std::function<void(absl::Status)>> waiting;  // callers waiting for `live`
};

absl::StatusOr<std::string_view> Handshake::query_param(std::string_view name) const {
  const std::string_view value = raw_query_param(name);
  if (!is_plain_text(value)) {
    return absl::InvalidArgumentError(
        cat("query parameter '", clip(repair_utf8(name)), "' is not valid UTF-8 text without control characters"));
  }
  return value;
}

std::string_view Handshake::raw_query_param(std::string_view name) const {
  auto it = query.find(absl_view(name));
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view Handshake::header(std::string_view name) const {
  auto it = headers.find(absl_view(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

Server::Server(const ContractInfo& contract, Dispatch dispatch, ServerOptions options,
               std::shared_ptr<Adapter> adapter)
    : contract_(contract),
      dispatch_(std::move(dispatch)),
      options_(std::move(options)),
      node_id_(random_uuid()),
      adapter_(adapter ? std::move(adapter) : std::make_shared<MemoryAdapter>()) {
  route_protobuf_log();
  pool_ = std::make_unique<boost::asio::thread_pool>(std::max(1, options_.handler_threads));
  if (options_.node_name.empty()) options_.node_name = node_id_.substr(0, 8);
  surfaces_.resize(contract_.roles.size());
  for (const MethodInfo& m : contract_.methods) {
    if (m.role < 0) continue;
    for (size_t r = 0; r < surfaces_.size(); ++r) {
      if (m.role == kSharedRole || m.role == static_cast<int>(r)) surfaces_[r][absl_view(m.name)] = &m;
    }
  }
  adapter_->set_handler(
      [this](std::string_view channel, const Payload& payload) { on_adapter_message(channel, payload); });
  // Visible in the cluster's presence from the start, not from the first heartbeat tick.
  if (Presence* presence = adapter_->presence())
    presence->beat(node_id_, options_.node_name, options_.presence_ttl);
}

Server::~Server() {
  adapter_->set_handler(nullptr);
  pool_->join();  // handlers and coroutines still running finish before what they use goes
}

boost::asio::any_io_executor Server::executor() { return pool_->get_executor(); }

void Server::set_authenticator(Authenticator authenticator) { authenticator_ = std::move(authenticator); }
void Server::on_connection(std::function<void(Conn&)> hook) { on_connection_ = std::move(hook); }
void Server::on_disconnect(std::function<void(Conn&, uint16_t)> hook) { on_disconnect_ = std::move(hook); }
void Server::on_error(std::function<void(const absl::Status&, const ErrorInfo&)> hook) {
  on_error_ = std::move(hook);
}
void Server::set_subscribe_authorizer(std::function<bool(Conn&, std::string_view)> authorizer) {
  authorize_subscribe_ = std::move(authorizer);
}

void Server::report(const absl::Status& status, const ErrorInfo& info) const {
  if (!on_error_) {
    // Nobody asked to hear of it: the log does, at most a burst per period (a client can make a
    // handler throw on every request).
    static KindThrottle throttle;
    return log_throttled(throttle, LogLevel::kError,
                         cat(info.kind, " ", clip(info.name),
                             info.conn_id.empty() ? std::string() : cat(" on connection ", clip(info.conn_id)), ": ",
                             std_view(status.ToString())));
  }
  try {
    on_error_(status, info);
  } catch (...) {
    // An error hook that throws has nowhere left to report to.
  }
}

void Server::send_error(Conn& conn, std::string_view id, const absl::Status& status) {
  conn.send(error_frame(conn.wire(), id, status));
}

// ---- Connections ----

absl::StatusOr<Admission> Server::authenticate(const Handshake& handshake) const {
  if (!authenticator_) return Admission{};
  absl::StatusOr<Admission> admission;
  try {
    admission = authenticator_(handshake);
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(e.what());
  } catch (...) {
    return absl::UnauthenticatedError("authenticator threw");
  }
  if (admission.ok() &&
      (admission->role < 0 || admission->role >= static_cast<int>(contract_.roles.size()))) {
    const absl::Status wrong = absl::InternalError(cat("authenticator returned role index ", admission->role,
                                                       ", not a role of contract ", contract_.name));
    report(wrong, {"connection", "authenticate", {}});
    return wrong;
  }
  return admission;
}

std::shared_ptr<Conn> Server::open(Admission admission, std::shared_ptr<Outbox> outbox, Wire wire) {
  const int role = admission.role;
  std::string id = admission.conn_id.empty() ? random_uuid() : std::move(admission.conn_id);
  auto conn = std::make_shared<Conn>(std::move(id), role, contract_.roles[role], std::move(admission.ctx),
                                     std::move(admission.user_id), std::move(outbox), wire,
                                     options_.max_outbound_message_bytes);
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    if (!conns_.try_emplace(conn->id(), conn).second) return nullptr;  // duplicate id
  }
  conn->send(env_frame());  // super-line clients resolve env.ready on it
  // Personal channels, so to_conn/to_user reach this connection from any node.
  join(conn, cat("c:", conn->id()), nullptr);
  if (!conn->user_id().empty()) join(conn, cat("u:", conn->user_id()), nullptr);
  if (Presence* presence = adapter_->presence()) presence->add(node_id_, conn->id(), conn->user_id());
  if (on_connection_) {
    try {
      on_connection_(*conn);
    } catch (const std::exception& e) {
      report(absl::InternalError(e.what()), {"connection", "on_connection", conn->id()});
    }
  }
  return conn;
}

void Server::closed(const std::shared_ptr<Conn>& conn, uint16_t code) {
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    if (conns_.erase(conn->id()) == 0) return;
  }
  for (const std::string& channel : conn->take_channels()) leave(*conn, channel);
  if (Presence* presence = adapter_->presence()) presence->remove(node_id_, conn->id(), conn->user_id());
  if (on_disconnect_) {
    try {
      on_disconnect_(*conn, code);
    } catch (const std::exception& e) {
      report(absl::InternalError(e.what()), {"disconnect", "on_disconnect", conn->id()});
    }
  }
}

std::shared_ptr<Conn> Server::find(std::string_view conn_id) const {
  std::lock_guard<std::mutex> lock(conns_mu_);
  auto it = conns_.find(absl_view(conn_id));
  return it == conns_.end() ? nullptr : it->second;
}

void Server::count_dropped_frame() { dropped_frames_.fetch_add(1, std::memory_order_relaxed); }
std::uint64_t Server::dropped_frames() const { return dropped_frames_.load(std::memory_order_relaxed); }
std::uint64_t Server::dropped_outside_surface() const {
  return dropped_outside_surface_.load(std::memory_order_relaxed);
}

std::size_t Server::connection_count() const {
  std::lock_guard<std::mutex> lock(conns_mu_);
  return conns_.size();
}

std::vector<std::shared_ptr<Conn>> Server::connections() const {
  std::lock_guard<std::mutex> lock(conns_mu_);
  std::vector<std::shared_ptr<Conn>> out;
  out.reserve(conns_.size());
  for (const auto& [id, conn] : conns_) out.push_back(conn);
  return out;
}

void Server::heartbeat() {
  if (Presence* presence = adapter_->presence())
    presence->beat(node_id_, options_.node_name, options_.presence_ttl);
  for (const auto& conn : connections()) {
    if (conn->missed_pongs_.load() >= options_.max_missed_pongs) {
      if (auto outbox = conn->outbox_.lock()) outbox->terminate();
      continue;
    }
    conn->missed_pongs_.fetch_add(1);
    conn->send(ping_frame());
  }
}

void Server::shutdown() {
  // Leave the cluster's view at once rather than after the liveness TTL.
  if (Presence* presence = adapter_->presence()) presence->clear_node(node_id_);
  for (const auto& conn : connections()) conn->close(kCloseGoingAway, "server shutting down");
}

namespace {

// Runs an asynchronous presence query and waits for its answer.
template <class T, class Query>
absl::StatusOr<T> ask(Presence* presence, std::chrono::milliseconds timeout, Query query) {
  if (presence == nullptr) return absl::FailedPreconditionError("this adapter keeps no presence directory");
  auto answer = std::make_shared<Rendezvous<absl::StatusOr<T>>>();
  query(*presence, [answer](absl::StatusOr<T> r) { answer->set(std::move(r)); });
  std::optional<absl::StatusOr<T>> result = answer->wait_for(timeout);
  if (!result) return absl::DeadlineExceededError("presence query timed out");
  return *std::move(result);
}

}  // namespace

absl::StatusOr<std::vector<NodePresence>> Server::topology(std::chrono::milliseconds timeout) {
  return ask<std::vector<NodePresence>>(adapter_->presence(), timeout,
                                        [](Presence& p, auto done) { p.topology(std::move(done)); });
}

absl::StatusOr<std::size_t> Server::cluster_count(std::chrono::milliseconds timeout) {
  auto nodes = topology(timeout);
  if (!nodes.ok()) return nodes.status();
  std::size_t total = 0;
  for (const auto& node : *nodes) total += node.connections;
  return total;
}

absl::StatusOr<bool> Server::is_online(std::string_view user_id, std::chrono::milliseconds timeout) {
  const std::string user(user_id);
  return ask<bool>(adapter_->presence(), timeout,
                   [&user](Presence& p, auto done) { p.is_online(user, std::move(done)); });
}

void Server::terminate_all() {
  for (const auto& conn : connections()) {
    if (auto outbox = conn->outbox_.lock()) outbox->terminate();
  }
}

// ---- Inbound frames ----

void Server::receive(const std::shared_ptr<Conn>& conn, std::string_view data) {
  absl::StatusOr<WireFrame> frame = parse_frame(conn->wire(), data);
  if (!frame.ok()) return send_error(*conn, {}, error(kBadRequest, std_view(frame.status().message())));
  const std::string& t = frame->t;
  if (options_.max_requests_per_second > 0 && (t == "req" || t == "cev" || t == "sub")) {
    if (!conn->take_token(options_.max_requests_per_second)) {
      if (++conn->refused_in_a_row_ >= options_.rate_limit_close_after) {
        return conn->close(kClosePolicy, "rate limit exceeded");
      }
      if (t == "cev") return;  // no reply to send
      return send_error(*conn, frame->i, error(kRateLimited, "Rate limit exceeded"));
    }
    conn->refused_in_a_row_ = 0;
  }
  if (t == "req") {
    if (frame->i.empty()) return send_error(*conn, {}, error(kBadRequest, "req without \"i\""));
    if (frame->m.empty()) return send_error(*conn, frame->i, error(kBadRequest, "req without \"m\""));
    return handle_request(conn, frame->i, frame->m, frame->d);
  }
  if (t == "cev") {
    if (frame->m.empty()) return send_error(*conn, {}, error(kBadRequest, "cev without \"m\""));
    return handle_client_event(conn, frame->m, frame->d);
  }
  if (t == "sub") {
    if (frame->i.empty()) return send_error(*conn, {}, error(kBadRequest, "sub without \"i\""));
    if (frame->c.empty()) return send_error(*conn, frame->i, error(kBadRequest, "sub without \"c\""));
    return handle_subscribe(conn, frame->i, frame->c);
  }
  if (t == "unsub") return handle_unsubscribe(conn, frame->c);
  if (t == "pong") {
    conn->missed_pongs_.store(0);
    return;
  }
  if (t == "ping") return;  // super-line's server ignores client pings too
  send_error(*conn, frame->i, error(kBadRequest, cat("unknown frame type \"", clip(t), "\"")));
}

const MethodInfo* Server::resolve(int role, std::string_view name) const {
  const auto& surface = surfaces_[role];
  auto it = surface.find(absl_view(name));
  return it == surface.end() ? nullptr : it->second;
}

absl::StatusOr<internal::Inbound> Server::decode_inbound(const std::shared_ptr<Conn>& conn, MethodKind kind,
                                                         std::string_view name, std::string_view data) const {
  const MethodInfo* method = resolve(conn->role(), name);
  if (method == nullptr || method->kind != kind)
    return error(kNotFound, cat("Unknown message: ", clip(name)));
  internal::Inbound inbound;
  inbound.dispatch = method->dispatch;
  inbound.conn = conn;
  inbound.input.reset(method->payload->New());
  if (absl::Status s = decode_payload(conn->wire(), data, *inbound.input, options_.strict_json); !s.ok()) {
    return error(kValidation, std_view(s.message()));
  }
  return inbound;
}

void Server::handle_request(const std::shared_ptr<Conn>& conn, std::string_view id, std::string_view name,
                            std::string_view data) {
  absl::StatusOr<internal::Inbound> inbound = decode_inbound(conn, MethodKind::kRequest, name, data);
  if (!inbound.ok()) return send_error(*conn, id, inbound.status());
  inbound->pending = std::make_shared<internal::PendingReply>(this, conn, std::string(id), name);
  run_handler(*std::move(inbound), name);
}

void Server::handle_client_event(const std::shared_ptr<Conn>& conn, std::string_view name,
                                 std::string_view data) {
  absl::StatusOr<internal::Inbound> inbound = decode_inbound(conn, MethodKind::kClientEvent, name, data);
  if (!inbound.ok()) return send_error(*conn, {}, inbound.status());  // no id: a client event has no reply
  run_handler(*std::move(inbound), name);
}

void Server::run_handler(internal::Inbound inbound, std::string_view name) {
  if (options_.handler_threads <= 0) return invoke(inbound, name);
  if (queued_handlers_.fetch_add(1) >= options_.max_queued_handlers) {
    queued_handlers_.fetch_sub(1);
    return handler_failed(inbound, name, error(kBusy, "server busy: too many handlers waiting"));
  }
  boost::asio::post(*pool_, [this, inbound = std::make_shared<internal::Inbound>(std::move(inbound)),
                             name = std::string(name)] {
    queued_handlers_.fetch_sub(1);
    invoke(*inbound, name);
  });
}

void Server::invoke(internal::Inbound& inbound, std::string_view name) {
  try {
    dispatch_(inbound);
  } catch (const std::exception& e) {
    handler_failed(inbound, name, absl::InternalError(e.what()));  // reported, never shown to the client
  } catch (...) {
    handler_failed(inbound, name, absl::InternalError("handler threw a non-exception"));
  }
}

void Server::handler_failed(internal::Inbound& inbound, std::string_view name, const absl::Status& status) {
  if (inbound.pending) return inbound.pending->fail(status);
  report(status, {"event", name, inbound.conn->id()});
}

std::string Server::topic_channel(int role, std::string_view topic) const {
  const MethodInfo* method = resolve(role, topic);
  if (method == nullptr || method->kind != MethodKind::kTopic) return {};
  return cat("t:", contract_.roles[method->role], ":", topic);
}

void Server::handle_subscribe(const std::shared_ptr<Conn>& conn, std::string_view id,
                              std::string_view topic) {
  const std::string channel = topic_channel(conn->role(), topic);
  if (channel.empty()) {
    return send_error(*conn, id, error(kNotFound, cat("Unknown topic: ", clip(topic))));
  }
  if (authorize_subscribe_) {
    bool allowed = false;
    try {
      allowed = authorize_subscribe_(*conn, topic);
    } catch (const std::exception& e) {
      report(absl::InternalError(e.what()), {"subscribe", topic, conn->id()});
      return send_error(*conn, id, absl::InternalError("authorizer threw"));
    }
    if (!allowed) {
      return send_error(*conn, id, error(kForbidden, cat("Subscribe denied: ", topic)));
    }
  }
  join(conn, channel, [conn, id = std::string(id)](absl::Status live) {
    // UNAVAILABLE: the adapter cannot reach its broker now. The subscription stands and goes live
    // when it is back (at most once: what is published meanwhile is lost), as a room joined now does.
    if (live.ok() || absl::IsUnavailable(live)) {
      conn->send(reply_frame(conn->wire(), id, nullptr));
    } else {
      conn->send(error_frame(conn->wire(), id, error(kInternal, "subscription failed")));
    }
  });
}

void Server::handle_unsubscribe(const std::shared_ptr<Conn>& conn, std::string_view topic) {
  const std::string channel = topic_channel(conn->role(), topic);
  if (!channel.empty() && conn->leave_channel(channel)) leave(*conn, channel);
}

// ---- Channels ----

void Server::join(const std::shared_ptr<Conn>& conn, const std::string& channel,
                  std::function<void(absl::Status)> live) {
  if (!conn->join_channel(channel)) {
    // Already a member, or closed: nothing changes; a subscriber still gets its answer.
    if (live) live(absl::OkStatus());
    return;
  }
  add_interest(channel, conn, 0, nullptr, std::move(live));
}

void Server::add_interest(const std::string& channel, const std::shared_ptr<Conn>& conn, uint64_t listener_id,
                          Listener listener, std::function<void(absl::Status)> live) {
  bool live_now = false;
  {
    // Held across the decision and the adapter call, so the adapter sees subscribes and
    // unsubscribes of a channel in the order the registry decided them.
    std::lock_guard<std::recursive_mutex> order(interest_mu_);
    bool subscribe = false;
    {
      std::lock_guard<std::mutex> lock(channels_mu_);
      auto& slot = channels_[channel];
      if (!slot) slot = std::make_unique<Channel>();
      if (conn) {
        slot->members[conn->id()] = conn;
      } else {
        slot->listeners[listener_id] = std::move(listener);
      }
      if (slot->live) {
        live_now = true;
      } else {
        if (live) slot->waiting.push_back(std::move(live));
        // A new channel, or one whose last subscribe failed (its broker was away): ask (again).
        subscribe = !slot->subscribing;
        slot->subscribing = true;
      }
    }
    if (subscribe) {
      adapter_->subscribe(channel, [this, channel](absl::Status status) {
        std::vector<std::function<void(absl::Status)>> waiting;
        {
          std::lock_guard<std::mutex> lock(channels_mu_);
          auto it = channels_.find(channel);
          if (it == channels_.end()) return;
          it->second->live = status.ok();
          it->second->subscribing = false;
          waiting.swap(it->second->waiting);
        }
        for (auto& callback : waiting) callback(status);
      });
    }
  }
  if (live_now && live) live(absl::OkStatus());
}

void Server::leave(const Conn& conn, const std::string& channel) {
  std::lock_guard<std::recursive_mutex> order(interest_mu_);
  {
    std::lock_guard<std::mutex> lock(channels_mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    it->second->members.erase(conn.id());
  }
  drop_interest_if_unused(channel);
}

void Server::drop_interest_if_unused(const std::string& channel) {
  std::lock_guard<std::recursive_mutex> order(interest_mu_);
  {
    std::lock_guard<std::mutex> lock(channels_mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end() || !it->second->members.empty() || !it->second->listeners.empty()) return;
    channels_.erase(it);
  }
  adapter_->unsubscribe(channel);
}

// ---- Cluster bus ----

uint64_t Server::subscribe_topic(std::string_view topic, Listener listener,
                                 std::function<void(absl::Status)> ready) {
  const uint64_t id = next_listener_id_.fetch_add(1);
  add_interest(cat("t:shared:", topic), nullptr, id, std::move(listener), std::move(ready));
  return id;
}

void Server::unsubscribe_topic(uint64_t id) {
  std::string emptied;
  {
    std::lock_guard<std::mutex> lock(channels_mu_);
    for (auto& [name, channel] : channels_) {
      if (channel->listeners.erase(id) > 0) {
        emptied = name;
        break;
      }
    }
  }
  if (!emptied.empty()) drop_interest_if_unused(emptied);
}

void Server::echo_topic(std::string_view topic, const google::protobuf::Message& payload) {
  std::vector<Listener> listeners;
  {
    std::lock_guard<std::mutex> lock(channels_mu_);
    auto it = channels_.find(absl_view(cat("t:shared:", topic)));
    if (it == channels_.end()) return;
    for (const auto& [id, listener] : it->second->listeners) listeners.push_back(listener);
  }
  notify(listeners, payload, node_id_, topic);
}

void Server::notify(const std::vector<Listener>& listeners, const google::protobuf::Message& payload,
                    std::string_view from, std::string_view name) const {
  for (const auto& listener : listeners) {
    try {
      listener(payload, from);
    } catch (const std::exception& e) {
      report(absl::InternalError(e.what()), {"event", name, {}});
    } catch (...) {
      report(absl::InternalError("listener threw a non-exception"), {"event", name, {}});
    }
  }
}

// ---- Targeted sends ----

void Server::publish_personal(const std::string& channel, Frame frame, std::string_view event_role, uint16_t code,
                              std::string_view reason) {
  channel::ChannelMessage message;
  if (frame) {
    message.set_json(frame->json);
    message.set_binary(frame->binary);
    message.set_event_role(std::string(event_role));
  } else {
    message.set_close(true);
    message.set_close_code(code);
    message.set_close_reason(std::string(reason));
  }
  message.set_origin(node_id_);
  adapter_->publish(channel, std::make_shared<const std::string>(message.SerializeAsString()));
}

absl::Status Server::send_to_conn(std::string_view conn_id, Frame frame, std::string_view event_role) {
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  if (auto conn = find(conn_id)) {  // local: no adapter trip
    if (!in_surface(*conn, event_role, node_id_)) {
      return absl::FailedPreconditionError(cat("connection ", clip(conn_id), " of role '", conn->role_name(),
                                               "' does not have role '", clip(event_role), "''s events"));
    }
    conn->send(std::move(frame));
  } else {
    publish_personal(cat("c:", conn_id), std::move(frame), event_role);
  }
  return absl::OkStatus();
}

absl::Status Server::send_to_user(std::string_view user_id, Frame frame, std::string_view event_role) {
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  publish_personal(cat("u:", user_id), std::move(frame), event_role);  // a user may be on many nodes
  return absl::OkStatus();
}

bool Server::in_surface(const Conn& conn, std::string_view event_role, std::string_view from) {
  if (event_role.empty() || event_role == contract_.roles[kSharedRole] || event_role == conn.role_name()) return true;
  dropped_outside_surface_.fetch_add(1, std::memory_order_relaxed);
  report(absl::FailedPreconditionError(cat("an event of role '", clip(event_role), "' from node ", clip(from),
                                           " was not delivered to connection ", clip(conn.id()), " of role '",
                                           conn.role_name(), "'")),
         {"event", event_role, conn.id()});
  return false;
}

void Server::close_conn(std::string_view conn_id, uint16_t code, std::string_view reason) {
  if (auto conn = find(conn_id)) return conn->close(code, reason);
  publish_personal(cat("c:", conn_id), nullptr, {}, code, reason);
}

void Server::close_user(std::string_view user_id, uint16_t code, std::string_view reason) {
  publish_personal(cat("u:", user_id), nullptr, {}, code, reason);
}

std::size_t Server::local_members(const std::string& channel) const {
  std::lock_guard<std::mutex> lock(channels_mu_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second->members.size();
}

std::vector<std::string> Server::local_member_ids(const std::string& channel) const {
  std::lock_guard<std::mutex> lock(channels_mu_);
  std::vector<std::string> out;
  if (auto it = channels_.find(channel); it != channels_.end()) {
    for (const auto& [id, conn] : it->second->members) out.push_back(id);
  }
  return out;
}

absl::Status Server::publish(const std::string& channel, Frame frame, std::string_view except_conn) {
  // Checked once here, where the publisher can be told, rather than by each recipient's queue.
  if (absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes); !fits.ok()) return fits;
  channel::ChannelMessage message;
  message.set_json(frame->json);
  message.set_binary(frame->binary);
  message.set_origin(node_id_);
  if (!except_conn.empty()) message.set_except_conn(std::string(except_conn));
  adapter_->publish(channel, std::make_shared<const std::string>(message.SerializeAsString()));
  return absl::OkStatus();
}

// ---- Node-to-node events ----

void Server::emit_server(std::string_view event, const google::protobuf::Message& payload) {
  channel::ChannelMessage message;
  message.set_origin(node_id_);
  message.set_server_event(std::string(event));
  message.set_payload(payload.SerializeAsString());
  adapter_->publish(kServerChannel, std::make_shared<const std::string>(message.SerializeAsString()));
}

void Server::on_server(std::string_view event, Listener listener) {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    first = server_listeners_.empty();
    server_listeners_[absl_view(event)].push_back(std::move(listener));
  }
  if (first) adapter_->subscribe(kServerChannel, nullptr);
}

void Server::on_server_event(const channel::ChannelMessage& message) {
  if (message.origin() == node_id_) return;  // sender excluded
  const MethodInfo* method = nullptr;
  for (const MethodInfo& m : contract_.methods) {
    if (m.kind == MethodKind::kServerEvent && m.name == message.server_event()) method = &m;
  }
  const std::string& name = message.server_event();
  if (method == nullptr) {
    return report(absl::NotFoundError(cat("unknown server event '", name, "' from node ", message.origin())),
                  {"event", name, {}});
  }
  std::unique_ptr<google::protobuf::Message> payload(method->payload->New());
  if (!payload->ParseFromString(message.payload())) {
    return report(absl::DataLossError(cat("undecodable '", name, "' payload from node ", message.origin())),
                  {"event", name, {}});
  }
  std::vector<Listener> listeners;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    if (auto it = server_listeners_.find(absl_view(name)); it != server_listeners_.end())
      listeners = it->second;
  }
  notify(listeners, *payload, message.origin(), name);
}

void Server::on_adapter_message(std::string_view channel, const Payload& payload) {
  channel::ChannelMessage message;
  if (!message.ParseFromString(*payload)) {
    report(absl::DataLossError("undecodable adapter message"), {"channel", channel, {}});
    return;
  }
  if (channel == kServerChannel) return on_server_event(message);
  std::vector<std::shared_ptr<Conn>> recipients;
  std::vector<Listener> listeners;
  {
    std::lock_guard<std::mutex> lock(channels_mu_);
    auto it = channels_.find(absl_view(channel));
    if (it == channels_.end()) return;
    recipients.reserve(it->second->members.size());
    for (const auto& [id, conn] : it->second->members) {
      if (id != message.except_conn()) recipients.push_back(conn);
    }
    // Bus listeners heard this node's own publish at publish time (local echo), never twice.
    if (message.origin() != node_id_) {
      for (const auto& [id, listener] : it->second->listeners) listeners.push_back(listener);
    }
  }
  if (!listeners.empty()) {
    // A publish from another node reaches listeners only once parsed against the contract.
    const std::string_view topic = channel.substr(channel.rfind(':') + 1);
    const MethodInfo* method = resolve(kSharedRole, topic);
    const Wire wire = message.binary().empty() ? Wire::kJson : Wire::kProtobuf;  // binary: no JSON parse
    absl::StatusOr<WireFrame> frame =
        parse_frame(wire, wire == Wire::kJson ? message.json() : message.binary());
    std::unique_ptr<google::protobuf::Message> parsed(method ? method->payload->New() : nullptr);
    if (parsed && frame.ok() && decode_payload(wire, frame->d, *parsed).ok()) {
      notify(listeners, *parsed, message.origin(), topic);
    } else {
      report(absl::DataLossError(cat("malformed publish on ", channel, " from node ", message.origin())),
             {"event", topic, {}});
    }
  }
  if (message.close()) {
    // A code a peer may not send (1005, 2000, ...) from a broken node becomes a plain close.
    const uint32_t code = message.close_code();
    const bool usable = code == 1000 || code == 1001 || code == 1008 || code == 1011 || code == 1013 ||
                        (code >= 3000 && code <= 4999);
    for (const auto& conn : recipients)
      conn->close(usable ? static_cast<uint16_t>(code) : kCloseNormal, clip(repair_utf8(message.close_reason())));
    return;
  }
  // Encoded by the publisher; every local recipient shares these bytes.
  auto frame = std::make_shared<EncodedFrame>();
  frame->json = std::move(*message.mutable_json());
  frame->binary = std::move(*message.mutable_binary());
  // Our encoder on the publishing node made these bytes, but that node's limit may be larger than
  // ours, and what arrives through Redis is not ours to trust: checked once per fan-out.
  absl::Status fits = check_size(*frame, options_.max_outbound_message_bytes);
  if (fits.ok() && !is_utf8(frame->json)) fits = absl::DataLossError("its JSON encoding is not UTF-8");
  if (fits.ok() && !frame->binary.empty() && !parse_frame(Wire::kProtobuf, frame->binary).ok())
    fits = absl::DataLossError("its binary encoding is not a superline.wire.Frame");
  if (!fits.ok()) {
    return report(absl::ResourceExhaustedError(cat("dropped a frame on ", clip(channel), " from node ",
                                                   clip(message.origin()), ": ", std_view(fits.message()))),
                  {"channel", channel, {}});
  }
  for (const auto& conn : recipients) {
    if (in_surface(*conn, message.event_role(), message.origin())) conn->send(frame);
  }
}

// ---- Replies ----

namespace internal {

PendingReply::PendingReply(Server* server, std::weak_ptr<Conn> conn, std::string request_id,
                           std::string_view method)
    : server_(server), conn_(std::move(conn)), request_id_(std::move(request_id)), method_(method) {}

PendingReply::~PendingReply() {
  if (!done_.load()) fail(error(kInternal, "the handler dropped the request without answering"));
}

void PendingReply::reply(const google::protobuf::Message& value) {
  if (!claim()) return;
  auto conn = conn_.lock();
  if (!conn) return;
  Frame frame = reply_frame(conn->wire(), request_id_, &value);
  if (absl::Status fits = check_size(*frame, conn->max_outbound_bytes()); !fits.ok()) {
    frame = error_frame(conn->wire(), request_id_, error(kPayloadTooLarge, cat("the reply to '", clip(method_),
                                                                               "' is too large to send: ",
                                                                               std_view(fits.message()))));
  }
  conn->send(std::move(frame));
}

void PendingReply::fail(const absl::Status& status) {
  if (!claim()) return;
  auto conn = conn_.lock();
  if (is_unexpected(status)) {
    server_->report(status, {"request", method_, conn ? std::string_view(conn->id()) : std::string_view()});
  }
  if (conn) conn->send(error_frame(conn->wire(), request_id_, status));
}

}  // namespace internal
}  // namespace superline
