#include "server_frames.h"

#include "superline/internal/text.h"
#include "superline/internal/wire.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline {
namespace {

// A frame in one wire's encoding only: a reply goes to one connection.
SharedFrame single(Wire wire, const WireFrame& frame) {
  auto out = std::make_shared<EncodedFrame>();
  (wire == Wire::kJson ? out->json : out->binary) = encode_frame(wire, frame);
  return out;
}

// A frame of type `t` without payload (JSON "d":null if `null_d`), in both wires.
SharedFrame constant_frame(std::string_view t, bool null_d) {
  WireFrame frame;
  frame.t = t;
  auto out = std::make_shared<EncodedFrame>();
  out->binary = encode_frame(Wire::kProtobuf, frame);
  frame.has_d = null_d;
  frame.d = "null";
  out->json = encode_frame(Wire::kJson, frame);
  return out;
}

}  // namespace

bool is_unexpected(const absl::Status& status) { return error_code(status) == kInternal && !has_wire_code(status); }

SharedFrame env_frame(Wire wire, const google::protobuf::Message* env) {
  if (env == nullptr) {
    static const SharedFrame null_env = constant_frame("env", /*null_d=*/true);
    return null_env;
  }
  WireFrame frame;
  frame.t = "env";
  frame.has_d = true;
  frame.d = encode_payload(wire, *env);
  return single(wire, frame);
}

const SharedFrame& ping_frame() {
  static const SharedFrame frame = constant_frame("ping", /*null_d=*/false);
  return frame;
}

SharedFrame error_frame(Wire wire, std::string_view id, const absl::Status& status) {
  WireFrame frame;
  frame.t = "err";
  frame.i = id;
  frame.code = error_code(status);
  if (frame.code == kValidation) {
    // super-line's shape on both wires: "Validation failed", the issues in "d" (JSON: the array
    // itself; binary: a superline.wire.ValidationIssues).
    frame.m = "Validation failed";
    frame.has_d = true;
    frame.d = encode_issues(wire, validation_issues(status));
  } else {
    frame.m = is_unexpected(status) ? "Internal server error" : std::string(std_view(status.message()));
  }
  return single(wire, frame);
}

SharedFrame request_frame(Wire wire, std::string_view id, std::string_view name,
                          const google::protobuf::Message& payload) {
  WireFrame frame;
  frame.t = "sreq";
  frame.i = id;
  frame.m = name;
  frame.has_d = true;
  frame.d = encode_payload(wire, payload);
  return single(wire, frame);
}

SharedFrame reply_frame(Wire wire, std::string_view id, const google::protobuf::Message* value) {
  WireFrame frame;
  frame.t = "res";
  frame.i = id;
  frame.has_d = value != nullptr || wire == Wire::kJson;
  if (value) frame.d = encode_payload(wire, *value);
  return single(wire, frame);
}

}  // namespace superline
