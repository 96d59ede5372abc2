// The frames the server itself writes to a client: answers (res, err) to one connection in its
// own wire, and the constant env and ping frames, encoded once per process in both wires.
// Thread-safety: free functions; the constant frames are immutable once made.
#pragma once

#include <google/protobuf/message.h>

#include <string_view>

#include "absl/status/status.h"
#include "superline/frame.h"

namespace superline {

SharedFrame error_frame(Wire wire, std::string_view id, const absl::Status& status);
// The answer to a request (`value`) or a subscription (null: JSON "d":null, no payload in binary).
SharedFrame reply_frame(Wire wire, std::string_view id, const google::protobuf::Message* value);
// The env frame for a connection in `wire`: `env`, or null ({"t":"env","d":null}).
SharedFrame env_frame(Wire wire, const google::protobuf::Message* env);
const SharedFrame& ping_frame();
// A server request `name` with server request id `id`, carrying `payload`.
SharedFrame request_frame(Wire wire, std::string_view id, std::string_view name,
                          const google::protobuf::Message& payload);

// Statuses whose text is for the server's log only: an unexpected failure must not leak detail.
bool is_unexpected(const absl::Status& status);

}  // namespace superline
