#include "envelope.h"

#include "superline/channel.pb.h"

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

Envelope server_event(std::string_view origin, std::string_view event, const google::protobuf::Message& payload) {
  channel::ChannelMessage message;
  message.set_server_event(std::string(event));
  message.set_payload(payload.SerializeAsString());
  return seal(message, origin);
}

}  // namespace superline::envelope
