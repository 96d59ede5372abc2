// The transport's side of the server: a connection's admission and lifetime, and its inbound
// frames up to the dispatcher.
#include "superline/internal/transport_port.h"

#include <exception>

#include "channel_registry.h"
#include "channels.h"
#include "connection_registry.h"
#include "dispatcher.h"
#include "random_id.h"
#include "server_frames.h"
#include "server_hooks.h"
#include "server_requests.h"
#include "superline/internal/log.h"
#include "superline/internal/text.h"
#include "superline/internal/wire.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline::internal {

absl::StatusOr<Admission> TransportPort::authenticate(const Handshake& handshake) const {
  const ServerHooks& hooks = *server_.hooks_;
  if (!hooks.authenticator) return Admission{};
  absl::StatusOr<Admission> admission;
  try {
    admission = hooks.authenticator(handshake);
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(e.what());
  } catch (...) {
    return absl::UnauthenticatedError("authenticator threw");
  }
  const ContractInfo& contract = server_.contract_;
  if (admission.ok() && (admission->role < 0 || admission->role >= static_cast<int>(contract.roles.size()))) {
    const absl::Status wrong = absl::InternalError(
        cat("authenticator returned role index ", admission->role, ", not a role of contract ", contract.name));
    hooks.report(wrong, {"connection", "authenticate", {}});
    return wrong;
  }
  return admission;
}

std::shared_ptr<const google::protobuf::Message> TransportPort::admitted_env(
    const Conn& conn, std::shared_ptr<const google::protobuf::Message> env) const {
  if (env == nullptr) return nullptr;
  // As super-line does with an env its schema refuses: the connection is kept, its env is null.
  absl::Status wrong;
  if (conn.env_type_ == nullptr || env->GetDescriptor() != conn.env_type_->GetDescriptor()) {
    wrong = absl::InternalError(cat("authenticator admitted a connection of role '", conn.role_name(), "' with env ",
                                    env->GetDescriptor()->full_name(), "; the role's env is ",
                                    conn.env_type_ ? conn.env_type_->GetDescriptor()->full_name() : "none"));
  } else if (std::vector<ValidationIssue> issues = check_constraints(*env); !issues.empty()) {
    wrong = absl::InternalError(cat("authenticator admitted an env that fails the contract: ",
                                    std_view(validation_error(std::move(issues)).message())));
  }
  if (wrong.ok()) return env;
  server_.hooks_->report(wrong, {"connection", "authenticate", conn.id()});
  return nullptr;
}

std::shared_ptr<Conn> TransportPort::open(Admission admission, std::shared_ptr<Outbox> outbox, Wire wire) {
  const int role = admission.role;
  std::string id = admission.conn_id.empty() ? random_uuid() : std::move(admission.conn_id);
  auto conn = std::make_shared<Conn>(std::move(id), role, server_.contract_.roles[static_cast<size_t>(role)],
                                     std::move(admission.ctx), std::move(admission.user_id), std::move(outbox), wire,
                                     server_.options_.max_outbound_message_bytes, &server_.options_.log);
  conn->requests_ = server_.requests_;
  conn->env_type_ = server_.contract_.envs.empty() ? nullptr : server_.contract_.envs[static_cast<size_t>(role)];
  std::shared_ptr<const google::protobuf::Message> env = admitted_env(*conn, std::move(admission.env));
  if (!server_.conns_->add(conn)) return nullptr;  // duplicate id
  server_.metrics_->connection_opened(role);
  // First, even without an env (null): super-line clients resolve env.ready on it.
  conn->replace_env(std::move(env));
  // Personal channels, so to_conn/to_user reach this connection from any node.
  server_.channels_->join(conn, channels::conn(conn->id()), nullptr);
  if (!conn->user_id().empty()) server_.channels_->join(conn, channels::user(conn->user_id()), nullptr);
  if (Presence* presence = server_.adapter_->presence()) presence->add(server_.node_id_, conn->id(), conn->user_id());
  const ServerHooks& hooks = *server_.hooks_;
  if (hooks.on_connection) {
    try {
      hooks.on_connection(*conn);
    } catch (const std::exception& e) {
      hooks.report(absl::InternalError(e.what()), {"connection", "on_connection", conn->id()});
    }
  }
  return conn;
}

void TransportPort::closed(const std::shared_ptr<Conn>& conn, uint16_t code) {
  if (!server_.conns_->remove(*conn)) return;
  server_.metrics_->connection_closed(code);
  server_.channels_->leave_all(*conn);
  server_.requests_->closed(*conn);  // its unanswered server requests fail DISCONNECTED at their origins
  if (Presence* presence = server_.adapter_->presence())
    presence->remove(server_.node_id_, conn->id(), conn->user_id());
  const ServerHooks& hooks = *server_.hooks_;
  if (hooks.on_disconnect) {
    try {
      hooks.on_disconnect(*conn, code);
    } catch (const std::exception& e) {
      hooks.report(absl::InternalError(e.what()), {"disconnect", "on_disconnect", conn->id()});
    }
  }
}

