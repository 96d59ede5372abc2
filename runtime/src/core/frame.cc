// Payload and fan-out frame encoding for both wires.
#include "superline/frame.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "json_check.h"

#include "superline/status.h"
#include "superline/validation.h"
#include "superline/internal/text.h"
#include "superline/internal/wire.h"

namespace superline {
namespace {

std::string payload_json(const google::protobuf::Message& payload) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;  // a client sees "ok":false, never a missing key
  std::string out;
  // Printing a valid message only fails for invalid UTF-8 in a string field; send {} rather than
  // half a payload.
  if (!google::protobuf::util::MessageToJsonString(payload, &out, options).ok()) out = "{}";
  return out;
}

absl::Status decode_json_payload(std::string_view json, google::protobuf::Message& out, bool strict) {
  out.Clear();
  if (json.empty() || json == "null") return absl::OkStatus();
  {
    unsigned char buffer[4096];
    boost::json::monotonic_resource arena(buffer, sizeof(buffer));
    boost::json::parse_options limits;
    limits.max_depth = 64;
    boost::system::error_code ec;
    const boost::json::value parsed =
        boost::json::parse(boost::json::string_view(json.data(), json.size()), ec, &arena, limits);
    if (ec) return validation_error({ValidationIssue{{}, std::string(kInvalidType), "payload is not JSON: " + ec.message()}});
    if (std::optional<ValidationIssue> wrong = check_json_values(parsed, *out.GetDescriptor())) {
      return validation_error({*std::move(wrong)});
    }
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = !strict;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &out, options);
  if (status.ok()) return absl::OkStatus();
  // What check_json_values does not see: a number out of range, bad base64, an unknown field in
  // strict mode. protobuf names no field in a way worth parsing; the issue has the whole payload.
  return validation_error(
      {ValidationIssue{{}, std::string(kInvalidType), std::string(status.message().data(), status.message().size())}});
}

// The frame in both encodings; `frame.d` is filled per wire from `payload`.
SharedFrame encode_both(WireFrame frame, const google::protobuf::Message& payload) {
  auto out = std::make_shared<EncodedFrame>();
  frame.has_d = true;
  frame.d = payload_json(payload);
  out->json = encode_frame(Wire::kJson, frame);
  frame.d = payload.SerializeAsString();
  out->binary = encode_frame(Wire::kProtobuf, frame);
  return out;
}

}  // namespace

std::string encode_payload(Wire wire, const google::protobuf::Message& payload) {
  return wire == Wire::kJson ? payload_json(payload) : payload.SerializeAsString();
}

absl::Status check_size(const EncodedFrame& frame, std::size_t limit) {
  const std::size_t size = std::max(frame.json.size(), frame.binary.size());
  if (size <= limit) return absl::OkStatus();
  return error(kPayloadTooLarge, cat("the frame would be ", size, " bytes, over the ", limit, "-byte limit"));
}

SharedFrame encode_event(std::string_view event, const google::protobuf::Message& payload) {
  WireFrame frame;
  frame.t = "evt";
  frame.e = event;
  return encode_both(std::move(frame), payload);
}

SharedFrame encode_publish(std::string_view topic, const google::protobuf::Message& payload,
                     std::string_view node_id) {
  WireFrame frame;
  frame.t = "pub";
  frame.c = topic;
  frame.nd = node_id;
  return encode_both(std::move(frame), payload);
}

absl::Status decode_payload(Wire wire, std::string_view data, google::protobuf::Message& out, bool strict) {
  if (wire == Wire::kJson) return decode_json_payload(data, out, strict);
  out.Clear();
  if (!out.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return validation_error({ValidationIssue{{}, std::string(kInvalidType), "payload is not a valid " + out.GetTypeName()}});
  }
  return absl::OkStatus();
}

}  // namespace superline
