#include "envelope.h"

#include "superline/channel.pb.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline::envelope {
namespace {

Envelope seal(channel::ChannelMessage& message, std::string_view origin) {
  message.set_origin(std::string(origin));
  return std::make_shared<const std::string>(message.SerializeAsString());
}

}  // namespace

Envelope frame(std::string_view origin, const EncodedFrame& frame, std::string_view except_conn,
               std::string_view event_role) {
  channel::ChannelMessage message;
  message.set_json(frame.json);
  message.set_binary(frame.binary);
  if (!except_conn.empty()) message.set_except_conn(std::string(except_conn));
  if (!event_role.empty()) message.set_event_role(std::string(event_role));
  return seal(message, origin);
}

Envelope close(std::string_view origin, uint16_t code, std::string_view reason) {
  channel::ChannelMessage message;
  message.set_close(true);
  message.set_close_code(code);
  message.set_close_reason(std::string(reason));
  return seal(message, origin);
}

Envelope server_request(std::string_view origin, std::string_view name, uint64_t id, uint32_t timeout_ms,
                        std::string payload) {
  channel::ChannelMessage message;
  message.set_server_request(std::string(name));
  message.set_request_id(id);
  message.set_timeout_ms(timeout_ms);
  message.set_payload(std::move(payload));
  return seal(message, origin);
}

Envelope server_reply(std::string_view origin, uint64_t id, const absl::StatusOr<std::string>& outcome) {
  channel::ChannelMessage message;
  message.set_request_id(id);
  if (outcome.ok()) {
    message.set_reply(true);
    message.set_payload(*outcome);
  } else {
    message.set_error_code(error_code(outcome.status()));
    message.set_error_message(std::string(outcome.status().message()));
    if (std::vector<ValidationIssue> issues = validation_issues(outcome.status()); !issues.empty())
      message.set_issues(encode_issues(Wire::kProtobuf, issues));
  }
  return seal(message, origin);
}

Envelope env(std::string_view origin, const google::protobuf::Message* env) {
  channel::ChannelMessage message;
  if (env == nullptr) {
    message.set_env_null(true);
  } else {
    message.set_env_type(env->GetDescriptor()->full_name());
    message.set_payload(env->SerializeAsString());
  }
  return seal(message, origin);
}

Envelope server_event(std::string_view origin, std::string_view event, const google::protobuf::Message& payload) {
  channel::ChannelMessage message;
  message.set_server_event(std::string(event));
  message.set_payload(payload.SerializeAsString());
  return seal(message, origin);
}

}  // namespace superline::envelope
