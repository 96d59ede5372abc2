#include "delivery.h"

#include "channels.h"
#include "superline/channel.pb.h"
#include "superline/internal/text.h"
#include "superline/internal/wire.h"
#include "superline/validation.h"

namespace superline {
namespace {

// A code a peer may not send (1005, 2000, ...) from a broken node becomes a plain close.
uint16_t usable_close_code(uint32_t code) {
  const bool usable = code == 1000 || code == 1001 || code == 1008 || code == 1011 || code == 1013 ||
                      (code >= 3000 && code <= 4999);
  return usable ? static_cast<uint16_t>(code) : kCloseNormal;
}

}  // namespace

Delivery::Delivery(const ContractInfo& contract, const ServerOptions& options, std::string node_id,
                   ChannelRegistry& channels, ClusterBus& bus, ServerRequests& requests, const ServerHooks& hooks,
                   Metrics& metrics)
    : contract_(contract),
      options_(options),
      node_id_(std::move(node_id)),
      reply_channel_(channels::reply(node_id_)),
      channels_(channels),
      bus_(bus),
      requests_(requests),
      hooks_(hooks),
      metrics_(metrics) {}

void Delivery::deliver(std::string_view channel, const Envelope& envelope) {
  channel::ChannelMessage message;
  if (!message.ParseFromString(*envelope)) {
    return hooks_.report(absl::DataLossError("undecodable adapter message"), {"channel", channel, {}});
  }
  if (channel == channels::kServer) return bus_.deliver_server_event(message);
  if (channel == reply_channel_) return requests_.on_reply(message);
  const auto parsed = channels::parse(channel);
  // Bus listeners heard this node's own publish at publish time (local echo), never twice.
  const bool shared_topic =
      parsed && parsed->kind == channels::Kind::kTopic && parsed->ns == contract_.roles[kSharedRole];
  ChannelRegistry::Recipients recipients;
  if (!channels_.recipients(channel, message.except_conn(), shared_topic && message.origin() != node_id_,
                            recipients)) {
    return;
  }
  if (!recipients.listeners.empty()) bus_.deliver_topic(parsed->name, message, recipients.listeners);
  if (!message.server_request().empty()) {
    for (const auto& conn : recipients.members) requests_.on_request(conn, message);
    return;
  }
  if (message.env_null() || !message.env_type().empty()) {
    for (const auto& conn : recipients.members) set_env(*conn, message);
    return;
  }
  if (message.close()) {
    const uint16_t code = usable_close_code(message.close_code());
    const std::string reason = clip(repair_utf8(message.close_reason()));
    for (const auto& conn : recipients.members) conn->close(code, reason);
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
    return hooks_.report(absl::ResourceExhaustedError(cat("dropped a frame on ", clip(channel), " from node ",
                                                          clip(message.origin()), ": ", std_view(fits.message()))),
                         {"channel", channel, {}});
  }
  std::size_t delivered = 0;
  for (const auto& conn : recipients.members) {
    if (!in_surface(*conn, message.event_role(), message.origin())) continue;
    conn->send(frame);
    ++delivered;
  }
  metrics_.delivered(delivered);
}

void Delivery::set_env(Conn& conn, const channel::ChannelMessage& message) {
  if (message.env_null()) return conn.replace_env(nullptr);
  const google::protobuf::Message* type = conn.env_type();
  if (type == nullptr || type->GetDescriptor()->full_name() != message.env_type()) {
    return hooks_.report(absl::FailedPreconditionError(cat("an env ", clip(message.env_type()), " from node ",
                                                           clip(message.origin()), " is not connection ",
                                                           clip(conn.id()), "'s (role '", conn.role_name(), "')")),
                         {"env", message.env_type(), conn.id()});
  }
  std::shared_ptr<google::protobuf::Message> env(type->New());
  // Checked here too: another node's contract version may allow what ours does not.
  absl::Status refused;
  if (!env->ParseFromString(message.payload())) {
    refused = absl::DataLossError("its payload does not decode");
  } else if (std::vector<ValidationIssue> issues = check_constraints(*env); !issues.empty()) {
    refused = validation_error(std::move(issues));
  }
  if (!refused.ok()) {
    return hooks_.report(absl::DataLossError(cat("dropped an env for connection ", clip(conn.id()), " from node ",
                                                 clip(message.origin()), ": ", std_view(refused.message()))),
                         {"env", message.env_type(), conn.id()});
  }
  conn.replace_env(std::move(env));
}

bool Delivery::in_surface(const Conn& conn, std::string_view event_role, std::string_view from) {
  if (event_role.empty() || event_role == contract_.roles[kSharedRole] || event_role == conn.role_name()) return true;
  dropped_outside_surface_.fetch_add(1, std::memory_order_relaxed);
  hooks_.report(absl::FailedPreconditionError(cat("an event of role '", clip(event_role), "' from node ", clip(from),
                                                  " was not delivered to connection ", clip(conn.id()), " of role '",
                                                  conn.role_name(), "'")),
                {"event", event_role, conn.id()});
  return false;
}

}  // namespace superline
