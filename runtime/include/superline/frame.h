// Encoding of server->client frames in the superline.v1 JSON wire. A frame is encoded once and the
// same bytes are shared by every recipient's write queue.
// Thread-safety: free functions, no shared state.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace superline {

// An encoded frame, shared read-only by every queue it is written to.
using Frame = std::shared_ptr<const std::string>;

// A payload in protobuf's JSON mapping, printing fields at their default values too.
std::string payload_json(const google::protobuf::Message& payload);

Frame encode_event(std::string_view event, const google::protobuf::Message& payload);
Frame encode_publish(std::string_view topic, const google::protobuf::Message& payload,
                     std::string_view node_id);

}  // namespace superline

namespace superline {

// Parses a payload from protobuf's JSON mapping into `out`. "null" or an empty view is the empty
// message. Unknown fields are ignored unless `strict`. A malformed value is INVALID_ARGUMENT.
absl::Status decode_payload(std::string_view json, google::protobuf::Message& out, bool strict = false);

}  // namespace superline
