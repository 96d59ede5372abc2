// What crosses the adapter: a superline.channel.ChannelMessage, serialized once per publish. The
// three things a node publishes are built here only.
// Thread-safety: free functions, no shared state.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "superline/adapter.h"
#include "superline/frame.h"

namespace superline::envelope {

// A client frame for a channel's members (both encodings it carries), skipping `except_conn`;
// `event_role` names the role whose event it is on a personal channel (empty: shared).
Envelope frame(std::string_view origin, const EncodedFrame& frame, std::string_view except_conn = {},
               std::string_view event_role = {});
// Closes the connection(s) of a personal channel with `code` and `reason`.
Envelope close(std::string_view origin, uint16_t code, std::string_view reason);
// A server request for the connection of a c:<conn> channel (payload in binary encoding).
Envelope server_request(std::string_view origin, std::string_view name, uint64_t id, uint32_t timeout_ms,
                        std::string payload);
// Its answer, for reply:<origin>: the reply in binary encoding, or the error (VALIDATION's issues).
Envelope server_reply(std::string_view origin, uint64_t id, const absl::StatusOr<std::string>& outcome);
// Replaces the env of a personal channel's connection(s): `env` (null: the env becomes null).
Envelope env(std::string_view origin, const google::protobuf::Message* env);
// A node-to-node event, its payload in protobuf's binary encoding.
Envelope server_event(std::string_view origin, std::string_view event, const google::protobuf::Message& payload);

}  // namespace superline::envelope