void TransportPort::receive(const std::shared_ptr<Conn>& conn, std::string_view data) {
  absl::StatusOr<WireFrame> frame = parse_frame(conn->wire(), data);
  if (!frame.ok()) return send_error(*conn, {}, error(kBadRequest, std_view(frame.status().message())));
  const ServerOptions& options = server_.options_;
  const std::string& t = frame->t;
  if (options.max_requests_per_second > 0 && (t == "req" || t == "cev" || t == "sub")) {
    if (!conn->take_token(options.max_requests_per_second)) {
      server_.metrics_->rate_limited();
      if (++conn->refused_in_a_row_ >= options.rate_limit_close_after) {
        server_.metrics_->rate_limit_closed();
        static KindThrottle throttle;
        log_throttled(throttle, options.log, LogLevel::kWarning, "closed a connection that stayed over its request rate",
                      {{"conn", clip(conn->id())}, {"refused_in_a_row", cat(conn->refused_in_a_row_)}});
        return conn->close(kClosePolicy, "rate limit exceeded");
      }
      if (t == "cev") return;  // no reply to send
      return send_error(*conn, frame->i, error(kRateLimited, "Rate limit exceeded"));
    }
    conn->refused_in_a_row_ = 0;
  }
  Dispatcher& dispatcher = *server_.dispatcher_;
  if (t == "req") {
    if (frame->i.empty()) return send_error(*conn, {}, error(kBadRequest, "req without \"i\""));
    if (frame->m.empty()) return send_error(*conn, frame->i, error(kBadRequest, "req without \"m\""));
    return dispatcher.request(conn, frame->i, frame->m, frame->d);
  }
  if (t == "cev") {
    if (frame->m.empty()) return send_error(*conn, {}, error(kBadRequest, "cev without \"m\""));
    return dispatcher.client_event(conn, frame->m, frame->d);
  }
  if (t == "sub") {
    if (frame->i.empty()) return send_error(*conn, {}, error(kBadRequest, "sub without \"i\""));
    if (frame->c.empty()) return send_error(*conn, frame->i, error(kBadRequest, "sub without \"c\""));
    return dispatcher.subscribe(conn, frame->i, frame->c);
  }
  if (t == "unsub") return dispatcher.unsubscribe(conn, frame->c);
  if (t == "sres" || t == "serr") return server_.requests_->on_answer(conn, *frame);  // unknown ids: silence
  if (t == "pong") {
    conn->missed_pongs_.store(0);
    return;
  }
  if (t == "ping") return;  // super-line's server ignores client pings too
  send_error(*conn, frame->i, error(kBadRequest, cat("unknown frame type \"", clip(t), "\"")));
}

void TransportPort::heartbeat() {
  const ServerOptions& options = server_.options_;
  if (Presence* presence = server_.adapter_->presence())
    presence->beat(server_.node_id_, options.node_name, options.presence_ttl);
  for (const auto& conn : server_.conns_->snapshot()) {
    if (conn->missed_pongs_.load() >= options.max_missed_pongs) {
      if (auto outbox = conn->outbox_.lock()) outbox->terminate();
      continue;
    }
    conn->missed_pongs_.fetch_add(1);
    conn->send(ping_frame());
  }
}

void TransportPort::shutdown() {
  // Leave the cluster's view at once rather than after the liveness TTL.
  if (Presence* presence = server_.adapter_->presence()) presence->clear_node(server_.node_id_);
  for (const auto& conn : server_.conns_->snapshot()) conn->close(kCloseGoingAway, "server shutting down");
}

void TransportPort::terminate_all() {
  for (const auto& conn : server_.conns_->snapshot()) {
    if (auto outbox = conn->outbox_.lock()) outbox->terminate();
  }
}

Metrics& TransportPort::metrics() { return *server_.metrics_; }

void TransportPort::set_state(ServingState state) { server_.state_.store(state); }

bool TransportPort::is_admin_path(std::string_view path) {
  const std::string_view bare = path.substr(0, path.find('?'));
  return bare == "/metrics" || bare == "/health" || bare == "/ready";
}

TransportPort::AdminAnswer TransportPort::admin(std::string_view path) const {
  const std::string_view bare = path.substr(0, path.find('?'));
  if (!is_admin_path(bare)) return {};
  const ServerStats stats = server_.stats();
  AdminAnswer answer;
  answer.status = 200;
  if (bare == "/metrics") {
    // The Prometheus text format, version 0.0.4.
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    answer.body = server_.metrics_->render(stats);
    return answer;
  }
  answer.content_type = "application/json";
  std::string node;
  append_json_string(node, server_.options_.node_name);
  const std::string common = cat(R"("state":")", serving_state_name(stats.state), R"(","node":)", node,
                                 R"(,"uptime_seconds":)", static_cast<uint64_t>(stats.uptime_seconds),
                                 R"(,"connections":)", stats.connections, R"(,"adapter":")",
                                 stats.adapter_connected ? "connected" : "degraded", "\"");
  if (bare == "/health") {
    // Alive while the process answers at all, draining included: restarting it would not help.
    answer.body = cat(R"({"status":"ok",)", common, "}\n");
    return answer;
  }
  if (!stats.ready) answer.status = 503;
  std::string reason;
  append_json_string(reason, stats.not_ready);
  answer.body = cat(R"({"ready":)", stats.ready ? "true" : "false", ",", common,
                    stats.ready ? std::string() : cat(R"(,"reason":)", reason), "}\n");
  return answer;
}

void TransportPort::count_dropped_frame() { server_.dropped_frames_.fetch_add(1, std::memory_order_relaxed); }

}  // namespace superline::internal
